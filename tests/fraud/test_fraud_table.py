"""Training on a team's own table: ID columns dropped with a warning, categories used, bad tables refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraud.estimator import FraudClassifier
from fraud.table import TABLE_MODEL_NAME, find_id_columns, train_from_table
from pipeline.errors import BadInputError
from pipeline.registry import ModelRegistry


def _table(rows: int = 3_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    region = rng.choice(["north", "south", "east", "west"], rows)
    amount = rng.lognormal(6, 1, rows)
    visits = rng.poisson(2, rows)
    logit = -5 + 2.5 * (region == "east") + 1.2 * np.log(amount / 400) + 0.4 * visits
    fraud = rng.random(rows) < 1 / (1 + np.exp(-logit))
    amount[rng.random(rows) < 0.05] = np.nan  # missing values are allowed
    return pd.DataFrame(
        {
            "claim_id": [f"C{i:06d}" for i in range(rows)],
            "submitted": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(np.sort(rng.integers(0, 300 * 86_400, rows)), "s"),
            "region": region,
            "amount": amount,
            "visits": visits,
            "fraud": fraud.astype(int),
        }
    )


def test_csv_with_id_and_categorical_columns(tmp_path: Path) -> None:
    table = _table()
    path = tmp_path / "claims.csv"
    table.to_csv(path, index=False)
    registry = ModelRegistry(tmp_path / "models")
    with pytest.warns(UserWarning) as record:
        report = train_from_table(path, "fraud", None, registry, classifier=FraudClassifier(n_jobs=1))
    assert any("claim_id" in str(w.message) for w in record)
    assert any("random split" in str(w.message) for w in record)
    assert report.dropped_columns == ["claim_id"]
    assert "region" in report.params["categorical"] and "claim_id" not in report.features
    assert report.metrics["roc_auc"] > 0.75
    assert report.version and report.champion
    card = registry.card(TABLE_MODEL_NAME, report.version)
    assert card.metrics["roc_auc"] == pytest.approx(report.metrics["roc_auc"])
    assert card.params["dropped_columns"] == ["claim_id"]
    model, _ = registry.load(TABLE_MODEL_NAME)
    p = model.predict_proba(table.drop(columns=["fraud"]).head(50))[:, 1]
    assert ((p >= 0) & (p <= 1)).all()
    assert "dropped ID-like columns: claim_id" in report.render()


def test_parquet_with_time_column(tmp_path: Path) -> None:
    path = tmp_path / "claims.parquet"
    _table(seed=1).to_parquet(path)
    with pytest.warns(UserWarning, match="claim_id") as record:
        report = train_from_table(path, "fraud", "submitted", None, classifier=FraudClassifier(n_jobs=1))
    assert not any("random split" in str(w.message) for w in record)
    assert report.split.startswith("time by 'submitted'") and report.metrics["by_month"]
    assert report.version is None


def test_id_like_columns() -> None:
    df = pd.DataFrame(
        {
            "claim_no": range(100),
            "phone": [f"138{i:08d}" for i in range(100)],
            "region": ["a", "b"] * 50,
            "amount": np.linspace(1, 2, 100),
            "visits": [1, 2, 3, 4] * 25,
        }
    )
    assert find_id_columns(df) == ["claim_no", "phone"]


@pytest.mark.parametrize(
    ("make", "label", "problem"),
    [
        (lambda p: p.write_bytes(b"\x00\x01 not a parquet file"), "fraud", "cannot read"),
        (lambda p: _table().to_parquet(p), "is_fraud", "no label column 'is_fraud'"),
        (lambda p: _table().assign(fraud=np.arange(3_000) % 3).to_parquet(p), "fraud", "not binary"),
        (
            lambda p: _table().assign(fraud=(np.arange(3_000) < 3).astype(int)).to_parquet(p),
            "fraud",
            "too few",
        ),
    ],
)
def test_bad_tables(tmp_path: Path, make, label: str, problem: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.parquet"
    make(path)
    with pytest.raises(BadInputError, match=problem) as err:
        train_from_table(path, label, None, None)
    assert str(path) in str(err.value)


def test_missing_file_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file"):
        train_from_table(tmp_path / "nope.csv", "fraud", None, None)
    other = tmp_path / "claims.xlsx"
    other.write_bytes(b"PK")
    with pytest.raises(BadInputError, match=r"csv or \.parquet"):
        train_from_table(other, "fraud", None, None)

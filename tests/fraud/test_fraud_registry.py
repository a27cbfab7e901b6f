"""The fraud model in the registry: a frozen holdout that later challengers never learn from and are
judged on against the champion, plots in the card, and a batch path that transforms only the past
that matters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraud.estimator import FraudClassifier
from fraud.promotion import MODEL_NAME, holdout_metrics, past_needed
from fraud.scoring import FraudScorer
from fraud.training import TRAINING_STEPS, train_fraud_model
from pipeline.registry import ModelRegistry
from synth.history import generate_history


def test_holdout_frozen_once_and_challengers_judged_on_it(tmp_path: Path, history: pd.DataFrame) -> None:
    registry = ModelRegistry(tmp_path / "models")
    clf = FraudClassifier(n_estimators=120, n_jobs=1)
    early = history[history["claim_time"] < "2024-07-01"]
    _, first = train_fraud_model(early, registry=registry, classifier=clf, test_months=2, margin=0.0)
    frozen = registry.holdout(MODEL_NAME)
    assert frozen is not None and first.champion and first.holdout_hash == frozen.hash
    held = (early["claim_time"] >= "2024-05-01").sum()
    assert frozen.rows == held and "2024-05..2024-06" in frozen.description
    card = registry.card(MODEL_NAME, first.version or "")
    assert card.holdout_hash == frozen.hash and card.metrics["holdout"]["n"] == held
    # the holdout carries the past its features need, so it scores as the test months did
    assert card.metrics["holdout"]["roc_auc"] == pytest.approx(card.metrics["roc_auc"], abs=2e-3)
    assert set(card.plots) == {f"plots/{p}.png" for p in ("roc", "pr", "calibration", "importance")}
    for path in registry.plots(MODEL_NAME, card.version).values():
        assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 5_000

    # a challenger trained on more months: the held-out claims are left out of its training
    heard: list[str] = []
    _, second = train_fraud_model(
        history, registry=registry, classifier=clf, margin=0.0, on_step=heard.append
    )
    assert heard == list(TRAINING_STEPS)  # each step named as it begins, for a progress display
    assert registry.holdout(MODEL_NAME) == frozen  # never replaced
    assert any(f"{held} claims of the frozen holdout" in w for w in second.warnings)
    verdict = second.challenge
    assert verdict is not None and verdict["on"] == "holdout" and verdict["holdout_hash"] == frozen.hash
    assert verdict["champion"] == first.version
    assert verdict["champion_value"] == pytest.approx(card.metrics["holdout"]["pr_auc"])
    assert verdict["challenger_value"] == pytest.approx(second.holdout_metrics["pr_auc"])
    assert second.champion == (verdict["gain"] >= 0.0)
    assert registry.champion(MODEL_NAME) == (second.version if second.champion else first.version)
    # scoring the holdout file by hand gives what the registry recorded
    model, _ = registry.load(MODEL_NAME, second.version)
    again = holdout_metrics(model, registry.holdout_file(MODEL_NAME))
    assert again["pr_auc"] == pytest.approx(second.holdout_metrics["pr_auc"])

    # a challenger that cannot win by the margin stays a challenger
    _, third = train_fraud_model(history, registry=registry, classifier=clf, margin=1.0)
    assert third.challenge is not None and not third.champion
    assert registry.champion(MODEL_NAME) != third.version
    assert [c.challenger for c in registry.challenges(MODEL_NAME)] == [
        first.version,
        second.version,
        third.version,
    ]


def test_batch_scoring_transforms_only_the_past_that_matters(tmp_path: Path, trained) -> None:  # type: ignore[no-untyped-def]
    model, _ = trained
    summary = generate_history(30_000, tmp_path / "long.parquet", seed=5, months=48)
    long = pd.read_parquet(summary.path)
    claims, past = long.iloc[-500:], long.iloc[:-500]
    keep = past_needed(claims, past)
    assert 0.4 < keep.mean() < 0.7  # about the last two of four years, and the shared entities
    full = model.named_steps["features"].transform(long)
    expected = model.named_steps["classifier"].predict_proba(full.iloc[-500:])[:, 1]
    np.testing.assert_allclose(FraudScorer(model).score_frame(claims, past)["score"], expected, atol=1e-6)


def test_team_table_holdout_is_frozen_and_kept_out_of_later_training(tmp_path: Path) -> None:
    from fraud.table import TABLE_MODEL_NAME, train_from_table

    rng = np.random.default_rng(2)
    rows = 4_000
    region = rng.choice(["north", "south", "east", "west"], rows)
    amount = rng.lognormal(6, 1, rows)
    logit = -4 + 2.5 * (region == "east") + 1.2 * np.log(amount / 400)
    table = pd.DataFrame(
        {
            "claim_id": [f"C{i:06d}" for i in range(rows)],
            "submitted": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(rows) * 3_600, "s"),
            "region": region,
            "amount": amount.round(2),
            "fraud": (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )
    first_path, all_path = tmp_path / "first.csv", tmp_path / "all.csv"
    table.iloc[:2_800].to_csv(first_path, index=False)
    table.to_csv(all_path, index=False)
    registry = ModelRegistry(tmp_path / "models")
    clf = FraudClassifier(n_jobs=1, n_estimators=100)
    heard: list[str] = []
    with pytest.warns(UserWarning):
        first = train_from_table(first_path, "fraud", "submitted", registry, classifier=clf)
    frozen = registry.holdout(TABLE_MODEL_NAME)
    assert frozen is not None and frozen.rows == 560 and first.holdout_hash == frozen.hash
    assert first.holdout_metrics["n"] == 560 and len(first.plots) == 4
    with pytest.warns(UserWarning):
        second = train_from_table(
            all_path, "fraud", "submitted", registry, classifier=clf, promote="never", on_step=heard.append
        )
    assert heard == list(TRAINING_STEPS)
    assert any("560 rows of the frozen holdout" in w for w in second.warnings)
    assert second.holdout_metrics["n"] == 560 and second.challenge is None
    verdict = registry.challenge(
        TABLE_MODEL_NAME, second.version or "", "pr_auc", evaluate=holdout_metrics, margin=0.0
    )
    assert verdict.on == "holdout" and verdict.champion == first.version
    assert verdict.champion_value == pytest.approx(first.holdout_metrics["pr_auc"])

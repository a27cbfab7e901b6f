"""The `claims` command as a user runs it: human output, `--json` as the last line, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from flows.cli import app
from pipeline.registry import ModelCard
from pipeline.settings import Settings, get_settings


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _batch(root: Path) -> Path:
    folder = root / "batch"
    (folder / "C1").mkdir(parents=True)
    Image.new("RGB", (64, 48), "white").save(folder / "C1" / "invoice.jpg")
    (folder / "C1" / "fake.jpg").write_text("<html>not an image</html>")
    (folder / "claims.csv").write_text(
        "claim_id,policy_number,claimant,incident_date,submitted_at,channel\n"
        "C1,P1,张三,2026-02-01,2026-02-03T10:00:00,app\n",
        encoding="utf-8",
    )
    return folder


def test_ingest_json_summary_is_last_line(env: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", str(_batch(env)), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["claims"] == 1
    assert summary["documents_stored"] == 1
    assert summary["documents_quarantined"] == 1
    assert "fake.jpg" in json.dumps(summary, ensure_ascii=False)
    assert (env / "data" / "claims.db").exists()


def test_ingest_unreadable_batch_is_one_clear_error(env: Path) -> None:
    empty = env / "empty"
    empty.mkdir()
    result = CliRunner().invoke(app, ["ingest", str(empty), "--json"])
    assert result.exit_code == 2
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["ok"] is False
    assert "claims.csv" in last["error"]


def test_fraud_history_and_table_training(env: Path) -> None:
    runner = CliRunner()
    hist = env / "h.parquet"
    r = runner.invoke(app, ["synth", "history", "--rows", "6000", "--out", str(hist), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["rows"] == 6000
    r = runner.invoke(
        app, ["fraud", "train", "--table", str(hist), "--label", "is_fraud", "--time", "claim_time", "--json"]
    )
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["model"] == "fraud-table" and report["version"]
    assert "claims fraud train done: 5 of 5 steps in" in r.stderr  # each step shown, then the summary
    assert "claim_id" in report["dropped_columns"]
    assert (env / "data" / "models" / "fraud-table" / report["version"] / "model_card.json").exists()
    r = runner.invoke(app, ["fraud", "train", "--table", str(hist), "--json"])
    assert r.exit_code == 2 and "--label" in r.stdout


def test_gate_training_and_backtest(env: Path) -> None:
    from synth.documents import generate_corpus

    runner = CliRunner()
    r = runner.invoke(app, ["models", "train", "gate", "--claims", "800", "--json"])
    assert r.exit_code == 0, r.output
    card = json.loads(r.stdout.strip().splitlines()[-1])
    assert card["name"] == "adjudication-gate" and 0 <= card["metrics"]["brier"] <= 1
    step = "train gate: step 1 of 1: generating data, training and judging on the frozen holdout"
    assert step in r.stderr
    corpus = env / "corpus"
    generate_corpus(corpus, 150, seed=4, render=False)
    r = runner.invoke(
        app, ["rules", "backtest", "--from", "2025.1", "--to", "2026.1", "--claims", str(corpus), "--json"]
    )
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["claims"] == 150 and report["amounts_changed"] > 0
    r = runner.invoke(
        app, ["rules", "backtest", "--from", "2025.1", "--to", "1999.9", "--claims", str(corpus)]
    )
    assert r.exit_code == 2 and "1999.9" in r.output


def test_doc_type_training_and_extract(env: Path) -> None:
    from synth.documents import generate_corpus

    runner = CliRunner()
    r = runner.invoke(app, ["extract", str(env / "nothing.jpg"), "--json"])
    assert r.exit_code == 2
    corpus = env / "corpus"
    generate_corpus(corpus, 30, seed=8, render=False)
    from classifiers.doc_type import freeze_holdout
    from pipeline.registry import ModelRegistry
    from synth.doc_samples import doc_type_holdout_set

    registry = ModelRegistry(get_settings().models_dir)
    freeze_holdout(registry, lambda: doc_type_holdout_set(4))  # a small one, which training keeps
    r = runner.invoke(app, ["models", "train", "doc-type", "--corpus", str(corpus), "--json"])
    assert r.exit_code == 0, r.output
    card = json.loads(r.stdout.strip().splitlines()[-1])
    assert card["metrics"]["accuracy"] >= 0.9 and card["metrics"]["holdout"]["macro_f1"] > 0
    assert card["holdout_hash"] == registry.holdout("doc-type").hash  # type: ignore[union-attr]
    assert [c["reason"] for c in card["challenges"]] == ["no champion yet"]
    sample = Path(__file__).resolve().parents[2] / "sample_docs" / "C0002" / "id_card_1.webp"
    r = runner.invoke(app, ["extract", str(sample), "--json"])
    assert r.exit_code == 0, r.output
    ex = json.loads(r.stdout.strip().splitlines()[-1])
    assert ex["doc_type"] == "id_card"
    assert {f["name"] for f in ex["fields"]} >= {"name", "id_number"}
    assert all(f["box"] for f in ex["fields"])


def test_extract_on_a_fresh_install_trains_its_first_model(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No `claims models train` first: extract trains the doc-type model and says so, as `run` does."""
    from flows import models

    def small_doc_type(settings: Settings) -> ModelCard:
        return models.train_doc_type_model(settings, claims=30, holdout_claims=6)

    small = {**models.TRAINERS, "doc-type": small_doc_type}
    monkeypatch.setattr(models, "TRAINERS", small)
    sample = Path(__file__).resolve().parents[2] / "sample_docs" / "C0002" / "id_card_1.webp"
    r = CliRunner().invoke(app, ["extract", str(sample), "--json"])
    assert r.exit_code == 0, r.output
    assert "trained doc-type" in r.output and "(first run)" in r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["doc_type"] == "id_card"

"""`claims models list|show|promote|rollback` over a registry of two small fraud models, and
`promote` judging doc-type and gate challengers on their frozen holdouts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from pipeline.settings import get_settings


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """A data dir whose registry holds fraud v1 (champion, froze the holdout) and v2 (challenger)."""
    from fraud.estimator import FraudClassifier
    from fraud.training import train_fraud_model
    from pipeline.registry import ModelRegistry
    from synth.history import generate_history

    root = tmp_path_factory.mktemp("models-cli")
    registry = ModelRegistry(root / "data" / "models")
    summary = generate_history(30_000, root / "h.parquet", seed=3)
    clf = FraudClassifier(n_estimators=80, n_jobs=1)
    versions = []
    for promote in ("if_better", "never"):
        _, report = train_fraud_model(summary.path, registry=registry, classifier=clf, promote=promote)
        versions.append(report.version or "")
    yield root, versions


def _run(home: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, dict]:
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(home / "data"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["models", *args, "--json"])
    finally:
        get_settings.cache_clear()
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])


def test_list_and_show(home: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    root, (v1, v2) = home
    code, listed = _run(root, monkeypatch, "list")
    assert code == 0
    rows = {r["version"]: r for r in listed["models"]}
    assert set(rows) == {v1, v2} and rows[v1]["champion"] and not rows[v2]["champion"]
    assert rows[v1]["metric"] == "pr_auc" and rows[v2]["holdout_value"] is not None
    assert rows[v1]["holdout_hash"] == rows[v2]["holdout_hash"]

    code, shown = _run(root, monkeypatch, "show", "fraud")
    assert code == 0 and shown["card"]["version"] == v1 and shown["champion"] == v1
    card = shown["card"]
    assert card["data_hash"] and card["code_version"] and card["libraries"]["lightgbm"] != "absent"
    assert card["params"]["classifier"]["n_estimators"] == 80 and "roc_auc" in card["metrics"]
    assert set(shown["plots"]) == {"roc", "pr", "calibration", "importance"}
    assert all(Path(p).read_bytes().startswith(b"\x89PNG") for p in shown["plots"].values())
    assert shown["holdout"]["hash"] == card["holdout_hash"]
    assert [e["version"] for e in shown["history"]] == [v1]

    code, error = _run(root, monkeypatch, "show", "fraud", "v9999")
    assert code == 2 and "v9999" in error["error"]


def test_promote_by_margin_then_rollback(
    home: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, (v1, v2) = home
    code, verdict = _run(root, monkeypatch, "promote", "fraud", v2, "--margin", "1")
    assert code == 1 and not verdict["promoted"] and verdict["on"] == "holdout"
    assert verdict["champion"] == v1 and "< margin 1.0" in verdict["reason"]
    # both scored now on the same frozen holdout
    assert verdict["champion_metrics"]["n"] == verdict["challenger_metrics"]["n"] > 0

    code, verdict = _run(root, monkeypatch, "promote", "fraud", v2, "--margin", "-1")
    assert code == 0 and verdict["promoted"]
    code, shown = _run(root, monkeypatch, "show", "fraud")
    assert shown["champion"] == v2 and len(shown["challenges"]) == 2

    code, back = _run(root, monkeypatch, "rollback", "fraud")
    assert code == 0 and back == {"name": "fraud", "champion": v1, "previous": v2}
    code, error = _run(root, monkeypatch, "rollback", "fraud")
    assert code == 2 and "no earlier champion" in error["error"]

    code, forced = _run(root, monkeypatch, "promote", "fraud", v2, "--force")
    assert code == 0 and forced["promoted"]
    code, shown = _run(root, monkeypatch, "show", "fraud")
    assert shown["champion"] == v2
    assert [e["action"] for e in shown["history"]] == ["promote", "promote", "rollback", "promote"]
    assert "forced" in shown["history"][-1]["reason"]

    code, error = _run(root, monkeypatch, "promote", "fraud", "v9999")
    assert code == 2 and "v9999" in error["error"]


@pytest.mark.parametrize(("name", "metric"), [("doc-type", "macro_f1"), ("adjudication-gate", "review_cost")])
def test_promote_scores_doc_type_and_gate_on_their_frozen_holdout(
    name: str, metric: str, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The champion registered again is no better than itself: refused by the margin, with both
    scored now on the same holdout; without a margin it may take over."""
    import shutil

    from pipeline.registry import ModelRegistry

    shutil.copytree(models_dir, tmp_path / "data" / "models")
    registry = ModelRegistry(tmp_path / "data" / "models")
    champion = registry.champion(name)
    model, card = registry.load(name)
    twin = registry.register(name, model, data_hash=card.data_hash, holdout_hash=card.holdout_hash)

    code, verdict = _run(tmp_path, monkeypatch, "promote", name, twin.version)
    assert code == 1 and not verdict["promoted"] and verdict["on"] == "holdout"
    assert verdict["metric"] == metric and verdict["gain"] == 0 and "< margin 0.002" in verdict["reason"]
    assert verdict["holdout_hash"] == registry.holdout(name).hash  # type: ignore[union-attr]
    assert verdict["champion_metrics"] == verdict["challenger_metrics"]
    assert registry.champion(name) == champion
    assert [c.reason for c in registry.card(name, twin.version).challenges] == [verdict["reason"]]

    code, verdict = _run(tmp_path, monkeypatch, "promote", name, twin.version, "--margin", "0")
    assert code == 0 and verdict["promoted"] and registry.champion(name) == twin.version
    code, shown = _run(tmp_path, monkeypatch, "show", name)
    assert len(shown["card"]["challenges"]) == 2 and shown["holdout"]["hash"] == twin.holdout_hash

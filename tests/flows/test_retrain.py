"""Retraining on small sizes: a challenger per model, champion/challenger promotion, cards published,
and adjusters' decisions from the store used as gate labels."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flows.models import PROMOTION_METRICS
from flows.retrain import gate_labels, retrain
from pipeline.registry import ModelRegistry
from pipeline.settings import Settings

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_retrain_registers_challengers_and_promotes_only_the_better(
    tmp_path: Path, models_dir: Path, review_queue: Callable[..., Any]
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    shutil.copytree(models_dir, settings.models_dir)  # the session's champions stay untouched
    store, _ = review_queue(tmp_path, settings)
    assert len(gate_labels(store)) == 3
    registry = ModelRegistry(settings.models_dir)
    before = {name: registry.champion(name) for name in ("doc-type", "adjudication-gate", "fraud")}

    results = retrain(str(settings.data_dir), doc_claims=40, gate_claims=600, fraud_rows=20_000, seed=5)

    assert [r.name for r in results] == ["doc-type", "adjudication-gate", "fraud"]
    for r in results:
        _, higher = PROMOTION_METRICS[r.name]
        assert r.challenger in registry.versions(r.name) and r.challenger != before[r.name]
        assert r.champion_before == before[r.name]
        assert registry.champion(r.name) == (r.challenger if r.promoted else before[r.name])
        if r.challenger_value is not None and r.champion_value is not None:
            gain = r.challenger_value - r.champion_value if higher else r.champion_value - r.challenger_value
            assert r.promoted == (gain >= settings.promotion_margin), r
    gate = next(r for r in results if r.name == "adjudication-gate")
    assert gate.store_labels == 3
    assert registry.card("adjudication-gate", gate.challenger).params["store_labels"] == 3

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        keys = {a.key for a in client.read_artifacts()}
    assert {"model-card-doc-type", "model-card-adjudication-gate", "model-card-fraud"} <= keys

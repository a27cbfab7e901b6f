"""bench.flow's plain loop: the flow's steps in order without Prefect, every claim taken to an outcome
and the time of each stage reported (fake OCR and the corpus truth's facts: the loop is measured,
not the reading)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.fake_reading import fake_ocr, structured_batch, truth_facts

from bench.flow import plain_loop
from flows.models import train_doc_type_model
from pipeline.registry import ModelRegistry
from pipeline.settings import Settings
from pipeline.store import open_store


@pytest.mark.slow
def test_the_plain_loop_decides_every_claim_and_times_each_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    # the one model the steps cannot do without
    card = train_doc_type_model(settings, claims=12, holdout_claims=6)
    ModelRegistry(settings.models_dir).promote("doc-type", card.version)
    batch = structured_batch(tmp_path / "batch", 3, seed=7)
    fake_ocr(monkeypatch)
    truth_facts(monkeypatch, batch)
    seconds = plain_loop(batch, settings, chunk=2)
    assert set(seconds) == {"ingest", "ocr", "extract", "fraud", "decide_and_pay"}
    assert all(s >= 0 for s in seconds.values())
    store = open_store(settings)
    claims = store.list_claims()
    assert len(claims) == 3 and all(store.latest_decision_version(c.claim_id) == 1 for c in claims)
    store.engine.dispose()

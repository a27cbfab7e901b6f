"""Retraining on small sizes: a challenger per model judged on its frozen holdout, cards published,
adjusters' decisions used as gate labels and their document-type corrections as doc-type labels,
and a summary that says which sources gave nothing (fraud: the store has no such labels)."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import money
from helpers.pages import page_of

from flows.models import PROMOTION_METRICS
from flows.retrain import doc_type_labels, gate_labels, retrain, retrain_doc_type, retrain_gate
from pipeline.records import Claim, ClaimType, DocType, Document, Extraction, Outcome, Route
from pipeline.registry import ModelRegistry
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore, open_store

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)

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
    assert gate.store_labels == 3 and "3 adjusters' review decisions" in gate.summary
    assert registry.card("adjudication-gate", gate.challenger).params["store_labels"] == 3
    for r in results:  # judged now on the frozen holdout, the verdict kept in the challenger's card
        (verdict,) = registry.card(r.name, r.challenger).challenges
        assert verdict.on == "holdout" and verdict.holdout_hash == registry.holdout(r.name).hash  # type: ignore[union-attr]
        assert verdict.reason == r.reason and verdict.promoted == r.promoted
    fraud = next(r for r in results if r.name == "fraud")
    assert fraud.store_labels == 0 and "no store labels" in fraud.summary
    assert "no fraud confirmations" in fraud.summary

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        keys = {a.key for a in client.read_artifacts()}
    assert {"model-card-doc-type", "model-card-adjudication-gate", "model-card-fraud"} <= keys
    assert "retrain-summary" in keys


def _corrected_document(store: CaseStore) -> tuple[str, list[Any]]:
    """A claim form the batch typed `other`, read by an older OCR than today's, whose type an adjuster
    corrected twice in the review app (to ID card, then to claim form)."""
    from review.auth import Role, Viewer
    from review.work import correct_doc_type

    sha = hashlib.sha256(b"claim form photo").hexdigest()
    doc = Document(
        id=sha,
        claim_id="R1",
        filename="form.jpg",
        media_type="image/jpeg",
        size_bytes=16,
        page_count=1,
        doc_type=DocType.OTHER,
    )
    claim = Claim(
        claim_id="R1",
        policy_number="POP2024000123",
        claimant="张伟",
        claim_type=ClaimType.OUTPATIENT,
        incident_date=dt.date(2026, 3, 1),
        submitted_at=T0,
        channel="app",
        documents=[doc],
    )
    store.save_claim(claim)
    pages = [page_of(("理赔申请书", 600, 80), ("被保险人 张伟", 100, 200), ("申请理赔金额 812.40", 100, 260))]
    store.save_pages(sha, "an-older-reader", pages)
    store.put_result("R1", Stage.EXTRACT, Extraction(document_id=sha, doc_type=DocType.OTHER), key=sha)
    money.record(store, Outcome(claim_id="R1", route=Route.ADJUSTER, decided_at=T0), priority=1)
    assert store.lock_review("R1", "adj1")
    viewer = Viewer(username="adj1", display_name="李娜", role=Role.ADJUSTER, csrf_token="t", session_id="s")
    correct_doc_type(store, viewer, "R1", sha, DocType.ID_CARD.value)
    correct_doc_type(store, viewer, "R1", sha, DocType.CLAIM_FORM.value)
    return sha, pages


def test_retrain_learns_an_adjusters_document_type_correction(tmp_path: Path, models_dir: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    shutil.copytree(models_dir, settings.models_dir)
    store = open_store(settings)
    _, pages = _corrected_document(store)
    assert doc_type_labels(store) == [(pages, "claim_form")]  # the latest correction, any reading

    registry = ModelRegistry(settings.models_dir)
    frozen = registry.holdout("doc-type")
    result = retrain_doc_type(store, settings, claims=12, seed=5)
    card = registry.card("doc-type", result.challenger)
    assert result.store_labels == 1 and card.params["store_labels"] == 1
    assert result.synthetic == card.params["synthetic"] > 0
    assert "1 adjusters' document-type corrections" in result.summary
    assert registry.holdout("doc-type") == frozen and card.holdout_hash == frozen.hash  # type: ignore[union-attr]
    (verdict,) = card.challenges
    assert verdict.on == "holdout" and verdict.metric == "macro_f1" and verdict.reason == result.reason

    # no review decided yet: the gate learns from synthetic claims only, and the summary says so
    gate = retrain_gate(store, settings, claims=300, seed=5)
    assert (
        gate.store_labels == 0
        and registry.card("adjudication-gate", gate.challenger).params["store_labels"] == 0
    )
    assert "no adjusters' review decisions in the store yet" in gate.summary
    store.engine.dispose()

"""The batch flow on a tiny rendered corpus: every claim decided once, reruns redo nothing, bad input
stays on its claim, and only transient faults are retried."""

from __future__ import annotations

import errno
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from flows import steps
from flows.claims_batch import BatchResult, claims_batch
from flows.runtime import transient
from pipeline.records import Route
from pipeline.settings import Settings
from pipeline.store import CaseStore, DecisionRow, PageRow, PaymentRow, StageResultRow, open_store

pytestmark = pytest.mark.usefixtures("prefect_harness")


def run(batch: Path, settings: Settings) -> BatchResult:
    return claims_batch(str(batch), str(settings.data_dir))


def decisions_per_claim(store: CaseStore) -> Counter[str]:
    with store.session() as s:
        return Counter(s.scalars(select(DecisionRow.claim_id)))


def snapshot(store: CaseStore) -> dict[str, Any]:
    """Every row a rerun must leave alone: stage results, pages read, decisions, payments."""
    with store.session() as s:
        return {
            "results": sorted(
                s.execute(select(StageResultRow.id, StageResultRow.stage, StageResultRow.key)).all()
            ),
            "pages": sorted(s.execute(select(PageRow.id)).all()),
            "decisions": sorted(
                s.execute(select(DecisionRow.id, DecisionRow.claim_id, DecisionRow.route)).all()
            ),
            "payments": sorted(s.execute(select(PaymentRow.idempotency_key, PaymentRow.amount)).all()),
        }


def test_every_claim_decided_once_and_rerun_redoes_nothing(batch: Path, flow_settings: Settings) -> None:
    first = run(batch, flow_settings)
    store = open_store(flow_settings)
    claims = {c.claim_id for c in store.list_claims(batch_id=first.batch_id)}
    assert len(claims) == 3
    assert {r.claim_id for r in first.claims} == claims
    assert decisions_per_claim(store) == Counter({c: 1 for c in claims})
    assert all(r.route != Route.ERROR.value for r in first.claims), first.claims
    before = snapshot(store)
    keys = [k for k, _ in before["payments"]]
    assert len(keys) == len(set(keys))

    second = run(batch, flow_settings)
    assert second.batch_id == first.batch_id
    assert snapshot(store) == before  # no new outcome, no new payment, nothing re-read or re-extracted
    strip = [(r.claim_id, r.route, r.payable, r.reasons) for r in second.claims]
    assert strip == [(r.claim_id, r.route, r.payable, r.reasons) for r in first.claims]


def test_bad_file_is_recorded_on_its_claim_and_the_batch_goes_on(
    batch: Path, flow_settings: Settings
) -> None:
    first_claim = sorted(p for p in batch.iterdir() if p.is_dir() and not p.name.startswith("."))[0]
    victim = sorted(p for p in first_claim.iterdir() if p.suffix in (".jpg", ".webp"))[0]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 3])  # a truncated upload

    result = run(batch, flow_settings)
    store = open_store(flow_settings)
    claim = store.get_claim(first_claim.name)
    assert claim is not None
    assert any(victim.name in p for p in claim.problems), claim.problems
    assert victim.name in str(result.ingest["problems"][first_claim.name])
    counts = decisions_per_claim(store)
    assert set(counts) == {c.claim_id for c in store.list_claims(batch_id=result.batch_id)}
    assert set(counts.values()) == {1}
    others = [r for r in result.claims if r.claim_id != first_claim.name]
    assert len(others) == 2 and all(r.route != Route.ERROR.value for r in others)


def test_ocr_failure_on_one_document_gives_its_claim_an_error(
    batch: Path, flow_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.ingest import ingest_batch

    store = open_store(flow_settings)
    report = ingest_batch(batch, store, flow_settings)  # the flow's own ingest finds it all stored
    victim_claim = store.list_claims(batch_id=report.batch_id)[1]
    victim_doc = victim_claim.documents[0]
    calls: Counter[str] = Counter()
    real = steps.ocr_step

    def flaky(store: CaseStore, settings: Settings, document_id: str, key: str) -> int:
        calls[document_id] += 1
        if document_id == victim_doc.id:
            raise RuntimeError("the OCR engine crashed on this page")
        return real(store, settings, document_id, key)

    monkeypatch.setattr(steps, "ocr_step", flaky)
    result = run(batch, flow_settings)
    by_id = {r.claim_id: r for r in result.claims}
    bad = by_id[victim_claim.claim_id]
    assert bad.route == Route.ERROR.value
    assert victim_doc.filename in bad.error and "crashed" in bad.error
    outcome = store.latest_outcome(victim_claim.claim_id)
    assert outcome is not None and victim_doc.filename in outcome.reasons[0].message
    assert calls[victim_doc.id] == 1  # bad input is not retried
    rest = [r for cid, r in by_id.items() if cid != victim_claim.claim_id]
    assert len(rest) == 2 and all(r.route != Route.ERROR.value for r in rest)
    assert set(decisions_per_claim(store).values()) == {1}


# --- the retry condition ---------------------------------------------------------------------------


def _failed(exc: BaseException) -> Any:
    from prefect.states import Failed

    return Failed(data=exc)


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("select 1", {}, Exception("server closed the connection")),
        TimeoutError("pool timeout"),
        ConnectionError("reset by peer"),
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EIO, "I/O error"),
    ],
)
def test_transient_faults_are_retried(exc: BaseException) -> None:
    assert transient(None, None, _failed(exc)) is True


@pytest.mark.parametrize(
    "exc",
    [
        steps.ClaimsError("no claim C9"),
        ValueError("not a date"),
        RuntimeError("the OCR engine crashed"),
        FileNotFoundError(errno.ENOENT, "gone"),
        KeyError("x"),
    ],
)
def test_bad_input_is_not_retried(exc: BaseException) -> None:
    assert transient(None, None, _failed(exc)) is False


def test_completed_state_is_not_retried() -> None:
    from prefect.states import Completed

    assert transient(None, None, Completed(data=1)) is False

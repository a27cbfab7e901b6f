"""The money path through the real flows: a re-run never undoes an adjuster's decision, a payment
instruction leaves in exactly one file whoever issued it, and a claim that fails belongs to a person.

Each test reproduces a defect found on the old code (issue 19): a batch re-run turned an adjuster's
decided task back to `open`; a second batch over the same claims listed their payments again; an
adjuster's approval reached no payment file; a claim in `error` was in nobody's queue.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from helpers.fake_reading import fake_ocr, structured_batch, truth_facts
from sqlalchemy import select

from flows import steps
from flows.apply_review import apply_review
from flows.claims_batch import BatchResult, claims_batch
from pipeline.payout import reconcile
from pipeline.reasons import describe_source, read_reasons
from pipeline.records import ReviewAction, ReviewDecision, Route
from pipeline.settings import Settings
from pipeline.store import CaseStore, DecisionRow, open_store

pytestmark = pytest.mark.usefixtures("prefect_harness")

CLAIMS = 8
SEED = 41


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return structured_batch(tmp_path_factory.mktemp("money") / "corpus", CLAIMS, SEED)


@pytest.fixture
def settings(flow_settings: Settings, monkeypatch: pytest.MonkeyPatch, batch: Path) -> Settings:
    """A fresh case store with the fake OCR and the truth's facts installed."""
    fake_ocr(monkeypatch)
    truth_facts(monkeypatch, batch)
    return flow_settings


def run(folder: Path, settings: Settings) -> BatchResult:
    return claims_batch(str(folder), str(settings.data_dir))


def versions(store: CaseStore) -> Counter[str]:
    with store.session() as s:
        return Counter(s.scalars(select(DecisionRow.claim_id)))


def files_per_key(settings: Settings) -> Counter[str]:
    return Counter(
        row["idempotency_key"]
        for path in sorted(settings.payments_dir.glob("payments-*.csv"))
        for row in csv.DictReader(path.open(encoding="utf-8"))
    )


def test_a_rerun_never_undoes_an_adjusters_decision(batch: Path, settings: Settings) -> None:
    first = run(batch, settings)
    routed = [r for r in first.claims if r.route == Route.ADJUSTER.value]
    assert routed and any(r.paid for r in first.claims), [(r.route, r.reasons[:1]) for r in first.claims]
    store = open_store(settings)
    claim_id = routed[0].claim_id
    assert store.lock_review(claim_id, "adj1")
    decision = ReviewDecision(
        claim_id=claim_id,
        reviewer="adj1",
        action=ReviewAction.APPROVE,
        amount=Decimal("1.00"),
        decided_at=_now(),
    )
    assert store.complete_review(decision)
    before = versions(store)

    run(batch, settings)  # the operator re-runs the batch before apply_review ran
    [task] = [t for t in store.review_tasks(status=None) if t["claim_id"] == claim_id]
    assert task["status"] == "done" and task["decision"]["amount"] == "1.00"  # not reopened, not lost
    assert versions(store) == before

    [applied] = apply_review(str(settings.data_dir))
    assert applied.claim_id == claim_id and applied.paid == "1.00"
    run(batch, settings)  # and again after: the claim stays decided, nobody's queue holds it again
    [task] = [t for t in store.review_tasks(status=None) if t["claim_id"] == claim_id]
    assert task["status"] == "done" and versions(store)[claim_id] == before[claim_id] + 1
    assert apply_review(str(settings.data_dir)) == []
    assert store.latest_outcome(claim_id).payable == Decimal("1.00")  # type: ignore[union-attr]

    per_key = files_per_key(settings)
    assert per_key and set(per_key.values()) == {1}  # batch and adjuster payments, each in one file
    assert f"{claim_id}:d2" in per_key
    result = reconcile(store, settings.payments_dir)
    assert result.ok, result.breaks
    store.engine.dispose()


def test_two_batches_over_the_same_claims_list_each_payment_once(
    batch: Path, tmp_path: Path, settings: Settings
) -> None:
    first = run(batch, settings)
    assert first.payment_files
    again = tmp_path / "the-same-claims-again"
    shutil.copytree(batch, again)
    second = run(again, settings)
    assert second.batch_id != first.batch_id
    assert second.payment_files == []  # nothing new to pay: no file
    assert {(r.claim_id, r.route, r.payable) for r in second.claims} == {
        (r.claim_id, r.route, r.payable) for r in first.claims
    }
    assert all(r.settled for r in second.claims)
    assert set(files_per_key(settings).values()) == {1}
    store = open_store(settings)
    assert reconcile(store, settings.payments_dir).ok
    store.engine.dispose()


def test_a_claim_that_fails_is_in_a_persons_queue_until_a_rerun_decides_it(
    batch: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = steps.decide_step
    victim: list[str] = []

    def buggy(store: CaseStore, facts: Any, *args: Any, **kwargs: Any) -> Any:
        if not victim:
            victim.append(facts.claim.claim_id)
        if facts.claim.claim_id == victim[0]:
            raise KeyError("benefit_line")
        return real(store, facts, *args, **kwargs)

    monkeypatch.setattr(steps, "decide_step", buggy)
    first = run(batch, settings)
    [failed] = [r for r in first.claims if r.claim_id == victim[0]]
    assert failed.route == Route.ERROR.value
    store = open_store(settings)
    [task] = [t for t in store.review_tasks(status="open") if t["claim_id"] == victim[0]]
    [why] = read_reasons(task["reasons"])
    assert why.text == "PROCESSING_ERROR: decision failed: KeyError: 'benefit_line'"
    assert describe_source(why.source) == "system: processing error"
    assert task["due_at"] is not None

    monkeypatch.setattr(steps, "decide_step", real)  # the cause is fixed; the operator re-runs
    second = run(batch, settings)
    [fixed] = [r for r in second.claims if r.claim_id == victim[0]]
    assert fixed.route != Route.ERROR.value and fixed.decision_version == 2
    [task] = [t for t in store.review_tasks(status=None) if t["claim_id"] == victim[0]]
    expected = "open" if fixed.route == Route.ADJUSTER.value else "closed"
    assert task["status"] == expected and task["decision_version"] == 2
    store.engine.dispose()


def _now():  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime.now(dt.UTC)

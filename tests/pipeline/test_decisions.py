"""A decision once recorded is final: who may append a version, and what happens to the review task."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest

from pipeline import decisions
from pipeline.decisions import DecisionRefused, Routing
from pipeline.reasons import describe_source, model_source, read_reasons
from pipeline.records import Claim, Outcome, Reason, ReviewAction, ReviewDecision, Route, SourceKind
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore, open_store

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(db_settings: Settings) -> Iterator[CaseStore]:
    s = open_store(db_settings)
    s.save_claim(
        Claim(
            claim_id="C1",
            policy_number="P1",
            claimant="张三",
            incident_date=dt.date(2026, 2, 1),
            submitted_at=NOW,
        )
    )
    yield s
    s.engine.dispose()


def _outcome(
    route: Route, payable: str = "0", at: dt.datetime = NOW, reasons: list[str] | None = None
) -> Outcome:
    return Outcome(
        claim_id="C1", route=route, payable=Decimal(payable), decided_at=at, reasons=reasons or [route.value]
    )


def _machine(store: CaseStore, route: Route, payable: str = "0") -> decisions.Recorded:
    return decisions.record_machine_decision(
        store,
        _outcome(route, payable),
        routing=Routing(7, NOW + dt.timedelta(days=5), [GATE]),
    )


GATE = Reason(
    code="GATE_NOT_CONFIDENT",
    message="P(safe) 0.410 < 0.9",
    source=model_source("gate", "g1", detail="P(safe) 0.410 < 0.9"),
)


def _texts(task: dict) -> list[str]:  # type: ignore[type-arg]
    """A review task's reasons as people read them (the column holds them with their sources)."""
    return [r.text for r in read_reasons(task["reasons"])]


def _task(store: CaseStore) -> dict:  # type: ignore[type-arg]
    [task] = store.review_tasks(status=None)
    return task


def _adjuster_decides(store: CaseStore, action: ReviewAction = ReviewAction.APPROVE) -> ReviewDecision:
    assert store.lock_review("C1", "adj1")
    d = ReviewDecision(
        claim_id="C1",
        reviewer="adj1",
        action=action,
        amount=Decimal("80") if action is ReviewAction.APPROVE else None,
        reason=None if action is ReviewAction.APPROVE else "不属于保险责任",
        decided_at=NOW + dt.timedelta(hours=1),
    )
    assert store.complete_review(d)
    return d


def test_the_runner_decides_a_claim_once(store: CaseStore) -> None:
    first = _machine(store, Route.FLASH_PAY, "120")
    assert first.new and first.version == 1
    again = _machine(store, Route.DENY)
    assert not again.new and again.version == 1 and again.outcome.route is Route.FLASH_PAY
    assert again.settled == "decided: flash_pay (v1)"
    assert store.latest_decision_version("C1") == 1


def test_a_rerun_never_reopens_a_decided_review(store: CaseStore) -> None:
    """The defect: a batch re-run turned an adjuster's `done` task back to `open`, erasing the decision."""
    routed = _machine(store, Route.ADJUSTER)
    task = _task(store)
    assert (task["status"], task["decision_version"], task["priority"]) == ("open", routed.version, 7)
    decided = _adjuster_decides(store)
    rerun = _machine(store, Route.ADJUSTER)
    assert not rerun.new and rerun.settled == "waiting for an adjuster"
    task = _task(store)
    assert task["status"] == "done" and task["decision"]["amount"] == "80.00"
    # applied: the adjuster's decision is the next version; a rerun after it changes nothing either
    outcome = _outcome(Route.AUTO_APPROVE, "80", at=decided.decided_at)
    applied = decisions.record_review_decision(store, outcome, reviewer="adj1", routed_version=routed.version)
    assert applied.version == 2
    assert _machine(store, Route.ADJUSTER).settled == "decided: auto_approve (v2)"
    assert _task(store)["status"] == "done" and store.latest_decision_version("C1") == 2


def test_an_adjusters_decision_is_recorded_once_and_only_after_its_routing(store: CaseStore) -> None:
    routed = _machine(store, Route.ADJUSTER)
    outcome = _outcome(Route.DENY, at=NOW + dt.timedelta(hours=1))
    first = decisions.record_review_decision(store, outcome, reviewer="adj1", routed_version=routed.version)
    again = decisions.record_review_decision(store, outcome, reviewer="adj1", routed_version=routed.version)
    assert (first.new, again.new, again.version) == (True, False, first.version)
    late = _outcome(Route.AUTO_APPROVE, "5", at=NOW + dt.timedelta(hours=2))
    with pytest.raises(DecisionRefused, match="v2 was recorded since"):
        decisions.record_review_decision(store, late, reviewer="adj2", routed_version=routed.version)


def test_a_processing_error_is_an_adjusters_task_until_a_rerun_decides_it(store: CaseStore) -> None:
    failed = decisions.record_error(
        store, "C1", "OCR failed", routing=Routing(40, NOW + dt.timedelta(days=5))
    )
    task = _task(store)
    assert _texts(task) == ["PROCESSING_ERROR: OCR failed"] and task["status"] == "open"
    assert read_reasons(task["reasons"])[0].source.kind is SourceKind.SYSTEM
    assert task["due_at"] is not None and task["decision_version"] == failed.version
    # failing again keeps the version and tells the person the new problem
    again = decisions.record_error(store, "C1", "disk error", routing=Routing(40, None))
    assert (again.version, again.new) == (failed.version, False)
    assert _texts(_task(store)) == ["PROCESSING_ERROR: disk error"]
    # fixed and re-run: decided, the task closes
    fixed = _machine(store, Route.FLASH_PAY, "10")
    assert fixed.new and fixed.version == 2 and _task(store)["status"] == "closed"
    # a later failure of a decided claim records nothing
    assert decisions.record_error(store, "C1", "late", routing=Routing(0, None)).version == 2


def test_a_rerun_of_a_failed_claim_routed_to_a_person_renews_its_task(store: CaseStore) -> None:
    decisions.record_error(store, "C1", "bug", routing=Routing(40, None))
    routed = _machine(store, Route.ADJUSTER)
    task = _task(store)
    assert (task["status"], task["decision_version"], _texts(task)) == (
        "open",
        routed.version,
        ["GATE_NOT_CONFIDENT: P(safe) 0.410 < 0.9"],
    )


def test_a_failed_claim_a_person_decided_is_left_to_them(store: CaseStore) -> None:
    decisions.record_error(store, "C1", "bug", routing=Routing(40, None))
    _adjuster_decides(store, ReviewAction.DENY)
    assert (
        decisions.runner_may_decide(store, "C1")
        == "an adjuster has decided it; apply_review records the decision"
    )
    assert not _machine(store, Route.FLASH_PAY, "10").new


def test_reopen_is_a_seniors_new_version_with_its_reason(store: CaseStore) -> None:
    with pytest.raises(DecisionRefused, match="no final decision to reopen: it is undecided"):
        decisions.reopen(store, "C1", by="senior1", reason="complaint")
    routed = _machine(store, Route.ADJUSTER)
    _adjuster_decides(store)
    with pytest.raises(DecisionRefused, match="it is adjuster"):
        decisions.reopen(store, "C1", by="senior1", reason="complaint")
    outcome = _outcome(Route.AUTO_APPROVE, "80", at=NOW + dt.timedelta(hours=1))
    decisions.record_review_decision(store, outcome, reviewer="adj1", routed_version=routed.version)
    with pytest.raises(DecisionRefused, match="needs a reason"):
        decisions.reopen(store, "C1", by="senior1", reason="  ")
    reopened = decisions.reopen(
        store, "C1", by="senior1", reason="客户投诉：自费药品", routing=Routing(100, None)
    )
    assert reopened.version == 3 and reopened.decided_by == "reopen:senior1"
    assert reopened.outcome.route is Route.ADJUSTER and reopened.outcome.payable == 0
    task = _task(store)
    assert (task["status"], task["decision"], task["decision_version"], task["priority"]) == (
        "open",
        None,
        3,
        100,
    )
    [why] = read_reasons(task["reasons"])
    assert why.text == "REOPENED: 客户投诉：自费药品 (by senior1; v2 was auto_approve 80.00)"
    assert describe_source(why.source) == "adjuster: senior1"
    actions = [e["action"] for e in store.audit_events("C1")]
    assert "reopen" in actions and "review_task_renewed" in actions
    assert decisions.final_amount(store, "C1") == Decimal("80.00")  # paid money stands until a new decision


def test_new_documents_resume_a_request_and_nothing_else(store: CaseStore) -> None:
    with pytest.raises(DecisionRefused, match="nothing to resume"):
        decisions.resume(store, "C1", actor="app")
    first = decisions.record_machine_decision(
        store, _outcome(Route.REQUEST_INFO), result=(Stage.DECISION, lambda v: _outcome(Route.REQUEST_INFO))
    )
    assert decisions.runner_may_decide(store, "C1") == "waiting for the documents it was asked for"
    assert not _machine(store, Route.FLASH_PAY, "5").new  # no new documents: no new decision
    decisions.resume(store, "C1", actor="app", detail={"documents": ["bank.jpg"]})
    assert store.get_result("C1", Stage.DECISION, Outcome) is None
    assert decisions.runner_may_decide(store, "C1") is None
    second = _machine(store, Route.FLASH_PAY, "5")
    assert second.new and second.version == first.version + 1
    with pytest.raises(DecisionRefused, match="asks for no documents"):
        decisions.resume(store, "C1", actor="app")


def test_two_runners_at_once_record_one_decision(db_settings: Settings) -> None:
    """An intake take-over while the first run is still going: both decide, one is recorded."""
    store = open_store(db_settings)
    for n in range(25):
        cid = f"R{n}"
        store.save_claim(
            Claim(
                claim_id=cid,
                policy_number="P1",
                claimant="张三",
                incident_date=dt.date(2026, 2, 1),
                submitted_at=NOW,
            )
        )
        gate = threading.Barrier(2)
        got: list[decisions.Recorded] = []

        def runner(route: Route, cid: str = cid, gate: threading.Barrier = gate, got: list = got) -> None:  # type: ignore[type-arg]
            gate.wait()
            outcome = Outcome(claim_id=cid, route=route, payable=Decimal("9"), decided_at=NOW, reasons=["x"])
            got.append(decisions.record_machine_decision(store, outcome))

        threads = [threading.Thread(target=runner, args=(r,)) for r in (Route.FLASH_PAY, Route.AUTO_APPROVE)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(r.new for r in got) == [False, True]
        assert store.latest_decision_version(cid) == 1
    store.engine.dispose()

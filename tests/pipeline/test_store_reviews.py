"""The review-task repository used on its own: one adjuster holds a claim, and decides it once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from helpers import money
from helpers.claims import save_claims

from pipeline.records import Outcome, ReviewAction, ReviewDecision, Route
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store
from pipeline.store.reviews import ReviewTaskRepository

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(db_settings: Settings) -> Iterator[CaseStore]:
    s = open_store(db_settings)
    for claim_id, priority in (("C1", 10), ("C2", 90)):
        save_claims(s, claim_id, at=NOW)
        money.record(
            s,
            Outcome(claim_id=claim_id, route=Route.ADJUSTER, decided_at=NOW, reasons=["FRAUD_HIGH"]),
            priority=priority,
        )
    yield s
    s.engine.dispose()


def _decision(reviewer: str) -> ReviewDecision:
    return ReviewDecision(
        claim_id="C1", reviewer=reviewer, action=ReviewAction.APPROVE, amount=Decimal("5.00"), decided_at=NOW
    )


def test_open_tasks_most_urgent_first(store: CaseStore) -> None:
    tasks = ReviewTaskRepository(store).tasks()
    assert [t["claim_id"] for t in tasks] == ["C2", "C1"]
    assert tasks[0]["status"] == "open" and tasks[0]["locked_by"] is None


def test_one_holder_and_one_decision(store: CaseStore) -> None:
    reviews = ReviewTaskRepository(store)
    assert reviews.lock("C1", "alice") is True
    assert reviews.lock("C1", "alice") is True  # the holder may take it again
    assert reviews.lock("C1", "bob") is False
    assert reviews.lock("C9", "bob") is False  # no task
    assert reviews.complete(_decision("bob")) is False
    assert reviews.complete(_decision("alice")) is True
    assert reviews.complete(_decision("alice")) is False  # decided once
    assert reviews.lock("C1", "alice") is False  # a done task is nobody's to take
    (done,) = reviews.tasks(status="done")
    assert done["claim_id"] == "C1" and done["decision"]["reviewer"] == "alice"
    assert [t["claim_id"] for t in reviews.tasks()] == ["C2"]
    assert len(reviews.tasks(status=None)) == 2

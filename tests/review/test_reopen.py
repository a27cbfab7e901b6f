"""Reopening a final decision from the review side: only an active senior or manager may, and the
reopened claim goes to the top of the queue with the reason on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from pipeline import decisions
from pipeline.errors import ClaimsError
from pipeline.reasons import adjuster_source, read_reasons
from pipeline.records import Claim, Outcome, Route
from pipeline.review_tables import UserRow
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store
from review.auth import Role, add_user
from review.reopen import REOPEN_PRIORITY, reopen_claim

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(settings: Settings) -> Iterator[CaseStore]:
    """C1, approved by the machine for 80.00; a senior, an adjuster and an auditor."""
    s = open_store(settings)
    s.save_claim(
        Claim(
            claim_id="C1",
            policy_number="P1",
            claimant="张三",
            incident_date=dt.date(2026, 2, 1),
            submitted_at=NOW,
        )
    )
    outcome = Outcome(
        claim_id="C1", route=Route.AUTO_APPROVE, payable=Decimal("80"), decided_at=NOW, reasons=[]
    )
    decisions.record_machine_decision(s, outcome, routing=decisions.Routing(0, None))
    for name, role in (("senior1", Role.SENIOR), ("adj1", Role.ADJUSTER), ("audit1", Role.AUDITOR)):
        add_user(s, name, "a-long-password-1", role)
    yield s
    s.engine.dispose()


def test_a_senior_reopens_a_final_decision_to_the_top_of_the_queue(store: CaseStore) -> None:
    reopened = reopen_claim(store, "senior1", "C1", "客户投诉：漏赔检查费")
    assert reopened.new and reopened.decided_by == "reopen:senior1"
    assert reopened.outcome.route is Route.ADJUSTER
    [task] = store.review_tasks()
    [why] = read_reasons(task["reasons"])
    assert task["priority"] == REOPEN_PRIORITY and why.text.startswith("REOPENED: 客户投诉：漏赔检查费")
    assert why.source == adjuster_source("senior1")


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("adj1", "adj1 is a adjuster: only a senior adjuster or a claims manager reopens a claim"),
        ("audit1", "only a senior adjuster or a claims manager"),
        ("nobody", "no active review-app account 'nobody'"),
    ],
)
def test_only_a_senior_or_a_manager_reopens(store: CaseStore, username: str, message: str) -> None:
    with pytest.raises(ClaimsError, match=message):
        reopen_claim(store, username, "C1", "complaint")
    assert store.review_tasks() == []


def test_a_disabled_senior_reopens_nothing(store: CaseStore) -> None:
    with store.session() as s:
        s.get(UserRow, "senior1").active = False  # as an administrator disables an account
    with pytest.raises(ClaimsError, match="no active review-app account 'senior1'"):
        reopen_claim(store, "senior1", "C1", "complaint")

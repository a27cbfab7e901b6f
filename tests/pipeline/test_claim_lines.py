"""The closed claims a report reads, on SQLite and PostgreSQL (JSON read by path on both), and the
clock each claim keeps on its row, written by the store's own writers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from helpers.service import DECIDED_IN_PERIOD, T0, D, H, M, build_service_store

from pipeline.claim_lines import closed_between
from pipeline.indicators import period
from pipeline.records import Complexity, Route
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store


@pytest.fixture
def store(db_settings: Settings) -> Iterator[CaseStore]:
    s = open_store(db_settings)
    build_service_store(s)
    yield s
    s.engine.dispose()


def test_the_lines_of_the_claims_closed_in_a_period(store: CaseStore) -> None:
    lines = {x.claim_id: x for x in closed_between(store, *period(dt.date(2026, 3, 1), dt.date(2026, 4, 30)))}
    assert sorted(lines) == sorted(DECIDED_IN_PERIOD)
    p1, p3, d2, r1, h1 = lines["P1"], lines["P3"], lines["D2"], lines["R1"], lines["H1"]
    assert (p1.route, p1.product, p1.channel, p1.complexity, p1.flash_pay_eligible) == (
        Route.FLASH_PAY,
        "OP-BASIC",
        "app",
        Complexity.SIMPLE,
        True,
    )
    assert p1.paid and p1.closed_at == T0 + 10 * M and p1.rating == 5 and not p1.by_person
    assert (p3.product, p3.claimed, p3.payable, p3.by_person, p3.fraud_alert) == (
        "IP-PLUS",
        Decimal("30000.00"),
        Decimal("20000.00"),
        True,
        True,
    )
    assert (p3.documents, p3.documents_needing_person) == (3, 2)  # one flagged, one never read
    assert (
        d2.route is Route.DENY
        and d2.fraud_alert
        and d2.notice_at == T0 + 15 * D
        and d2.closed_at == d2.notice_at
    )
    assert r1.first_request_at == T0 + H and r1.documents_complete_at == T0 + 3 * D and not r1.by_person
    assert h1.paid and h1.closed_at is None  # approved, its payment held: not answered yet
    assert lines["D1"].claimed == Decimal("500.00") and lines["D1"].rating == 2


def test_each_claim_keeps_its_clock(store: CaseStore) -> None:
    times = store.claims.times(["P1", "D2", "R1", "H1", "O1", "nope"])
    assert sorted(times) == ["D2", "H1", "O1", "P1", "R1"]
    p1 = times["P1"]
    assert (p1.submitted_at, p1.documents_complete_at, p1.decided_at, p1.paid_at, p1.notice_at) == (
        T0 - 2 * H,
        T0,
        T0 + 10 * M,
        T0 + 10 * M,
        T0 + 10 * M,  # the machine's notice goes with its decision
    )
    assert p1.closed_at == T0 + 10 * M and p1.seconds("submitted_at", "closed_at") == 7800.0
    d2 = times["D2"]  # the adjuster decided at T0+10d; apply_review recorded it, with its notice, at T0+15d
    assert (d2.decided_at, d2.notice_at, d2.paid_at, d2.route) == (T0 + 10 * D, T0 + 15 * D, None, Route.DENY)
    r1 = times["R1"]
    assert r1.documents_complete_at == T0 + 3 * D and r1.closed_at == T0 + 3 * D + 2 * H
    h1 = times["H1"]
    assert h1.decided_at == T0 + 2 * H and h1.paid_at is None and h1.closed_at is None
    o1 = times["O1"]
    assert o1.decided_at is None and o1.closed_at is None and o1.route is Route.ADJUSTER


def test_a_request_for_documents_and_a_reopen_open_the_clock_again(store: CaseStore) -> None:
    from helpers import money

    from pipeline import decisions
    from pipeline.records import Outcome

    store.save_claim(
        store.get_claim("O1").model_copy(update={"claim_id": "Q1", "documents": []})  # type: ignore[union-attr]
    )
    money.record(store, Outcome(claim_id="Q1", route=Route.REQUEST_INFO, decided_at=T0))
    assert store.claims.times(["Q1"])["Q1"].documents_complete_at is None  # waiting for documents
    decisions.reopen(store, "P1", by="senior1", reason="receipt was for another patient", now=T0 + 2 * D)
    reopened = store.claims.times(["P1"])["P1"]
    assert reopened.decided_at is None and reopened.notice_at is None and reopened.paid_at == T0 + 10 * M


def test_a_fraud_flag_stored_before_reasons_had_sources_still_counts(store: CaseStore) -> None:
    from sqlalchemy import select

    from pipeline.store import DecisionRow

    with store.session() as s:
        first = s.scalar(
            select(DecisionRow).where(DecisionRow.claim_id == "D2", DecisionRow.decision_version == 1)
        )
        assert first is not None
        first.record = {
            **first.record,
            "reasons": ["FRAUD_SUSPECTED: 存在欺诈疑点，需人工调查", "PROVIDER_WATCHLIST: x"],
        }
    lines = {x.claim_id: x for x in closed_between(store, *period(dt.date(2026, 3, 1), dt.date(2026, 4, 30)))}
    assert lines["D2"].fraud_alert and not lines["D1"].fraud_alert

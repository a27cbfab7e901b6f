"""The ledger repository used on its own: decisions and payments as `pipeline.decisions` and
`pipeline.payout` wrote them, read back per claim."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from helpers import money
from helpers.claims import save_claims

from pipeline import decisions
from pipeline.payout import Payee, pay
from pipeline.records import Outcome, Route
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store
from pipeline.store.ledger import LedgerRepository

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
CARD = Payee(name="张三", bank="中国工商银行", account="4111111111111111")


@pytest.fixture
def store(settings: Settings) -> Iterator[CaseStore]:
    s = open_store(settings)
    save_claims(s, "C1", "C2", at=NOW)
    yield s
    s.engine.dispose()


def test_an_undecided_claim_has_no_decision_and_no_payment(store: CaseStore) -> None:
    ledger = LedgerRepository(store)
    assert ledger.latest_decision_version("C1") is None
    assert ledger.latest_outcome("C1") is None
    assert ledger.payments() == [] and ledger.payments("C1") == []


def test_the_latest_version_wins(store: CaseStore) -> None:
    ledger = LedgerRepository(store)
    first = Outcome(claim_id="C1", route=Route.ADJUSTER, decided_at=NOW, reasons=["GATE_NOT_CONFIDENT"])
    money.record(store, first)
    assert ledger.latest_decision_version("C1") == 1 and ledger.latest_outcome("C1") == first
    second = first.model_copy(
        update={"route": Route.AUTO_APPROVE, "payable": Decimal("30.00"), "reasons": []}
    )
    decisions.record_review_decision(store, second, reviewer="alice", routed_version=1)
    assert ledger.latest_decision_version("C1") == 2 and ledger.latest_outcome("C1") == second


def test_payments_for_all_or_one_claim(store: CaseStore) -> None:
    ledger = LedgerRepository(store)
    for claim_id, amount in (("C1", "10.00"), ("C2", "25.50")):
        money.record(
            store, Outcome(claim_id=claim_id, route=Route.FLASH_PAY, payable=Decimal(amount), decided_at=NOW)
        )
        assert pay(store, claim_id, CARD, entitled="张三", issued_by="test").instruction is not None
    assert [(p.claim_id, p.amount) for p in ledger.payments()] == [
        ("C1", Decimal("10.00")),
        ("C2", Decimal("25.50")),
    ]
    (one,) = ledger.payments("C2")
    assert one.idempotency_key == "C2:d1" and one.account == "4111111111111111"

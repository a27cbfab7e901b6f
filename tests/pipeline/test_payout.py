"""Payout: one payment per claim whatever happens, accounts checked, payment files complete."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.payout import Payee, account_problems, mask_account, pay, write_payment_files
from pipeline.records import Claim, Outcome, Route
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
GOOD = Payee(name="张三", bank="中国工商银行", account="4111 1111 1111 1111")


@pytest.fixture
def store(db_settings: Settings) -> CaseStore:
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


def _outcome(amount: str) -> Outcome:
    return Outcome(
        claim_id="C1",
        route=Route.FLASH_PAY,
        payable=Decimal(amount),
        decided_at=NOW,
        rule_set_version="2026.1",
        model_versions={"fraud": "v0001"},
    )


def test_paid_once_even_when_asked_again(store: CaseStore) -> None:
    first = pay(store, _outcome("120.50"), 1, GOOD, claimant="张三", now=NOW)
    assert first.instruction is not None
    assert first.instruction.amount == Decimal("120.50")
    assert first.instruction.account == "4111111111111111"
    again = pay(store, _outcome("120.50"), 1, GOOD, claimant="张三", now=NOW)
    assert again.already_paid and again.instruction is None
    assert len(store.payments("C1")) == 1


def test_a_later_decision_pays_only_the_difference(store: CaseStore) -> None:
    pay(store, _outcome("100"), 1, GOOD, claimant="张三")
    raised = pay(store, _outcome("150"), 2, GOOD, claimant="张三")
    assert raised.instruction is not None and raised.instruction.amount == Decimal("50.00")
    same = pay(store, _outcome("150"), 3, GOOD, claimant="张三")
    assert same.instruction is None and same.already_paid
    assert sum(p.amount for p in store.payments("C1")) == Decimal("150.00")


def test_bad_accounts_are_held(store: CaseStore) -> None:
    held = pay(
        store, _outcome("10"), 1, GOOD.model_copy(update={"account": "4111111111111112"}), claimant="张三"
    )
    assert held.instruction is None and "Luhn" in held.held[0]
    other = pay(store, _outcome("10"), 1, GOOD.model_copy(update={"name": "李四"}), claimant="张三")
    assert "not the claimant" in other.held[0]
    assert pay(store, _outcome("10"), 1, None, claimant="张三").held
    assert store.payments("C1") == []
    assert account_problems(GOOD.model_copy(update={"name": "张 三"}), "张三") == []
    assert mask_account("6222020200112233445") == "6222****3445"


def test_payment_files(tmp_path: Path, store: CaseStore) -> None:
    inst = pay(store, _outcome("99.9"), 1, GOOD, claimant="张三", now=NOW).instruction
    csv_path, json_path = write_payment_files("B1", [inst], tmp_path / "out")
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert rows[0]["idempotency_key"] == "C1:d1" and rows[0]["amount"] == "99.90"
    assert json.loads(rows[0]["model_versions"]) == {"fraud": "v0001"}
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["count"] == 1 and doc["total"] == "99.90"
    assert doc["payments"][0]["decision_version"] == "1"


def test_payment_csv_cells_never_run_as_formulas(tmp_path: Path, store: CaseStore) -> None:
    payee = GOOD.model_copy(update={"name": "=HYPERLINK(1)"})
    inst = pay(store, _outcome("12"), 1, payee, claimant="=HYPERLINK(1)", now=NOW).instruction
    assert inst is not None
    csv_path, json_path = write_payment_files("B1", [inst], tmp_path / "out")
    row = next(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert row["payee"] == "'=HYPERLINK(1)" and row["amount"] == "12.00"
    assert json.loads(json_path.read_text(encoding="utf-8"))["payments"][0]["payee"] == "=HYPERLINK(1)"

"""The ledger: a decision pays once and never above its amount, every instruction leaves in exactly one
payment file, and `reconcile` names every break."""

from __future__ import annotations

import csv
import datetime as dt
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import money
from helpers.facts import make_facts
from sqlalchemy import select, update

from pipeline import decisions
from pipeline.errors import ClaimsError
from pipeline.payout import (
    Payee,
    PayoutResult,
    account_problems,
    export_again,
    export_pending,
    mask_account,
    pay,
    payee_of,
    reconcile,
    settle_directly,
)
from pipeline.records import Claim, DirectSettlement, Outcome, Route
from pipeline.settings import Settings
from pipeline.store import CaseStore, PaymentRow, open_store

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
GOOD = Payee(name="张三", bank="中国工商银行", account="4111 1111 1111 1111")


def _claim(claim_id: str) -> Claim:
    return Claim(
        claim_id=claim_id,
        policy_number="P1",
        claimant="张三",
        incident_date=dt.date(2026, 2, 1),
        submitted_at=NOW,
    )


@pytest.fixture
def store(db_settings: Settings) -> Iterator[CaseStore]:
    s = open_store(db_settings)
    s.save_claim(_claim("C1"))
    yield s
    s.engine.dispose()


def _decide(store: CaseStore, amount: str, claim_id: str = "C1", route: Route = Route.FLASH_PAY) -> int:
    outcome = Outcome(
        claim_id=claim_id,
        route=route,
        payable=Decimal(amount) if route in decisions.PAYING else Decimal(0),
        decided_at=NOW,
        rule_set_version="2026.1",
        model_versions={"fraud": "v0001"},
    )
    return money.record(store, outcome)


def _pay(store: CaseStore, claim_id: str = "C1", payee: Payee | None = GOOD, **kw: object):  # type: ignore[no-untyped-def]
    return pay(store, claim_id, payee, entitled="张三", issued_by="test", now=NOW, **kw)  # type: ignore[arg-type]


def _approve_again(store: CaseStore, amount: str, by: str = "senior1") -> int:
    """A senior reopens the claim's final decision and an adjuster approves `amount`."""
    reopened = decisions.reopen(store, "C1", by=by, reason="complaint", now=NOW)
    outcome = Outcome(
        claim_id="C1",
        route=Route.AUTO_APPROVE,
        payable=Decimal(amount),
        decided_at=NOW + dt.timedelta(hours=1),
    )
    return decisions.record_review_decision(
        store, outcome, reviewer="adj1", routed_version=reopened.version
    ).version


def test_a_decision_pays_once_however_often_it_is_asked(store: CaseStore) -> None:
    _decide(store, "120.50")
    first = _pay(store)
    assert first.instruction is not None and first.instruction.amount == Decimal("120.50")
    assert first.instruction.account == "4111111111111111" and first.instruction.idempotency_key == "C1:d1"
    again = _pay(store)
    assert again.already_paid and again.instruction is None
    assert len(store.payments("C1")) == 1


def test_nothing_is_paid_for_a_decision_that_does_not_pay_or_was_superseded(store: CaseStore) -> None:
    assert _pay(store).instruction is None  # no decision yet
    _decide(store, "0", route=Route.ADJUSTER)
    assert _pay(store).instruction is None and store.payments("C1") == []
    decisions.record_review_decision(
        store,
        Outcome(claim_id="C1", route=Route.AUTO_APPROVE, payable=Decimal("80"), decided_at=NOW),
        reviewer="adj1",
        routed_version=1,
    )
    assert _pay(store, decision_version=1).instruction is None  # the caller meant v1: v2 is someone else's
    assert _pay(store, decision_version=2).instruction is not None


def test_a_later_decision_pays_only_the_difference_and_never_above_its_amount(store: CaseStore) -> None:
    _decide(store, "100")
    _pay(store)
    _approve_again(store, "150")
    raised = _pay(store)
    assert raised.instruction is not None and raised.instruction.amount == Decimal("50.00")
    assert raised.instruction.idempotency_key == "C1:d3"
    _approve_again(store, "120")  # lower than what was paid: nothing more, and reconcile says so
    assert _pay(store).instruction is None
    assert sum(p.amount for p in store.payments("C1")) == Decimal("150.00")


def test_bad_accounts_are_held(store: CaseStore) -> None:
    _decide(store, "10")
    held = _pay(store, payee=GOOD.model_copy(update={"account": "4111111111111112"}))
    assert held.instruction is None and "Luhn" in held.held[0]
    other = pay(store, "C1", GOOD.model_copy(update={"name": "李四"}), entitled="张三", issued_by="t")
    assert "not the claimant" in other.held[0]
    assert _pay(store, payee=None).held
    assert store.payments("C1") == []
    assert account_problems(GOOD.model_copy(update={"name": "张 三"}), "张三") == []
    assert mask_account("6222020200112233445") == "6222****3445"


def test_two_payers_at_once_make_one_payment(db_settings: Settings) -> None:
    """Two writers pay the same claim at the same moment, 40 times: the claim's lock lets one in."""
    store = open_store(db_settings)
    claims = [f"R{n:02d}" for n in range(40)]
    for cid in claims:
        store.save_claim(_claim(cid))
        _decide(store, "300", claim_id=cid)
    for cid in claims:
        gate = threading.Barrier(2)
        results: list[PayoutResult] = []

        def payer(
            cid: str = cid, gate: threading.Barrier = gate, results: list[PayoutResult] = results
        ) -> None:
            gate.wait()
            results.append(_pay(store, claim_id=cid))

        threads = [threading.Thread(target=payer) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(r.instruction is not None for r in results) == 1, cid
        assert [p.amount for p in store.payments(cid)] == [Decimal("300.00")]
    store.engine.dispose()


# --- payment files --------------------------------------------------------------------------------


def test_every_instruction_leaves_in_exactly_one_file(tmp_path: Path, store: CaseStore) -> None:
    out = tmp_path / "payments"
    _decide(store, "99.9")
    inst = _pay(store).instruction
    assert inst is not None
    first = export_pending(store, out, source="batch B1", now=NOW)
    assert first is not None and (first.file_id, first.count, first.total) == ("000001", 1, Decimal("99.90"))
    rows = list(csv.DictReader(first.csv_path.open(encoding="utf-8")))
    assert rows[0]["idempotency_key"] == "C1:d1" and rows[0]["amount"] == "99.90"
    assert json.loads(rows[0]["model_versions"]) == {"fraud": "v0001"}
    doc = json.loads(first.json_path.read_text(encoding="utf-8"))
    assert (doc["file_id"], doc["source"], doc["count"], doc["total"]) == ("000001", "batch B1", 1, "99.90")
    assert doc["payments"][0]["decision_version"] == "1"
    # a second batch over the same claim: nothing new, no second file with the same instruction
    assert export_pending(store, out, source="batch B2") is None
    store.save_claim(_claim("C2"))
    _decide(store, "10", claim_id="C2")
    _pay(store, claim_id="C2")
    second = export_pending(store, out, source="apply_review")
    assert second is not None and second.file_id == "000002" and second.count == 1
    keys = [r["idempotency_key"] for f in sorted(out.glob("*.csv")) for r in csv.DictReader(f.open())]
    assert sorted(keys) == ["C1:d1", "C2:d1"]
    assert not list(out.glob(".*"))  # no staging file left behind
    assert reconcile(store, out).ok


def test_an_earlier_file_is_written_again_byte_for_byte(tmp_path: Path, store: CaseStore) -> None:
    out = tmp_path / "payments"
    _decide(store, "12")
    _pay(store)
    export = export_pending(store, out, source="test")
    assert export is not None
    before = (export.csv_path.read_bytes(), export.json_path.read_bytes())
    export.csv_path.unlink()
    export.json_path.write_text("tampered", encoding="utf-8")
    again = export_again(store, out, "000001")
    assert (again.csv_path.read_bytes(), again.json_path.read_bytes()) == before
    assert export_again(store, out, "payments-000001.csv").count == 1
    with pytest.raises(ClaimsError, match="no payment file 000007"):
        export_again(store, out, "7")
    with pytest.raises(ClaimsError, match="not a payment file id"):
        export_again(store, out, "../etc/passwd")


def test_files_lost_after_the_commit_are_written_again_by_the_next_export(
    tmp_path: Path, store: CaseStore
) -> None:
    """A crash between the commit and the rename leaves the export recorded and its files missing."""
    out = tmp_path / "payments"
    _decide(store, "12")
    _pay(store)
    export = export_pending(store, out, source="test")
    assert export is not None
    text = export.csv_path.read_text(encoding="utf-8")
    export.csv_path.unlink()
    export.json_path.unlink()
    assert [b for b in reconcile(store, out).breaks if "missing" in b]
    assert export_pending(store, out, source="next") is None
    assert export.csv_path.read_text(encoding="utf-8") == text
    assert reconcile(store, out).ok


def test_a_failed_export_leaves_the_instructions_for_the_next(
    tmp_path: Path, store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import payout

    out = tmp_path / "payments"
    _decide(store, "12")
    _pay(store)

    def disk_full(path: Path, text: str) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(payout, "_staged_write", disk_full)
    with pytest.raises(OSError):
        export_pending(store, out, source="test")
    monkeypatch.undo()
    assert not list(out.iterdir())
    export = export_pending(store, out, source="test")
    assert export is not None and export.count == 1  # (PostgreSQL may skip the failed number)


def test_payment_csv_cells_never_run_as_formulas(tmp_path: Path, store: CaseStore) -> None:
    _decide(store, "12")
    payee = GOOD.model_copy(update={"name": "=HYPERLINK(1)"})
    assert pay(store, "C1", payee, entitled="=HYPERLINK(1)", issued_by="t").instruction is not None
    export = export_pending(store, tmp_path / "out", source="test")
    assert export is not None
    row = next(csv.DictReader(export.csv_path.open(encoding="utf-8")))
    assert row["payee"] == "'=HYPERLINK(1)" and row["amount"] == "12.00"
    assert json.loads(export.json_path.read_text(encoding="utf-8"))["payments"][0]["payee"] == "=HYPERLINK(1)"


# --- reconcile ------------------------------------------------------------------------------------


def test_reconcile_names_every_break(tmp_path: Path, store: CaseStore) -> None:
    out = tmp_path / "payments"
    _decide(store, "100")
    _pay(store)
    unexported = reconcile(store, out)
    assert unexported.breaks == ["C1:d1: in no payment file yet (`claims payments export`)"]
    export = export_pending(store, out, source="test")
    assert export is not None and reconcile(store, out).ok
    # an overpayment after a reopen is named with what to recover
    _approve_again(store, "60")
    assert reconcile(store, out).breaks == [
        "claim C1: 100.00 paid, above its final decision v3 (auto_approve 60.00): 40.00 to recover"
    ]
    # a copy of a file under another name lists its instructions twice
    (out / "payments-copy.csv").write_bytes(export.csv_path.read_bytes())
    assert any("in 2 payment files" in b for b in reconcile(store, out).breaks)
    # the database changed under a file
    with store.session() as s:
        s.execute(update(PaymentRow).values(amount=Decimal("90")))
    breaks = reconcile(store, out).breaks
    assert any("the ledger has 1, 90.00" in b for b in breaks)


def test_reconcile_owed_and_an_empty_store(tmp_path: Path, db_settings: Settings, store: CaseStore) -> None:
    _decide(store, "100")
    result = reconcile(store, tmp_path)
    assert result.ok and result.owed == ["claim C1: 100.00 of v1 not paid yet"]
    empty = open_store(Settings(data_dir=tmp_path / "empty"))
    with pytest.raises(ClaimsError, match="holds no claims: nothing to reconcile"):
        reconcile(empty, tmp_path)


def test_the_database_refuses_a_second_payment_of_one_decision(store: CaseStore) -> None:
    _decide(store, "100")
    _pay(store)
    with pytest.raises(Exception, match=r"(?i)unique"), store.session() as s:
        row = s.scalars(select(PaymentRow)).one()
        s.add(
            PaymentRow(
                idempotency_key="another-key",
                claim_id="C1",
                decision_version=row.decision_version,
                amount=Decimal(1),
                record={},
            )
        )


def test_direct_settlement_pays_the_hospital_not_the_claimant() -> None:
    """医疗直付: the facts name the hospital's account, and the money is owed to the invoicing hospital."""
    facts = make_facts(hospital="上海市浦江人民医院", payee="张三", account="6222020000000000001")
    assert settle_directly(facts, None) is facts
    assert payee_of(facts, "张三") == (
        Payee(name="张三", bank=facts.payee_bank or "", account=facts.payee_account or ""),
        "张三",
    )
    settled = settle_directly(
        facts,
        DirectSettlement(
            hospital="上海市浦江人民医院",
            account_name="上海市浦江人民医院",
            bank="中国银行",
            account="12345678901234",
        ),
    )
    assert settled.direct_settlement and settled.payee_account == "12345678901234"
    payee, entitled = payee_of(settled, facts.claim.claimant)
    assert payee == Payee(
        name="上海市浦江人民医院", bank="中国银行", account="12345678901234", corporate=True
    )
    assert entitled == "上海市浦江人民医院" and not account_problems(payee, entitled)

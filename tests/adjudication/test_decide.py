"""decide(): every route, the notices, the deadlines and the versions recorded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from helpers.facts import INCIDENT, INPATIENT_DOCS, items, make_facts
from pydantic import ValidationError

from adjudication.decide import DecisionBundle, decide
from adjudication.history import MemoryInvoiceHistory
from adjudication.rules import RuleBook
from pipeline.reasons import describe_source
from pipeline.records import (
    Adjudication,
    ClaimFacts,
    ClaimType,
    Decision,
    DocType,
    FraudBand,
    FraudScore,
    Route,
    TriageResult,
)
from pipeline.settings import Authority, Settings

NOW = dt.datetime(2025, 9, 10, 9, 0, tzinfo=dt.UTC)


class StubGate:
    def __init__(self, p: float) -> None:
        self.p, self.version, self.threshold = p, "stub-1", 0.9

    def probability(self, facts: ClaimFacts, triage: TriageResult, adjudication: Adjudication) -> float:
        return self.p


def _decide(
    facts: ClaimFacts,
    book: RuleBook,
    gate: StubGate | None = None,
    fraud: FraudScore | None = None,
    settings: Settings | None = None,
) -> DecisionBundle:
    return decide(
        facts,
        rules=book,
        history=MemoryInvoiceHistory([facts]),
        gate=gate,
        fraud=fraud,
        settings=settings or Settings(),
        now=NOW,
    )


def _inpatient() -> ClaimFacts:
    return make_facts(
        ClaimType.INPATIENT,
        days=4,
        sum_insured="200000",
        line_items=items(("床位费", "床位费", "甲", "240.00"), ("手术", "手术费", "甲", "3000.00")),
        documents=INPATIENT_DOCS,
        diagnoses=["K35.8"],
    )


def test_small_clean_claim_is_flash_paid(book: RuleBook) -> None:
    b = _decide(make_facts(fund_paid="60"), book, StubGate(0.99))
    assert b.outcome.route is Route.FLASH_PAY
    assert b.outcome.payable == Decimal("112.00") == b.adjudication.payable
    assert b.adjudication.decision is Decision.APPROVE and b.adjudication.gate_probability == 0.99
    assert b.outcome.rule_set_version == "2025.1"
    assert b.outcome.model_versions["adjudication-gate"] == "stub-1"
    assert b.notice and "112.00" in b.notice


def test_a_claim_with_intake_problems_is_never_paid_unseen(book: RuleBook) -> None:
    facts = make_facts(fund_paid="60")
    claim = facts.claim.model_copy(update={"problems": ["claims.csv row 3: submitted_at is in the future"]})
    b = _decide(facts.model_copy(update={"claim": claim}), book, StubGate(0.99))
    assert b.outcome.route is Route.ADJUSTER and b.outcome.payable == 0
    assert [r.text for r in b.outcome.reasons] == [
        "INTAKE_PROBLEMS: claims.csv row 3: submitted_at is in the future"
    ]
    assert describe_source(b.outcome.reasons[0].source) == "check: problems found at intake"


def test_without_a_gate_only_simple_claims_go_straight_through(book: RuleBook) -> None:
    assert _decide(make_facts(), book).outcome.route is Route.FLASH_PAY
    b = _decide(_inpatient(), book)
    assert b.outcome.route is Route.ADJUSTER and b.outcome.reasons[0].code == "GATE_UNAVAILABLE"


def test_standard_claim_is_auto_approved_when_the_gate_agrees(book: RuleBook) -> None:
    b = _decide(_inpatient(), book, StubGate(0.97))
    assert b.outcome.route is Route.AUTO_APPROVE
    assert b.outcome.payable == Decimal("2740.00")  # 3240 - 500 deductible, ratio 1.00 with social insurance


def test_gate_doubt_sends_the_claim_to_a_person(book: RuleBook) -> None:
    b = _decide(_inpatient(), book, StubGate(0.4))
    assert b.outcome.route is Route.ADJUSTER and b.outcome.payable == 0
    assert any(r.code == "GATE_NOT_CONFIDENT" for r in b.outcome.reasons)


def test_high_fraud_score_sends_the_claim_to_a_person(book: RuleBook) -> None:
    fraud = FraudScore(claim_id="T0001", score=0.8, band=FraudBand.HIGH, model_version="fraud-1")
    b = _decide(make_facts(), book, StubGate(0.99), fraud)
    assert b.outcome.route is Route.ADJUSTER
    assert b.outcome.model_versions["fraud"] == "fraud-1"
    calm = _decide(make_facts(), book, StubGate(0.99))
    assert b.triage.priority > calm.triage.priority


def test_large_payment_needs_a_person(book: RuleBook) -> None:
    facts = make_facts(
        ClaimType.CRITICAL_ILLNESS,
        diagnoses=["C34.9"],
        sum_insured="500000",
        documents=[
            DocType.DIAGNOSIS_CERTIFICATE,
            DocType.DISCHARGE_SUMMARY,
            DocType.CLAIM_FORM,
            DocType.ID_CARD,
            DocType.BANK_CARD,
        ],
    )
    b = _decide(facts, book, StubGate(0.99))
    assert b.adjudication.decision is Decision.APPROVE and b.adjudication.payable == Decimal("500000.00")
    assert b.outcome.route is Route.ADJUSTER and b.outcome.reasons[0].code == "ABOVE_AUTO_PAY_LIMIT"


def _inpatient_paying(payable: str) -> ClaimFacts:
    """A clean inpatient claim whose benefit is `payable` (the total less the 500 deductible)."""
    surgery = Decimal(payable) + Decimal("500.00") - Decimal("240.00")
    return make_facts(
        ClaimType.INPATIENT,
        days=4,
        sum_insured="200000",
        line_items=items(("床位费", "床位费", "甲", "240.00"), ("手术", "手术费", "甲", str(surgery))),
        documents=INPATIENT_DOCS,
        diagnoses=["K35.8"],
    )


def test_above_the_machines_limit_a_person_decides(book: RuleBook) -> None:
    big = _decide(_inpatient_paying("12000.00"), book, StubGate(0.99))
    assert big.adjudication.decision is Decision.APPROVE and big.adjudication.payable == Decimal("12000.00")
    assert big.outcome.route is Route.ADJUSTER and big.outcome.payable == 0
    assert [r.text for r in big.outcome.reasons] == ["ABOVE_AUTO_PAY_LIMIT: 12000.00 > 10000.00"]
    small = _decide(_inpatient_paying("9000.00"), book, StubGate(0.99))
    assert small.outcome.route is Route.AUTO_APPROVE and small.outcome.payable == Decimal("9000.00")
    assert not any(r.code == "ABOVE_AUTO_PAY_LIMIT" for r in small.outcome.reasons)


def test_a_products_own_limit_moves_the_machines(book: RuleBook) -> None:
    higher = Settings(authority=Authority(products={"IPM01": {"machine": Decimal("15000")}}))
    assert higher.authority.limit("machine", "IPM01") == Decimal("15000.00")
    b = _decide(_inpatient_paying("12000.00"), book, StubGate(0.99), settings=higher)
    assert b.outcome.route is Route.AUTO_APPROVE and b.outcome.payable == Decimal("12000.00")
    lower = Settings(authority=Authority(products={"IPM01": {"machine": Decimal("5000")}}))
    b = _decide(_inpatient_paying("9000.00"), book, StubGate(0.99), settings=lower)
    assert b.outcome.route is Route.ADJUSTER
    assert [r.text for r in b.outcome.reasons] == ["ABOVE_AUTO_PAY_LIMIT: 9000.00 > 5000.00"]
    # another product keeps the table's own row
    outpatient = _decide(make_facts(fund_paid="60"), book, StubGate(0.99), settings=lower)
    assert outpatient.outcome.route is Route.FLASH_PAY


def test_the_flash_pay_limit_stays_within_the_machines(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="above the machine's limit"):
        Settings(authority=Authority(machine=Decimal("2000")))
    monkeypatch.setenv("CLAIMS_AUTHORITY", '{"adjuster": "5000", "products": {"CI01": {"machine": "0"}}}')
    table = Settings().authority
    assert table.limit("adjuster") == Decimal("5000.00") and table.limit("senior_adjuster") == Decimal(
        "50000.00"
    )
    assert table.limit("machine", "CI01") == Decimal("0.00") and table.limit("machine", "OPM01") == Decimal(
        "10000.00"
    )
    assert table.limit("claims_manager") is None


def test_waiting_period_is_denied_with_a_notice_and_review_right(book: RuleBook) -> None:
    b = _decide(make_facts(effective=INCIDENT - dt.timedelta(days=10)), book, StubGate(0.99))
    assert b.outcome.route is Route.DENY and b.adjudication.decision is Decision.DENY
    assert b.adjudication.reason_codes == ["WAITING_PERIOD"]
    assert b.notice and "等待期" in b.notice and "人工复核" in b.notice and "不予赔付" in b.notice
    assert b.notify_by == NOW + dt.timedelta(days=3)
    assert sum(ln.refused for ln in b.adjudication.benefit_lines) == make_facts().total_claimed
    assert any(h.fatal and h.code == "WAITING_PERIOD" for h in b.adjudication.trace)


def test_nothing_payable_is_a_denial_in_plain_words(book: RuleBook) -> None:
    b = _decide(make_facts(line_items=items(("诊察费", "诊察费", "甲", "80.00"))), book, StubGate(0.99))
    assert b.outcome.route is Route.DENY and b.adjudication.reason_codes == ["BELOW_DEDUCTIBLE"]
    assert b.notice and "免赔额" in b.notice


def test_missing_documents_are_requested(book: RuleBook) -> None:
    facts = make_facts(documents=[DocType.OUTPATIENT_INVOICE, DocType.CLAIM_FORM, DocType.ID_CARD])
    b = _decide(facts, book, StubGate(0.99))
    assert b.outcome.route is Route.REQUEST_INFO
    assert b.missing_documents == [DocType.EXPENSE_LIST, DocType.BANK_CARD]
    assert b.notice and "费用清单" in b.notice and "银行卡" in b.notice


def test_an_illegible_photo_is_asked_for_again(book: RuleBook) -> None:
    facts = make_facts(documents=[DocType.OUTPATIENT_INVOICE, DocType.CLAIM_FORM, DocType.ID_CARD])
    facts = facts.model_copy(update={"illegible_documents": [DocType.BANK_CARD]})
    b = _decide(facts, book, StubGate(0.99))
    assert b.outcome.route is Route.REQUEST_INFO
    assert b.notice and "银行卡（已上传的照片无法看清" in b.notice and "费用清单\n" in b.notice
    # the photo is named too: its type was guessed from a blur (here the expense list it really is)
    facts = facts.model_copy(update={"illegible_files": ["IMG_0012.jpg"]})
    notice = _decide(facts, book, StubGate(0.99)).notice
    assert notice and "另：您上传的照片IMG_0012.jpg无法看清" in notice


def test_red_flags_go_to_an_adjuster_with_reasons(book: RuleBook) -> None:
    b = _decide(make_facts(hospital="康泰综合门诊部"), book, StubGate(0.99))
    assert b.outcome.route is Route.ADJUSTER and b.adjudication.decision is Decision.REFER
    assert b.adjudication.reason_codes == ["FRAUD_SUSPECTED", "PROVIDER_WATCHLIST"]
    assert b.adjudication.payable == Decimal("160.00")  # assessed for the adjuster, not paid
    assert b.outcome.payable == 0
    assert any("康泰综合门诊部" in r.message for r in b.outcome.reasons)


def test_partial_payment_when_the_limit_cuts_it(book: RuleBook) -> None:
    b = _decide(make_facts(sum_insured="5000", prior_paid="4950"), book, StubGate(0.99))
    assert b.adjudication.decision is Decision.PARTIAL and b.adjudication.reason_codes == ["OVER_LIMIT"]
    assert b.outcome.route is Route.FLASH_PAY and b.outcome.payable == Decimal("50.00")

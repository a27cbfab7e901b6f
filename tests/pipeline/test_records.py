"""Every record survives a JSON round trip unchanged; money stays exact Decimal yuan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from pipeline.records import (
    Adjudication,
    BenefitLine,
    Check,
    Claim,
    ClaimFacts,
    ClaimType,
    Complexity,
    Decision,
    DocStatus,
    DocType,
    Document,
    Extraction,
    Field,
    FieldKind,
    FraudBand,
    FraudReason,
    FraudScore,
    Invoice,
    LineItem,
    Outcome,
    Page,
    PaymentInstruction,
    Policy,
    ReviewAction,
    ReviewDecision,
    Route,
    RuleHit,
    TextLine,
    TriageResult,
    money,
)

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
BOX = [[1, 2], [30, 2], [30, 12], [1, 12]]
SHA = "a" * 64

LINE = TextLine(text="合计(大写) 壹佰贰拾叁元肆角", box=BOX, score=0.97)
PAGE = Page(number=1, width=1200, height=800, lines=[LINE], rotation=180)
DOC = Document(
    id=SHA,
    claim_id="C1",
    filename="发票.jpg",
    media_type="image/jpeg",
    size_bytes=1000,
    page_count=1,
    doc_type=DocType.OUTPATIENT_INVOICE,
    pages=[PAGE],
)
FIELDS = [
    Field(name="total", kind=FieldKind.MONEY, value="123.40", raw_text="¥123.40", confidence=0.9, box=BOX),
    Field(name="visit_date", kind=FieldKind.DATE, value="2026-02-20", raw_text="2026年02月20日"),
    Field(name="days", kind=FieldKind.INT, value="7", raw_text="7天"),
    Field(name="hospital", value="深圳市人民医院", raw_text="深圳市人民医院"),
    Field(name="social_insured", kind=FieldKind.BOOL, value=True, raw_text="职工医保"),
]
RECORDS: list[BaseModel] = [
    LINE,
    PAGE,
    DOC,
    Claim(
        claim_id="C1",
        policy_number="P1",
        claimant="张三",
        claim_type=ClaimType.OUTPATIENT,
        incident_date=dt.date(2026, 2, 20),
        submitted_at=NOW,
        amount_claimed=Decimal("123.4"),
        documents=[DOC],
    ),
    Extraction(
        document_id=SHA,
        doc_type=DocType.EXPENSE_LIST,
        doc_type_confidence=0.97,
        fields=FIELDS,
        line_items=[
            LineItem(
                name="阿莫西林胶囊",
                category="西药费",
                insurance_class="甲",
                quantity=Decimal("2"),
                unit_price=Decimal("12.5"),
                amount=Decimal("25"),
                box=BOX,
            )
        ],
        checks=[Check(name="items_sum_to_total", passed=False, message="items 25.00 != total 123.40")],
    ),
    TriageResult(
        claim_id="C1",
        complexity=Complexity.SIMPLE,
        flash_pay_eligible=True,
        star_tier=5,
        priority=90,
        due_at=NOW,
        reasons=["outpatient <= 3000"],
    ),
    Adjudication(
        claim_id="C1",
        decision=Decision.PARTIAL,
        payable=Decimal("80.00"),
        benefit_lines=[
            BenefitLine(
                description="西药费",
                claimed=Decimal("100"),
                payable=Decimal("80"),
                refused=Decimal("20"),
                reason_code="RATIO_80",
            ),
        ],
        reason_codes=["RATIO_80"],
        trace=[RuleHit(rule_id="in_force", code="OK", passed=True)],
        rule_set_version="2026.1",
        gate_probability=0.97,
        gate_model_version="gate-3",
    ),
    FraudScore(
        claim_id="C1",
        score=0.71,
        band=FraudBand.HIGH,
        model_version="fraud-7",
        reasons=[FraudReason(feature="acct_shared", contribution=1.2, message="账户被3名无关申请人共用")],
    ),
    Outcome(
        claim_id="C1",
        route=Route.FLASH_PAY,
        payable=Decimal("80"),
        decided_at=NOW,
        model_versions={"fraud": "fraud-7"},
    ),
    PaymentInstruction(
        idempotency_key="C1:1",
        claim_id="C1",
        payee="张三",
        bank="工商银行",
        account="6222020200112233445",
        amount=Decimal("80"),
        decision_version="1",
        created_at=NOW,
    ),
    ClaimFacts(
        claim=Claim(
            claim_id="C1",
            policy_number="P1",
            claimant="张三",
            incident_date=dt.date(2026, 2, 1),
            submitted_at=NOW,
        ),
        policy=Policy(
            policy_number="P1",
            product_id="IP01",
            policyholder="张三",
            insured="张三",
            effective_date=dt.date(2025, 1, 1),
            sum_insured=Decimal("20000"),
            social_insurance=True,
            cumulative_annualised_premium=Decimal("350000"),
            star_tier=5,
        ),
        claim_type=ClaimType.INPATIENT,
        diagnoses=["J18.9", "K76.0"],
        admission_date=dt.date(2026, 2, 1),
        discharge_date=dt.date(2026, 2, 10),
        invoices=[
            Invoice(
                invoice_code="35086193",
                invoice_number="5002781581",
                total=Decimal("9588.75"),
                fund_paid=Decimal("5148.03"),
                electronic=True,
                line_items=[LineItem(name="床位费", insurance_class="甲", amount=Decimal("191.35"))],
            )
        ],
        documents_present=[DocType.INPATIENT_INVOICE, DocType.DISCHARGE_SUMMARY],
        failed_checks=[Check(name="luhn", passed=False)],
    ),
    ReviewDecision(
        claim_id="C1",
        reviewer="alice",
        action=ReviewAction.REQUEST_INFO,
        decided_at=NOW,
        missing_documents=[DocType.DISCHARGE_SUMMARY],
    ),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_json_round_trip(record: BaseModel) -> None:
    again = type(record).model_validate_json(record.model_dump_json())
    assert again == record


def test_field_values_keep_their_type_through_json() -> None:
    for f in FIELDS:
        again = Field.model_validate_json(f.model_dump_json())
        assert type(again.value) is type(f.value)
    assert FIELDS[0].value == Decimal("123.40")
    assert FIELDS[1].value == dt.date(2026, 2, 20)
    assert FIELDS[2].value == 7


def test_money_is_exact_two_place_yuan() -> None:
    assert money(0.1) + money(0.2) == Decimal("0.30")
    assert money("2.675") == Decimal("2.68")  # half up, as printed on invoices
    assert '"amount":"80.00"' in RECORDS[9].model_dump_json()
    facts = next(r for r in RECORDS if isinstance(r, ClaimFacts))
    assert isinstance(facts, ClaimFacts)
    assert facts.days_in_hospital == 9
    assert facts.total_claimed == Decimal("9588.75")
    with pytest.raises(ValueError):
        money("NaN")


def test_invalid_records_are_refused() -> None:
    with pytest.raises(ValidationError):
        Document(id="not-a-sha", claim_id="C1", filename="x", media_type="image/png", size_bytes=1)
    with pytest.raises(ValidationError, match="problem"):
        Document(
            id=SHA,
            claim_id="C1",
            filename="x",
            media_type="image/png",
            size_bytes=1,
            status=DocStatus.QUARANTINED,
        )
    with pytest.raises(ValidationError, match="claimed"):
        BenefitLine(
            description="x", claimed=Decimal(10), payable=Decimal(8), refused=Decimal(1), reason_code="X"
        )
    with pytest.raises(ValidationError, match="reason"):
        ReviewDecision(claim_id="C1", reviewer="a", action=ReviewAction.DENY, decided_at=NOW)
    with pytest.raises(ValidationError, match="amount"):
        ReviewDecision(claim_id="C1", reviewer="a", action=ReviewAction.APPROVE, decided_at=NOW)
    with pytest.raises(ValidationError):
        TextLine(text="x", box=[[0, 0], [1, 1]], score=0.5)
    with pytest.raises(ValidationError):
        Claim(claim_id="C1", policy_number="P", claimant="x", incident_date="2026-13-01", submitted_at=NOW)

"""The expected-outcome arithmetic against examples computed by hand from the product YAML."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from pipeline.records import ClaimType, Decision, DocType
from synth.amounts import amount_in_words
from synth.outcome import expected_outcome
from synth.products import load_products
from synth.truth import BillTruth, IncidentTruth, ItemTruth, PolicyTruth

DAY = dt.date(2025, 10, 10)
OUTPATIENT_DOCS = {
    DocType.OUTPATIENT_INVOICE,
    DocType.EXPENSE_LIST,
    DocType.CLAIM_FORM,
    DocType.ID_CARD,
    DocType.BANK_CARD,
}


def _policy(
    product: str,
    effective: dt.date,
    *,
    social: bool = True,
    sum_insured: str = "10000",
    prior: str = "0",
    used: str = "0",
) -> PolicyTruth:
    return PolicyTruth(
        policy_number="P1",
        product_id=product,
        product_version="2025.1",
        policyholder="甲",
        insured="甲",
        insured_id_number="11010519491231002X",
        effective_date=effective,
        sum_insured=D(sum_insured),
        social_insurance=social,
        cumulative_annualised_premium=D("5000"),
        star_tier=1,
        prior_paid_this_year=D(prior),
        deductible_used_this_year=D(used),
    )


def _item(cls: str, amount: str) -> ItemTruth:
    return ItemTruth(
        date=DAY,
        code="1",
        name="x",
        category="西药费",
        insurance_class=cls,
        unit="盒",
        quantity=D(1),
        unit_price=D(amount),
        amount=D(amount),
    )


def _bill(fund: str, *items: ItemTruth) -> BillTruth:
    total = sum((i.amount for i in items), D(0))
    return BillTruth(
        invoice_code="1",
        invoice_number="2",
        check_code="",
        electronic=False,
        layout="beijing",
        issue_date=DAY,
        items=list(items),
        items_total=total,
        printed_total=total,
        printed_words=amount_in_words(total),
        fund_paid=D(fund),
        account_paid=D(0),
        cash_paid=total - D(fund),
        self_pay=D(0),
    )


def _incident(claim_type: ClaimType, icd: str = "J06.9", days: int = 0) -> IncidentTruth:
    return IncidentTruth(
        claim_type=claim_type,
        incident_date=DAY,
        hospital="某医院",
        hospital_grade="三级甲等",
        province_layout="beijing",
        department="内科",
        doctor="李",
        diagnoses=[(icd, "x")],
        admission_date=DAY if days else None,
        discharge_date=DAY + dt.timedelta(days=days) if days else None,
        hospital_number="MZ1",
        description="",
    )


def test_outpatient_reimbursement_by_hand() -> None:
    # OPM01: covered 甲+乙 = 300 + 200 = 500; 丙 100 not covered; social insurance paid 150 -> 350;
    # deductible 100 (none used) -> 250; ratio with social insurance 0.80 -> 200.00
    product = load_products()["OPM01"]
    bill = _bill("150", _item("甲", "300"), _item("乙", "200"), _item("丙", "100"))
    e = expected_outcome(
        product=product,
        policy=_policy("OPM01", DAY - dt.timedelta(days=400)),
        incident=_incident(ClaimType.OUTPATIENT),
        bills=[bill],
        document_types=OUTPATIENT_DOCS,
        fraud_patterns=[],
    )
    assert e.decision is Decision.APPROVE
    assert e.payable == D("200.00")
    assert sum(line.claimed for line in e.benefit_lines) == D("600.00")


def test_outpatient_without_social_insurance_and_over_limit() -> None:
    # no social insurance: 500 - 40 deductible left (60 used) = 460 x 0.50 = 230; limit left 5000 - 4900 = 100
    product = load_products()["OPM01"]
    bill = _bill("150", _item("甲", "300"), _item("乙", "200"))
    e = expected_outcome(
        product=product,
        policy=_policy(
            "OPM01", DAY - dt.timedelta(days=400), social=False, sum_insured="5000", prior="4900", used="60"
        ),
        incident=_incident(ClaimType.OUTPATIENT),
        bills=[bill],
        document_types=OUTPATIENT_DOCS,
        fraud_patterns=[],
    )
    assert e.decision is Decision.PARTIAL
    assert e.payable == D("100.00")
    assert e.reason_codes == ["OVER_LIMIT"]


def test_denials_and_requests() -> None:
    products = load_products()
    bill = _bill("0", _item("甲", "300"))
    waiting = expected_outcome(
        product=products["OPM01"],
        policy=_policy("OPM01", DAY - dt.timedelta(days=10)),
        incident=_incident(ClaimType.OUTPATIENT),
        bills=[bill],
        document_types=OUTPATIENT_DOCS,
        fraud_patterns=[],
    )
    assert (waiting.decision, waiting.reason_codes) == (Decision.DENY, ["WAITING_PERIOD"])
    dental = expected_outcome(
        product=products["OPM01"],
        policy=_policy("OPM01", DAY - dt.timedelta(days=400)),
        incident=_incident(ClaimType.OUTPATIENT, "K02.9"),
        bills=[bill],
        document_types=OUTPATIENT_DOCS,
        fraud_patterns=[],
    )
    assert (dental.decision, dental.reason_codes) == (Decision.DENY, ["EXCLUDED_DENTAL"])
    missing = expected_outcome(
        product=products["OPM01"],
        policy=_policy("OPM01", DAY - dt.timedelta(days=400)),
        incident=_incident(ClaimType.OUTPATIENT),
        bills=[bill],
        document_types=OUTPATIENT_DOCS - {DocType.BANK_CARD},
        fraud_patterns=[],
    )
    assert missing.decision is Decision.REQUEST_INFO and missing.missing_documents == [DocType.BANK_CARD]
    refer = expected_outcome(
        product=products["OPM01"],
        policy=_policy("OPM01", DAY - dt.timedelta(days=400)),
        incident=_incident(ClaimType.OUTPATIENT),
        bills=[bill],
        document_types=OUTPATIENT_DOCS,
        fraud_patterns=["shared_bank_account"],
    )
    assert refer.decision is Decision.REFER and refer.payable == 0 and refer.assessed == D("160.00")


def test_hospital_cash_and_critical_illness() -> None:
    products = load_products()
    docs = {
        DocType.INPATIENT_INVOICE,
        DocType.DISCHARGE_SUMMARY,
        DocType.CLAIM_FORM,
        DocType.ID_CARD,
        DocType.BANK_CARD,
    }
    # HCA01: 6 nights x 200.00 = 1200.00
    cash = expected_outcome(
        product=products["HCA01"],
        policy=_policy("HCA01", DAY - dt.timedelta(days=400), sum_insured="36000"),
        incident=_incident(ClaimType.INPATIENT, "J18.9", days=6),
        bills=[],
        document_types=docs,
        fraud_patterns=[],
    )
    assert (cash.decision, cash.payable) == (Decision.APPROVE, D("1200.00"))
    ci_docs = {
        DocType.DIAGNOSIS_CERTIFICATE,
        DocType.DISCHARGE_SUMMARY,
        DocType.CLAIM_FORM,
        DocType.ID_CARD,
        DocType.BANK_CARD,
    }
    ci = expected_outcome(
        product=products["CI01"],
        policy=_policy("CI01", DAY - dt.timedelta(days=100), sum_insured="300000"),
        incident=_incident(ClaimType.CRITICAL_ILLNESS, "C34.9", days=5),
        bills=[],
        document_types=ci_docs,
        fraud_patterns=[],
    )
    assert (ci.decision, ci.payable) == (Decision.APPROVE, D("300000.00"))
    early = expected_outcome(
        product=products["CI01"],
        policy=_policy("CI01", DAY - dt.timedelta(days=60), sum_insured="300000"),
        incident=_incident(ClaimType.CRITICAL_ILLNESS, "C34.9", days=5),
        bills=[],
        document_types=ci_docs,
        fraud_patterns=[],
    )
    assert early.reason_codes == ["WAITING_PERIOD"]
    benign = expected_outcome(
        product=products["CI01"],
        policy=_policy("CI01", DAY - dt.timedelta(days=400), sum_insured="300000"),
        incident=_incident(ClaimType.CRITICAL_ILLNESS, "D24", days=5),
        bills=[],
        document_types=ci_docs,
        fraud_patterns=[],
    )
    assert benign.reason_codes == ["NOT_COVERED_CONDITION"]


def test_products_have_version_and_dates() -> None:
    for product in load_products().values():
        assert product.version and product.effective_from <= dt.date(2026, 1, 1)
        assert product.required_documents

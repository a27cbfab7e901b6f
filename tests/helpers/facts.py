"""Hand-made claim facts for the adjudication tests: a clean claim unless told otherwise."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pipeline.records import (
    Claim,
    ClaimFacts,
    ClaimType,
    DocType,
    Invoice,
    LineItem,
    Policy,
)

D = Decimal
INCIDENT = dt.date(2025, 9, 1)
OUTPATIENT_DOCS = [
    DocType.OUTPATIENT_INVOICE,
    DocType.EXPENSE_LIST,
    DocType.CLAIM_FORM,
    DocType.ID_CARD,
    DocType.BANK_CARD,
]
INPATIENT_DOCS = [
    DocType.INPATIENT_INVOICE,
    DocType.EXPENSE_LIST,
    DocType.DISCHARGE_SUMMARY,
    DocType.CLAIM_FORM,
    DocType.ID_CARD,
    DocType.BANK_CARD,
]
PRODUCT = {
    ClaimType.OUTPATIENT: "OPM01",
    ClaimType.INPATIENT: "IPM01",
    ClaimType.ACCIDENT: "AM01",
    ClaimType.CRITICAL_ILLNESS: "CI01",
}


def items(*rows: tuple[str, str, str, str]) -> list[LineItem]:
    """(name, category, class, amount) rows."""
    return [LineItem(name=n, category=c, insurance_class=k, amount=D(a)) for n, c, k, a in rows]  # type: ignore[arg-type]


def make_facts(
    claim_type: ClaimType = ClaimType.OUTPATIENT,
    *,
    claim_id: str = "T0001",
    line_items: list[LineItem] | None = None,
    fund_paid: str = "0",
    social_insurance: bool = True,
    sum_insured: str = "10000",
    prior_paid: str = "0",
    deductible_used: str = "0",
    effective: dt.date = dt.date(2023, 1, 1),
    incident: dt.date = INCIDENT,
    diagnoses: list[str] | None = None,
    documents: list[DocType] | None = None,
    days: int = 0,
    product_id: str | None = None,
    invoice_number: str = "0000000001",
    hospital: str = "上海市浦江人民医院",
    payee: str = "张三",
    account: str = "6222020000000000001",
    claimant_id: str = "11010519491231002X",
    submitted: dt.datetime | None = None,
    **policy_kw: Any,
) -> ClaimFacts:
    """A clean claim of `claim_type` unless told otherwise."""
    if line_items is None:
        line_items = items(
            ("诊察费", "诊察费", "甲", "100.00"),
            ("头孢", "西药费", "乙", "200.00"),
            ("维C", "西药费", "丙", "50.00"),
        )
    total = sum((i.amount for i in line_items), D(0))
    if documents is None:
        documents = INPATIENT_DOCS if claim_type is ClaimType.INPATIENT else OUTPATIENT_DOCS
    invoices = (
        []
        if claim_type is ClaimType.CRITICAL_ILLNESS
        else [
            Invoice(
                invoice_code="11000000",
                invoice_number=invoice_number,
                hospital=hospital,
                issue_date=incident + dt.timedelta(days=days),
                visit_date=incident,
                total=total,
                fund_paid=D(fund_paid),
                line_items=line_items,
            )
        ]
    )
    return ClaimFacts(
        claim=Claim(
            claim_id=claim_id,
            policy_number="P-1",
            claimant="张三",
            claimant_id_number=claimant_id,
            insured="张三",
            claim_type=claim_type,
            incident_date=incident,
            submitted_at=submitted
            or dt.datetime.combine(incident + dt.timedelta(days=days + 3), dt.time(10)),
            amount_claimed=total if invoices else D(sum_insured),
        ),
        policy=Policy(
            policy_number="P-1",
            product_id=product_id or PRODUCT[claim_type],
            product_version="2025.1",
            policyholder="张三",
            insured="张三",
            effective_date=effective,
            sum_insured=D(sum_insured),
            social_insurance=social_insurance,
            prior_paid_this_year=D(prior_paid),
            deductible_used_this_year=D(deductible_used),
            **policy_kw,
        ),
        claim_type=claim_type,
        diagnoses=diagnoses if diagnoses is not None else ["J06.9"],
        hospital=hospital,
        admission_date=incident if days else None,
        discharge_date=incident + dt.timedelta(days=days) if days else None,
        invoices=invoices,
        documents_present=documents,
        payee_name=payee,
        payee_bank="中国银行",
        payee_account=account,
    )

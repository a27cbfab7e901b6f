"""Triage: simple / standard / complex, flash-pay eligibility, VIP priority and legal deadlines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from classifiers.triage import triage
from pipeline.records import (
    Check,
    Claim,
    ClaimFacts,
    ClaimType,
    Complexity,
    DocType,
    Invoice,
    LineItem,
    Policy,
)
from pipeline.settings import Settings

SUBMITTED = dt.datetime(2025, 9, 5, 10, 0, tzinfo=dt.UTC)
NOW = SUBMITTED + dt.timedelta(hours=1)
DOCS = [
    DocType.OUTPATIENT_INVOICE,
    DocType.EXPENSE_LIST,
    DocType.CLAIM_FORM,
    DocType.ID_CARD,
    DocType.BANK_CARD,
]


def _facts(
    claim_type: ClaimType = ClaimType.OUTPATIENT,
    amount: str = "800.00",
    *,
    days: int = 0,
    star: int = 1,
    diagnoses: tuple[str, ...] = ("J06.9",),
    effective: dt.date = dt.date(2022, 1, 1),
    documents: list[DocType] = DOCS,
    **update: object,
) -> ClaimFacts:
    incident = dt.date(2025, 9, 1)
    facts = ClaimFacts(
        claim=Claim(
            claim_id="T1",
            policy_number="P-1",
            claimant="张三",
            incident_date=incident,
            submitted_at=SUBMITTED,
        ),
        policy=Policy(
            policy_number="P-1",
            product_id="OPM01",
            policyholder="张三",
            insured="张三",
            effective_date=effective,
            sum_insured=Decimal("10000"),
            social_insurance=True,
            star_tier=star,
        ),
        claim_type=claim_type,
        diagnoses=list(diagnoses),
        admission_date=incident if days else None,
        discharge_date=incident + dt.timedelta(days=days) if days else None,
        invoices=[
            Invoice(
                total=Decimal(amount),
                line_items=[LineItem(name="诊察费", insurance_class="甲", amount=Decimal(amount))],
            )
        ],
        documents_present=documents,
    )
    return facts.model_copy(update=update)


def _triage(facts: ClaimFacts, **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("required_documents", DOCS)
    return triage(facts, Settings(), now=NOW, **kw)  # type: ignore[arg-type]


def test_small_clean_outpatient_claim_is_simple_and_flash_payable() -> None:
    t = _triage(_facts())
    assert t.complexity is Complexity.SIMPLE and t.flash_pay_eligible
    assert t.due_at == SUBMITTED + dt.timedelta(days=1)


def test_the_flash_pay_limit_is_inclusive() -> None:
    assert _triage(_facts(amount="3000.00")).complexity is Complexity.SIMPLE
    over = _triage(_facts(amount="3000.01"))
    assert over.complexity is Complexity.STANDARD and not over.flash_pay_eligible
    assert over.due_at == SUBMITTED + dt.timedelta(days=5)


@pytest.mark.parametrize(
    ("what", "facts"),
    [
        ("missing document", _facts(documents=DOCS[:3])),
        ("low-confidence reading", _facts(low_confidence_fields=["total"])),
        ("inpatient", _facts(ClaimType.INPATIENT, days=3)),
        ("no diagnosis", _facts(diagnoses=())),
    ],
)
def test_anything_unclear_makes_a_claim_standard(what: str, facts: ClaimFacts) -> None:
    assert _triage(facts).complexity is Complexity.STANDARD, what


@pytest.mark.parametrize(
    ("what", "facts"),
    [
        ("large amount", _facts(ClaimType.INPATIENT, "60000.00", days=5)),
        ("critical illness", _facts(ClaimType.CRITICAL_ILLNESS, diagnoses=("C34.9",))),
        ("severe diagnosis", _facts(ClaimType.INPATIENT, "9000.00", days=5, diagnoses=("I21.9",))),
        ("long stay", _facts(ClaimType.INPATIENT, "9000.00", days=20)),
        ("failed check", _facts(failed_checks=[Check(name="items_sum_to_total", passed=False)])),
        ("young policy", _facts(effective=dt.date(2025, 6, 1))),
    ],
)
def test_complex_claims_get_thirty_days(what: str, facts: ClaimFacts) -> None:
    t = _triage(facts)
    assert t.complexity is Complexity.COMPLEX, what
    assert t.due_at == SUBMITTED + dt.timedelta(days=30)
    assert not t.flash_pay_eligible


def test_many_prior_claims_make_a_claim_complex() -> None:
    assert _triage(_facts(), prior_claims=2).complexity is Complexity.SIMPLE
    assert _triage(_facts(), prior_claims=3).complexity is Complexity.STANDARD
    assert _triage(_facts(), prior_claims=4).complexity is Complexity.COMPLEX


def test_vip_star_tier_raises_priority() -> None:
    plain, vip = _triage(_facts(star=1)), _triage(_facts(star=5))
    assert vip.star_tier == 5 and vip.priority > plain.priority
    assert vip.complexity is plain.complexity


def test_a_near_deadline_raises_priority() -> None:
    f = _facts(ClaimType.INPATIENT, "60000.00", days=5)
    early = triage(f, Settings(), now=SUBMITTED, required_documents=DOCS)
    late = triage(f, Settings(), now=SUBMITTED + dt.timedelta(days=29, hours=12), required_documents=DOCS)
    assert late.priority > early.priority


def test_unknown_required_documents_never_make_a_claim_simple() -> None:
    assert triage(_facts(), Settings(), now=NOW).complexity is Complexity.STANDARD

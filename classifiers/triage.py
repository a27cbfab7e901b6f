"""Triage (案件分类): how hard a claim is, whether it may be flash-paid, and when it must be decided.

Rules first, parameters in `TriageConfig`:

- simple (简单案件): an outpatient or accident-outpatient claim up to `settings.flash_pay_limit`
  (3,000 yuan, the small-claims guideline for 闪赔闪付), all documents present and clean (no failed
  or low-confidence reading), an ordinary diagnosis, a policy past its first months, few prior claims;
  eligible for flash pay.
- complex (复杂案件): large amounts, critical illness or severe diagnoses, long hospital stays, failed
  document checks, a young policy, many prior claims.
- standard: everything else.

Deadlines come from the Insurance Law (保险法 art. 23-24): a determination within 30 days for complex
claims (shorter for the others by the service standard), and a denial notified within 3 days of the
decision (`DENIAL_NOTICE_DAYS`, applied by `adjudication.decide`). VIP star tier (星级客户) raises
priority; so does a deadline that is near.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from pydantic import BaseModel, Field

from pipeline.records import Check, Claim, ClaimFacts, ClaimType, Complexity, DocType, TriageResult
from pipeline.settings import Settings

log = logging.getLogger(__name__)

MODEL_VERSION = "triage-rules-1"
DENIAL_NOTICE_DAYS = 3
"""保险法 art. 24: a denial is notified within 3 days of the decision, with the reason."""


class TriageConfig(BaseModel):
    """Thresholds of the triage rules; days are calendar days."""

    complex_amount: Decimal = Decimal("50000.00")
    complex_days_in_hospital: int = 15
    young_policy_days: int = 180
    many_prior_claims: int = 3
    severe_icd10: list[tuple[str, str]] = Field(
        default_factory=lambda: [
            ("C00", "D09"),  # malignant and in-situ neoplasms
            ("I21", "I22"),  # myocardial infarction
            ("I60", "I64"),  # stroke
            ("N17", "N19"),  # renal failure
            ("S06", "S06"),  # intracranial injury
            ("T20", "T32"),  # burns
            ("Z94", "Z94"),  # transplant
        ]
    )
    decide_within_days: dict[Complexity, int] = Field(
        default_factory=lambda: {Complexity.SIMPLE: 1, Complexity.STANDARD: 5, Complexity.COMPLEX: 30}
    )
    priority_base: dict[Complexity, int] = Field(
        default_factory=lambda: {Complexity.SIMPLE: 20, Complexity.STANDARD: 40, Complexity.COMPLEX: 60}
    )
    star_bonus: int = 5
    """Priority points per VIP star above one."""


def severe(icd10: str, config: TriageConfig) -> bool:
    cat = icd10.replace(".", "").upper()[:3]
    return any(lo <= cat <= hi for lo, hi in config.severe_icd10)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def error_clock(
    claim: Claim, now: dt.datetime, config: TriageConfig | None = None
) -> tuple[dt.datetime, int]:
    """The legal clock and queue priority of a claim that could not be processed (no facts to triage):
    a standard claim's deadline from its submission, and the priority a near deadline earns."""
    cfg = config or TriageConfig()
    due = _aware(claim.submitted_at) + dt.timedelta(days=cfg.decide_within_days[Complexity.STANDARD])
    hours_left = (due - _aware(now)).total_seconds() / 3600
    bump = 20 if hours_left < 24 else 10 if hours_left < 72 else 0
    return due, cfg.priority_base[Complexity.STANDARD] + bump


def triage(
    facts: ClaimFacts,
    settings: Settings,
    *,
    now: dt.datetime,
    required_documents: list[DocType] | None = None,
    prior_claims: int = 0,
    config: TriageConfig | None = None,
) -> TriageResult:
    """Classify a claim as simple, standard or complex, with its priority and deadline.

    `required_documents` are the product's (None: not known, so the claim cannot be simple);
    `prior_claims` counts other claims on the policy (from the invoice history).
    """
    cfg = config or TriageConfig()
    claim, policy = facts.claim, facts.policy
    amount = facts.total_claimed if facts.invoices else (claim.amount_claimed or Decimal(0))
    complex_why: list[str] = []
    not_simple: list[str] = []

    failed: list[Check] = [c for c in facts.failed_checks if not c.passed]
    if failed:
        complex_why.append("failed checks: " + ", ".join(sorted({c.name for c in failed})))
    if amount > cfg.complex_amount:
        complex_why.append(f"amount {amount} > {cfg.complex_amount}")
    if facts.claim_type is ClaimType.CRITICAL_ILLNESS:
        complex_why.append("critical illness")
    if any(severe(d, cfg) for d in facts.diagnoses):
        complex_why.append("severe diagnosis")
    days = facts.days_in_hospital
    if days is not None and days > cfg.complex_days_in_hospital:
        complex_why.append(f"{days} days in hospital")
    if policy is None:
        complex_why.append("policy not found")
    else:
        age = (claim.incident_date - (policy.reinstated_at or policy.effective_date)).days
        if age < cfg.young_policy_days:
            complex_why.append(f"policy {age} days old")
    if prior_claims > cfg.many_prior_claims:
        complex_why.append(f"{prior_claims} prior claims")

    if facts.claim_type not in (ClaimType.OUTPATIENT, ClaimType.ACCIDENT) or days:
        not_simple.append("not an outpatient claim")
    if amount > settings.flash_pay_limit:
        not_simple.append(f"amount {amount} > flash-pay limit {settings.flash_pay_limit}")
    if required_documents is None:
        not_simple.append("required documents unknown")
    else:
        missing = [d for d in required_documents if d not in facts.documents_present]
        if missing:
            not_simple.append("missing " + ", ".join(d.value for d in missing))
    if facts.low_confidence_fields:
        not_simple.append("low-confidence fields: " + ", ".join(facts.low_confidence_fields))
    if not facts.diagnoses or not facts.invoices:
        not_simple.append("facts unclear (no diagnosis or invoice)")
    if prior_claims > 0 and prior_claims >= cfg.many_prior_claims:
        not_simple.append(f"{prior_claims} prior claims")

    if complex_why:
        complexity, reasons = Complexity.COMPLEX, complex_why + not_simple
    elif not_simple:
        complexity, reasons = Complexity.STANDARD, not_simple
    else:
        complexity, reasons = Complexity.SIMPLE, ["outpatient, small, clean documents, clear facts"]

    received = _aware(claim.submitted_at)
    due = received + dt.timedelta(days=cfg.decide_within_days[complexity])
    star = policy.star_tier if policy else 1
    priority = cfg.priority_base[complexity] + cfg.star_bonus * (star - 1)
    hours_left = (due - _aware(now)).total_seconds() / 3600
    if hours_left < 24:
        priority += 20  # the legal clock is about to run out
    elif hours_left < 72:
        priority += 10
    if star > 1:
        reasons.append(f"VIP {star} stars")
    return TriageResult(
        claim_id=claim.claim_id,
        complexity=complexity,
        flash_pay_eligible=complexity is Complexity.SIMPLE,
        star_tier=star,
        priority=priority,
        due_at=due,
        reasons=reasons,
        model_version=MODEL_VERSION,
    )

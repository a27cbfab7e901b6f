"""The expected outcome of a claim, by plain arithmetic on the product terms (YAML), nothing else.

Independent of `adjudication/` on purpose: the engine is tested against these numbers. Order of
checks: documents missing -> request info; duplicate invoice, waiting period, exclusion, not a
covered condition -> deny; planted fraud pattern -> refer; otherwise pay what the terms give
(partial when the annual limit cut it, deny when nothing is left after the deductible).
"""

from __future__ import annotations

from decimal import Decimal

from pipeline.records import BenefitLine, ClaimType, Decision, DocType, money
from synth.amounts import amount_in_words
from synth.products import Benefit, Product
from synth.truth import BillTruth, ExpectedOutcome, IncidentTruth, PolicyTruth

ZERO = Decimal("0.00")

SOON_AFTER_INCEPTION_DAYS = 15
"""Days after the end of the waiting period (or after inception) within which a claim looks early."""


def fraud_signals(
    bills: list[BillTruth],
    incident: IncidentTruth,
    policy: PolicyTruth,
    product: Product,
    anomalous_providers: set[str],
) -> list[str]:
    """Fraud patterns visible in the claim's own data (cross-claim ones are added by the book)."""
    found: list[str] = []
    if any(b.printed_total != b.items_total for b in bills):
        found.append("altered_invoice")
    if any(b.printed_words != amount_in_words(b.printed_total) for b in bills):
        found.append("words_figures_mismatch")
    days = (incident.incident_date - policy.effective_date).days
    waiting = 0 if incident.claim_type is ClaimType.ACCIDENT else product.waiting_period_days
    if waiting and waiting <= days < waiting + SOON_AFTER_INCEPTION_DAYS:
        found.append("soon_after_inception")
    if incident.hospital in anomalous_providers:
        found.append("provider_anomaly")
    return found


def expected_outcome(
    *,
    product: Product,
    policy: PolicyTruth,
    incident: IncidentTruth,
    bills: list[BillTruth],
    document_types: set[DocType],
    fraud_patterns: list[str],
) -> ExpectedOutcome:
    """What a correct adjudication concludes for this claim."""
    claim_type = incident.claim_type
    working: list[str] = []

    def result(
        decision: Decision,
        codes: list[str],
        payable: Decimal = ZERO,
        assessed: Decimal = ZERO,
        lines: list[BenefitLine] | None = None,
        missing: list[DocType] | None = None,
    ) -> ExpectedOutcome:
        return ExpectedOutcome(
            decision=decision,
            payable=payable,
            assessed=assessed,
            reason_codes=codes,
            missing_documents=missing or [],
            fraud_patterns=fraud_patterns,
            benefit_lines=lines or [],
            working=working,
            product_version=f"{product.product_id}@{product.version}",
        )

    required = product.required_documents.get(claim_type, [])
    missing = [d for d in required if d not in document_types]
    if missing:
        working.append("missing: " + ", ".join(d.value for d in missing))
        return result(Decision.REQUEST_INFO, ["MISSING_DOCUMENT"], missing=missing)
    if any(b.duplicate_of for b in bills):
        working.append("invoice already claimed in " + ", ".join(b.duplicate_of or "" for b in bills))
        return result(Decision.DENY, ["DUPLICATE_INVOICE"])
    waiting = product.waiting_period_days
    if claim_type is ClaimType.ACCIDENT and not product.waiting_period_applies_to_accident:
        waiting = 0
    days_in_force = (incident.incident_date - policy.effective_date).days
    working.append(f"days in force at incident: {days_in_force} (waiting period {waiting})")
    if days_in_force < waiting:
        return result(Decision.DENY, ["WAITING_PERIOD"])
    for icd10, _name in incident.diagnoses[:1]:
        exclusion = product.exclusion_for(icd10)
        if exclusion:
            working.append(f"{icd10} falls in exclusion {exclusion.start}-{exclusion.end} {exclusion.label}")
            return result(Decision.DENY, [exclusion.code or "EXCLUDED"])
    benefit = product.benefit_for(claim_type)
    listed = benefit.kind == "lump_sum" or bool(product.covered_conditions)  # AM01 lists injuries
    if listed and not any(product.covers_condition(c) for c, _ in incident.diagnoses):
        working.append(f"{incident.diagnoses[0][0]} is not a covered condition")
        return result(Decision.DENY, ["NOT_COVERED_CONDITION"])

    limit_left = max(ZERO, policy.sum_insured - policy.prior_paid_this_year)
    working.append(f"limit left: {policy.sum_insured} - {policy.prior_paid_this_year} = {limit_left}")
    if benefit.kind == "reimbursement":
        raw, payable, lines = _reimbursement(policy, benefit, bills, limit_left, working)
    elif benefit.kind == "daily_allowance":
        raw, payable, lines = _daily_allowance(incident, benefit, limit_left, working)
    else:
        raw, payable, lines = _lump_sum(policy, limit_left, working)

    if fraud_patterns:
        working.append("fraud patterns: " + ", ".join(fraud_patterns))
        return result(Decision.REFER, ["FRAUD_SUSPECTED"], assessed=payable, lines=lines)
    if payable <= 0:
        code = (
            "ALREADY_PAID"
            if benefit.kind == "lump_sum"
            else ("OVER_LIMIT" if limit_left <= 0 else "BELOW_DEDUCTIBLE")
        )
        return result(Decision.DENY, [code], lines=lines)
    if payable < raw:
        return result(Decision.PARTIAL, ["OVER_LIMIT"], payable=payable, assessed=payable, lines=lines)
    return result(Decision.APPROVE, [], payable=payable, assessed=payable, lines=lines)


def _reimbursement(
    policy: PolicyTruth, benefit: Benefit, bills: list[BillTruth], limit_left: Decimal, working: list[str]
) -> tuple[Decimal, Decimal, list[BenefitLine]]:
    """Medical expenses line by line: covered classes, less social insurance, deductible, ratio, limit."""
    lines: list[BenefitLine] = []
    items = [i for b in bills for i in b.items]
    total = money(sum((i.amount for i in items), ZERO))
    covered = money(sum((i.amount for i in items if i.insurance_class in benefit.covered_classes), ZERO))
    fund = money(sum((b.fund_paid for b in bills), ZERO)) if policy.social_insurance else ZERO
    fund = min(fund, covered)
    eligible = covered - fund
    if benefit.deductible_basis == "per_year":
        deductible_left = max(ZERO, benefit.deductible - policy.deductible_used_this_year)
    else:
        deductible_left = benefit.deductible
    deductible = min(deductible_left, eligible)
    after = eligible - deductible
    ratio = (
        benefit.ratio_with_social_insurance
        if policy.social_insurance
        else benefit.ratio_without_social_insurance
    )
    raw = money(after * ratio)
    payable = min(raw, limit_left)
    working += [
        f"items {total}; covered classes {'/'.join(benefit.covered_classes)}: {covered}",
        f"social insurance paid {fund}; eligible {covered} - {fund} = {eligible}",
        f"deductible left {deductible_left}; applied {deductible}; after deductible {after}",
        f"ratio {ratio}: {after} x {ratio} = {raw}; capped by limit left {limit_left}: {payable}",
    ]
    uncovered = total - covered
    if uncovered:
        lines.append(
            BenefitLine(
                description="不在保障范围的项目（丙类自费）",
                claimed=uncovered,
                payable=ZERO,
                refused=uncovered,
                reason_code="CLASS_NOT_COVERED",
            )
        )
    if fund:
        lines.append(
            BenefitLine(
                description="社会医疗保险统筹基金已支付",
                claimed=fund,
                payable=ZERO,
                refused=fund,
                reason_code="PAID_BY_SOCIAL_INSURANCE",
            )
        )
    if deductible:
        lines.append(
            BenefitLine(
                description="免赔额",
                claimed=deductible,
                payable=ZERO,
                refused=deductible,
                reason_code="DEDUCTIBLE",
            )
        )
    if after:
        lines.append(
            BenefitLine(
                description=f"按{ratio}比例给付",
                claimed=after,
                payable=payable,
                refused=after - payable,
                reason_code="OVER_LIMIT" if payable < raw else "COINSURANCE",
            )
        )
    return raw, payable, lines


def _daily_allowance(
    incident: IncidentTruth, benefit: Benefit, limit_left: Decimal, working: list[str]
) -> tuple[Decimal, Decimal, list[BenefitLine]]:
    """So much a day in hospital (住院津贴), after the deductible days, up to the days per claim."""
    lines: list[BenefitLine] = []
    assert incident.admission_date and incident.discharge_date
    days = (incident.discharge_date - incident.admission_date).days
    paid_days = min(max(0, days - benefit.deductible_days), benefit.max_days_per_claim)
    raw = money(benefit.per_day * paid_days)
    payable = min(raw, limit_left)
    working.append(
        f"{days} days in hospital, {paid_days} paid x {benefit.per_day} = {raw}; "
        f"capped by limit left {limit_left}: {payable}"
    )
    lines.append(
        BenefitLine(
            description=f"住院津贴 {paid_days} 天",
            claimed=raw,
            payable=payable,
            refused=raw - payable,
            reason_code="OVER_LIMIT" if payable < raw else "ALLOWANCE",
        )
    )
    return raw, payable, lines


def _lump_sum(
    policy: PolicyTruth, limit_left: Decimal, working: list[str]
) -> tuple[Decimal, Decimal, list[BenefitLine]]:
    """The sum insured, once (重大疾病保险金)."""
    lines: list[BenefitLine] = []
    raw = policy.sum_insured
    payable = min(raw, limit_left)
    working.append(f"lump sum {raw}; limit left {limit_left}: {payable}")
    lines.append(
        BenefitLine(
            description="重大疾病保险金",
            claimed=raw,
            payable=payable,
            refused=raw - payable,
            reason_code="OVER_LIMIT" if payable < raw else "LUMP_SUM",
        )
    )
    return raw, payable, lines

"""The expected outcome of a claim, by plain arithmetic on the terms in force, nothing else.

Independent of `adjudication/` on purpose: the engine is tested against these numbers. The terms are
those of the rule set in force on the incident date (`synth.rulesets`: the product YAML as that
version amends it). Order of checks: documents missing (a stay's documents when the claim had a
stay and the product lists them) -> request info; not in force (before the effective date, or after
24:00 of the expiry date), duplicate invoice, waiting period, exclusion, not a covered condition ->
deny; planted fraud pattern -> refer; a per-day limit that binds on a stay of unknown length -> refer
(a person counts the days), as does an enrolled insured's bill that shows neither a 医保类型 nor a fund
or account payment (a person verifies how it was settled); otherwise pay what the terms give (partial
when the annual limit cut it, deny when nothing is left after the deductible, or a lump sum paid
before).
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from pipeline.records import BenefitLine, Decision, DocType, money
from synth.amounts import amount_in_words
from synth.products import Benefit, Product, caused_by_injury
from synth.rulesets import RuleSetTerms
from synth.truth import BillTruth, ExpectedOutcome, IncidentTruth, PolicyTruth

ZERO = Decimal("0.00")


class Worked(NamedTuple):
    """What a benefit gives: before the annual limit, after it, the lines, and whether a person must
    count something first (DAYS_UNKNOWN) or nothing is payable (and why)."""

    raw: Decimal
    payable: Decimal
    lines: list[BenefitLine]
    needs_person: str | None = None
    zero_reason: str | None = None


def _line(description: str, claimed: Decimal, payable: Decimal, code: str) -> BenefitLine:
    return BenefitLine(
        description=description, claimed=claimed, payable=payable, refused=claimed - payable, reason_code=code
    )


def waiting_days(product: Product, incident: IncidentTruth) -> int:
    """The product's waiting period (等待期), none for a claim caused by injury (its principal diagnosis
    S00-T98) of any type unless the product binds those too."""
    codes = [code for code, _ in incident.diagnoses]
    if caused_by_injury(codes) and not product.waiting_period_applies_to_accident:
        return 0
    return product.waiting_period_days


def fraud_signals(
    bills: list[BillTruth],
    incident: IncidentTruth,
    policy: PolicyTruth,
    rules: RuleSetTerms,
    anomalous_providers: set[str],
) -> list[str]:
    """Fraud patterns visible in the claim's own data (cross-claim ones are added by the book)."""
    found: list[str] = []
    if any(b.printed_total != b.items_total for b in bills):
        found.append("altered_invoice")
    if any(b.printed_words != amount_in_words(b.printed_total) for b in bills):
        found.append("words_figures_mismatch")
    days = (incident.incident_date - policy.effective_date).days
    waiting = waiting_days(rules.products[policy.product_id], incident)  # an injury cannot be pre-existing
    if waiting and waiting <= days < waiting + rules.early_claim_days:
        found.append("soon_after_inception")
    if incident.hospital in anomalous_providers:
        found.append("provider_anomaly")
    return found


def expected_outcome(
    *,
    rules: RuleSetTerms,
    policy: PolicyTruth,
    incident: IncidentTruth,
    bills: list[BillTruth],
    document_types: set[DocType],
    fraud_patterns: list[str],
) -> ExpectedOutcome:
    """What a correct adjudication concludes for this claim under `rules` (the version in force)."""
    product = rules.products[policy.product_id]
    claim_type = incident.claim_type
    working: list[str] = [f"rule set {rules.version} (in force from {rules.effective_from})"]

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
            rule_set=rules.version,
        )

    stay = incident.admission_date is not None  # treated in hospital: AM01 asks a stay's documents
    required = product.documents_for(claim_type, stay)
    missing = [d for d in required if d not in document_types]
    if missing:
        working.append("missing: " + ", ".join(d.value for d in missing))
        return result(Decision.REQUEST_INFO, ["MISSING_DOCUMENT"], missing=missing)
    start, end = policy.effective_date, policy.expiry_date
    if incident.incident_date < start or (end is not None and incident.incident_date > end):
        working.append(
            f"incident {incident.incident_date} outside the insurance period {start} to {end or 'open'}"
        )
        return result(Decision.DENY, ["NOT_IN_FORCE"])
    if any(b.duplicate_of for b in bills):
        working.append("invoice already claimed in " + ", ".join(b.duplicate_of or "" for b in bills))
        return result(Decision.DENY, ["DUPLICATE_INVOICE"])
    waiting = waiting_days(product, incident)
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
        w = _reimbursement(policy, benefit, bills, _stay_days(incident), limit_left, working)
    elif benefit.kind == "daily_allowance":
        w = _daily_allowance(incident, policy, benefit, limit_left, working)
    else:
        w = _lump_sum(policy, limit_left, working)

    if fraud_patterns or w.needs_person:
        codes = (["FRAUD_SUSPECTED"] if fraud_patterns else []) + ([w.needs_person] if w.needs_person else [])
        if fraud_patterns:
            working.append("fraud patterns: " + ", ".join(fraud_patterns))
        return result(Decision.REFER, codes, assessed=w.payable, lines=w.lines)
    if w.payable <= 0:
        return result(Decision.DENY, [w.zero_reason or "BELOW_DEDUCTIBLE"], lines=w.lines)
    if w.payable < w.raw:
        return result(Decision.PARTIAL, ["OVER_LIMIT"], payable=w.payable, assessed=w.payable, lines=w.lines)
    return result(Decision.APPROVE, [], payable=w.payable, assessed=w.payable, lines=w.lines)


def _stay_days(incident: IncidentTruth) -> int | None:
    """Hospital days for a per-day limit: discharge less admission (nights), a same-day stay one day;
    None when the stay's dates are not known."""
    if incident.admission_date is None or incident.discharge_date is None:
        return None
    return max(1, (incident.discharge_date - incident.admission_date).days)


def settled_by_social_insurance(bill: BillTruth) -> bool:
    """The wording's test, bill by bill: settled through 医保 when the bill prints a scheme as its 医保类型
    or the 统筹 fund or the 个人账户 paid part of it; not when it prints 自费, nor when it shows none."""
    printed = bill.printed_insurance_type
    return bill.fund_paid > 0 or bill.account_paid > 0 or (printed is not None and printed != "自费")


def settlement_unknown(bill: BillTruth) -> bool:
    """The wording's unknown case: the bill prints no 医保类型 and neither the fund nor the account paid."""
    return bill.fund_paid <= 0 and bill.account_paid <= 0 and bill.printed_insurance_type is None


def _groups(
    policy: PolicyTruth, benefit: Benefit, bills: list[BillTruth]
) -> list[tuple[str, Decimal, list[BillTruth]]]:
    """The bills by the ratio they are paid at, the one that bears cuts and the deductible first leading:
    not enrolled, all at the without-insurance ratio; enrolled, the bills not settled through social
    insurance at ratio_not_settled, then the settled ones at the with-insurance ratio."""
    if not policy.social_insurance:
        return [("not enrolled", benefit.ratio_without_social_insurance, bills)]
    reduced = benefit.ratio_not_settled
    if reduced is None:
        reduced = benefit.ratio_with_social_insurance
    settled = [b for b in bills if settled_by_social_insurance(b)]
    not_settled = [b for b in bills if not settled_by_social_insurance(b)]
    return [("not settled", reduced, not_settled), ("settled", benefit.ratio_with_social_insurance, settled)]


def _reimbursement(
    policy: PolicyTruth,
    benefit: Benefit,
    bills: list[BillTruth],
    stay_days: int | None,
    limit_left: Decimal,
    working: list[str],
) -> Worked:
    """Medical expenses line by line: covered classes and categories, per-day limits, less social
    insurance, deductible, ratio (bill by bill: how it was settled), limit."""
    lines: list[BenefitLine] = []
    items = [i for b in bills for i in b.items]
    total = money(sum((i.amount for i in items), ZERO))
    in_class = [i for i in items if i.insurance_class in benefit.covered_classes]
    not_in_class = total - money(sum((i.amount for i in in_class), ZERO))
    excluded = money(sum((i.amount for i in in_class if i.category in benefit.excluded_categories), ZERO))
    if not_in_class:
        lines.append(_line("不在保障范围的项目（丙类自费）", not_in_class, ZERO, "CLASS_NOT_COVERED"))
    if excluded:
        lines.append(_line("不予给付的费用类别", excluded, ZERO, "CATEGORY_NOT_COVERED"))
    groups = _groups(policy, benefit, bills)
    # what each group's bills cover, by fee category
    kept: list[dict[str, Decimal]] = []
    for _, _, group in groups:
        by_category: dict[str, Decimal] = {}
        for i in (i for b in group for i in b.items):
            if i.insurance_class in benefit.covered_classes and i.category not in benefit.excluded_categories:
                by_category[i.category] = by_category.get(i.category, ZERO) + i.amount
        kept.append(by_category)
    needs_person = None
    days = stay_days or 1  # a stay of unknown length: one day is only a floor
    for category, per_day in benefit.per_day_limits.items():
        spent = money(sum((k.get(category, ZERO) for k in kept), ZERO))
        cap = money(per_day * days)
        working.append(f"{category} {spent}, at most {per_day} x {days} days = {cap}")
        if spent > cap:
            lines.append(_line(f"{category}超出每日限额", spent - cap, ZERO, "PER_DAY_LIMIT"))
            over = spent - cap
            for k in kept:  # cut from the first group's bills first
                cut = min(over, k.get(category, ZERO))
                k[category] = k.get(category, ZERO) - cut
                over -= cut
            if stay_days is None:
                needs_person = "DAYS_UNKNOWN"
    reduced = groups[0][1]  # enrolled: the ratio of the bills not settled through social insurance
    lowered = policy.social_insurance and reduced != benefit.ratio_with_social_insurance
    if needs_person is None and lowered and any(settlement_unknown(b) for b in bills):
        needs_person = "SETTLEMENT_UNKNOWN"  # the wording: verified before the reduced ratio is paid
    if benefit.deductible_basis == "per_year":
        deductible_left = max(ZERO, benefit.deductible - policy.deductible_used_this_year)
    else:
        deductible_left = benefit.deductible
    to_deduct = deductible_left
    covered = fund = deductible = raw = ZERO
    given: list[tuple[Decimal, Decimal, Decimal]] = []  # ratio, after the deductible, given
    for (name, ratio, group), k in zip(groups, kept, strict=True):
        g_covered = money(sum(k.values(), ZERO))
        g_fund = min(money(sum((b.fund_paid for b in group), ZERO)), g_covered)
        g_deductible = min(to_deduct, g_covered - g_fund)
        to_deduct -= g_deductible
        g_after = g_covered - g_fund - g_deductible
        g_raw = money(g_after * ratio)
        working.append(
            f"{name} bills: covered {g_covered} - social insurance {g_fund} - deductible {g_deductible}"
            f" = {g_after} x {ratio} = {g_raw}"
        )
        covered, fund, deductible, raw = (
            covered + g_covered,
            fund + g_fund,
            deductible + g_deductible,
            raw + g_raw,
        )
        if g_after:
            given.append((ratio, g_after, g_raw))
    eligible = covered - fund
    payable = min(raw, limit_left)
    working += [
        f"items {total}; covered classes {'/'.join(benefit.covered_classes)}, within limits: {covered}",
        f"deductible left {deductible_left}; applied {deductible}; given {raw}",
        f"capped by limit left {limit_left}: {payable}",
    ]
    if fund:
        lines.append(_line("社会医疗保险统筹基金已支付", fund, ZERO, "PAID_BY_SOCIAL_INSURANCE"))
    if deductible:
        lines.append(_line("免赔额", deductible, ZERO, "DEDUCTIBLE"))
    cut = raw - payable  # the annual limit cuts what the last groups give first
    shown: list[BenefitLine] = []
    for ratio, after, given_raw in reversed(given):
        taken = min(cut, given_raw)
        cut -= taken
        code = "OVER_LIMIT" if taken else "COINSURANCE"
        shown.insert(0, _line(f"按{ratio}比例给付", after, given_raw - taken, code))
    lines += shown
    zero = None
    if payable <= 0:
        if limit_left <= 0:
            zero = "OVER_LIMIT"
        elif not covered:
            zero = "NOTHING_COVERED"
        elif not eligible:
            zero = "PAID_BY_SOCIAL_INSURANCE"
        else:
            zero = "BELOW_DEDUCTIBLE"
    return Worked(raw, payable, lines, needs_person, zero)


def _daily_allowance(
    incident: IncidentTruth, policy: PolicyTruth, benefit: Benefit, limit_left: Decimal, working: list[str]
) -> Worked:
    """So much a day in hospital (住院津贴): nights after the deductible days, up to the days per claim,
    within the sum insured and the days a policy year pays (per_day x max_days_per_year)."""
    if not (incident.admission_date and incident.discharge_date):
        working.append("stay dates unknown: a person counts the nights")
        return Worked(ZERO, ZERO, [], "DAYS_UNKNOWN")
    nights = max(0, (incident.discharge_date - incident.admission_date).days)
    paid_days = max(0, nights - benefit.deductible_days)
    if benefit.max_days_per_claim:
        paid_days = min(paid_days, benefit.max_days_per_claim)
    raw = money(benefit.per_day * paid_days)
    if benefit.max_days_per_year:
        year_left = max(
            ZERO, money(benefit.per_day * benefit.max_days_per_year - policy.prior_paid_this_year)
        )
        limit_left = min(limit_left, year_left)
    payable = min(raw, limit_left)
    working.append(
        f"{nights} nights in hospital, {paid_days} paid x {benefit.per_day} = {raw}; "
        f"capped by limit left {limit_left}: {payable}"
    )
    lines = [_line(f"住院津贴 {paid_days} 天", raw, payable, "OVER_LIMIT" if payable < raw else "ALLOWANCE")]
    zero = None if payable else ("OVER_LIMIT" if raw else "NO_HOSPITAL_DAYS")
    return Worked(raw, payable, lines, None, zero)


def _lump_sum(policy: PolicyTruth, limit_left: Decimal, working: list[str]) -> Worked:
    """The sum insured, once over the policy's life (重大疾病保险金): a policy that has paid it, this
    year or any earlier one, pays nothing more."""
    raw = policy.sum_insured
    paid = max(policy.prior_paid_total, policy.prior_paid_this_year)
    if paid > 0:
        working.append(f"already paid {paid} since inception: paid only once")
        return Worked(
            raw, ZERO, [_line("重大疾病保险金已给付", raw, ZERO, "ALREADY_PAID")], None, "ALREADY_PAID"
        )
    payable = min(raw, limit_left)
    working.append(f"lump sum {raw}; limit left {limit_left}: {payable}")
    lines = [_line("重大疾病保险金", raw, payable, "OVER_LIMIT" if payable < raw else "LUMP_SUM")]
    return Worked(raw, payable, lines, None, None if payable else "OVER_LIMIT")

"""The payable amount, yuan by yuan: every yuan claimed is paid or refused under a reason code.

Reimbursement (费用补偿型) follows the product terms as a waterfall over the expense list (费用清单):

1. items of a class the product does not cover (丙类 self-paid, 自费) or of an excluded fee category are
   refused line by line; items of unknown class cannot be assessed;
2. per-day limits (e.g. 床位费 per hospital day) refuse what exceeds limit x days;
3. what social medical insurance already paid (医保统筹基金支付) is refused: nobody is paid twice;
4. the deductible (免赔额) left this policy year (or per claim) is refused;
5. the reimbursement ratio (赔付比例), higher with social insurance, leaves co-insurance refused;
6. the annual limit (sum insured less what was paid this policy year) caps the rest.

A daily allowance (住院津贴) pays per hospital night; a lump sum (重疾保险金) pays the sum insured once
over the policy's life (`Policy.paid_to_date`), not once a year.
`BenefitLine` enforces claimed = payable + refused on every line, so the lines account for every yuan.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from adjudication.rules import limit_left
from adjudication.terms import ZERO, BenefitTerms, ProductTerms
from pipeline.records import BenefitLine, ClaimFacts, LineItem, Policy, money

log = logging.getLogger(__name__)


@dataclass
class Assessment:
    """What the terms give on a claim, with the lines that say why."""

    payable: Decimal
    raw: Decimal
    """What the terms give before the annual limit."""
    lines: list[BenefitLine]
    limited: bool = False
    """The annual limit cut the amount (a partial payment)."""
    zero_reason: str | None = None
    """Why nothing is payable: BELOW_DEDUCTIBLE, OVER_LIMIT, ALREADY_PAID, NOTHING_COVERED, ..."""
    working: list[str] = field(default_factory=list)
    needs_person: str | None = None
    """Why the terms cannot be applied without a person (e.g. DAYS_UNKNOWN): the claim is referred."""

    @property
    def claimed(self) -> Decimal:
        return money(sum((ln.claimed for ln in self.lines), ZERO))


def _line(
    description: str, claimed: Decimal, payable: Decimal, code: str, category: str | None = None
) -> BenefitLine:
    return BenefitLine(
        description=description,
        category=category,
        claimed=claimed,
        payable=payable,
        refused=claimed - payable,
        reason_code=code,
    )


def _items(facts: ClaimFacts) -> tuple[list[LineItem], list[BenefitLine]]:
    """All billed items, and lines refusing what an invoice total holds beyond its items."""
    items: list[LineItem] = []
    extra: list[BenefitLine] = []
    for n, inv in enumerate(facts.invoices, 1):
        if inv.line_items:
            items.extend(inv.line_items)
            listed = money(sum((i.amount for i in inv.line_items), ZERO))
            if inv.total > listed:
                extra.append(_line(f"发票{n}金额超出费用明细部分", inv.total - listed, ZERO, "NOT_ITEMISED"))
            elif inv.total < listed:
                log.info(
                    "claim %s invoice %d: items %s exceed the total %s",
                    facts.claim.claim_id,
                    n,
                    listed,
                    inv.total,
                )
        else:
            extra.append(_line(f"发票{n}未提供费用明细", inv.total, ZERO, "NOT_ITEMISED"))
    return items, extra


def _reimbursement(facts: ClaimFacts, policy: Policy, b: BenefitTerms) -> Assessment:
    items, lines = _items(facts)
    covered_by_category: dict[str | None, Decimal] = defaultdict(lambda: ZERO)
    for it in items:
        if it.insurance_class is None:
            lines.append(_line(f"{it.name}（医保类别不明）", it.amount, ZERO, "CLASS_UNKNOWN", it.category))
        elif it.insurance_class not in b.covered_classes:
            lines.append(
                _line(
                    f"{it.name}（{it.insurance_class}类）", it.amount, ZERO, "CLASS_NOT_COVERED", it.category
                )
            )
        elif it.category in b.excluded_categories:
            lines.append(
                _line(f"{it.name}（{it.category}）", it.amount, ZERO, "CATEGORY_NOT_COVERED", it.category)
            )
        else:
            covered_by_category[it.category] += it.amount
    days = max(1, facts.days_in_hospital or 1)  # a same-day stay counts as one day
    needs_person = None
    for category, cap_per_day in b.per_day_limits.items():
        spent = covered_by_category.get(category, ZERO)
        cap = money(cap_per_day * days)
        if spent > cap:
            if facts.days_in_hospital is None:
                # the stay's length was not read: one day is only a floor, a person counts the days
                needs_person = "DAYS_UNKNOWN"
            lines.append(
                _line(
                    f"{category}超出每日限额{cap_per_day}×{days}天",
                    spent - cap,
                    ZERO,
                    "PER_DAY_LIMIT",
                    category,
                )
            )
            covered_by_category[category] = cap
    covered = money(sum(covered_by_category.values(), ZERO))
    fund = min(money(sum((i.fund_paid for i in facts.invoices), ZERO)), covered)
    eligible = covered - fund
    if b.deductible_basis == "per_year":
        deductible_left = max(ZERO, b.deductible - policy.deductible_used_this_year)
    else:
        deductible_left = b.deductible
    deductible = min(deductible_left, eligible)
    after = eligible - deductible
    ratio = b.ratio_with_social_insurance if policy.social_insurance else b.ratio_without_social_insurance
    raw = money(after * ratio)
    left = limit_left(policy)
    payable = min(raw, left)
    if fund:
        lines.append(_line("社会医疗保险统筹基金已支付", fund, ZERO, "PAID_BY_SOCIAL_INSURANCE"))
    if deductible:
        lines.append(_line(f"免赔额（剩余{deductible_left}）", deductible, ZERO, "DEDUCTIBLE"))
    if after > raw:
        lines.append(_line(f"按{ratio:%}比例给付后的自付部分", after - raw, ZERO, "COINSURANCE"))
    if raw > payable:
        lines.append(_line(f"超过年度保额余额{left}", raw - payable, ZERO, "OVER_LIMIT"))
    if payable:
        lines.append(_line("保险金给付", payable, payable, "BENEFIT_PAID"))
    zero = None
    if not payable:
        if left <= 0:
            zero = "OVER_LIMIT"
        elif not covered:
            zero = "NOTHING_COVERED"
        elif not eligible:
            zero = "PAID_BY_SOCIAL_INSURANCE"
        else:
            zero = "BELOW_DEDUCTIBLE"
    working = [
        f"covered {covered}; social insurance {fund}; eligible {eligible}",
        f"deductible left {deductible_left}, applied {deductible}; after {after}",
        f"ratio {ratio}: {raw}; limit left {left}: payable {payable}",
    ]
    return Assessment(payable, raw, lines, payable < raw and payable > 0, zero, working, needs_person)


def _daily_allowance(facts: ClaimFacts, policy: Policy, b: BenefitTerms) -> Assessment:
    if facts.days_in_hospital is None:
        # the stay's dates were not read: the allowance is the nights, so a person counts them (as the
        # medical benefit's per-day cap does), never a denial for a stay no one has seen
        return Assessment(ZERO, ZERO, [], False, None, ["stay dates not read"], "DAYS_UNKNOWN")
    days = facts.days_in_hospital
    lines: list[BenefitLine] = []
    deductible_days = min(b.deductible_days, days)
    paid_days = max(0, days - deductible_days)
    over_days = max(0, paid_days - b.max_days_per_claim) if b.max_days_per_claim else 0
    paid_days -= over_days
    if deductible_days:
        lines.append(
            _line(f"免赔天数{deductible_days}天", money(b.per_day * deductible_days), ZERO, "DEDUCTIBLE_DAYS")
        )
    if over_days:
        lines.append(
            _line(f"超过每次最高给付天数{over_days}天", money(b.per_day * over_days), ZERO, "DAYS_OVER_LIMIT")
        )
    raw = money(b.per_day * paid_days)
    left = limit_left(policy)
    if b.max_days_per_year:  # 年度最高给付天数: the allowance is fixed per day, so days paid = paid / per_day
        left = min(left, max(ZERO, money(b.per_day * b.max_days_per_year - policy.prior_paid_this_year)))
    payable = min(raw, left)
    if raw > payable:
        lines.append(_line(f"超过年度保额余额{left}", raw - payable, ZERO, "OVER_LIMIT"))
    if payable:
        lines.append(_line(f"住院津贴{paid_days}天×{b.per_day}", payable, payable, "BENEFIT_PAID"))
    zero = None if payable else ("OVER_LIMIT" if left <= 0 and raw else "NO_HOSPITAL_DAYS")
    working = [f"{days} nights, {paid_days} paid x {b.per_day} = {raw}; limit left {left}: {payable}"]
    return Assessment(payable, raw, lines, payable < raw and payable > 0, zero, working)


def _lump_sum(policy: Policy) -> Assessment:
    raw = policy.sum_insured
    if policy.paid_to_date > 0:  # paid once over the contract's life (then it ends): in any year, no more
        line = _line("重大疾病保险金已给付", raw, ZERO, "ALREADY_PAID")
        return Assessment(ZERO, raw, [line], False, "ALREADY_PAID", [f"already paid {policy.paid_to_date}"])
    payable = min(raw, limit_left(policy))
    lines = [_line("重大疾病保险金", payable, payable, "BENEFIT_PAID")] if payable else []
    if raw > payable:
        lines.append(_line("超过保额余额", raw - payable, ZERO, "OVER_LIMIT"))
    return Assessment(
        payable, raw, lines, 0 < payable < raw, None if payable else "OVER_LIMIT", [f"lump sum {raw}"]
    )


def assess(facts: ClaimFacts, terms: ProductTerms, benefit: BenefitTerms) -> Assessment:
    """What `benefit` of `terms` pays on this claim, line by line; the claim must have a policy."""
    policy = facts.policy
    if policy is None:
        raise ValueError(f"claim {facts.claim.claim_id}: no policy to assess against")
    if benefit.kind == "reimbursement":
        return _reimbursement(facts, policy, benefit)
    if benefit.kind == "daily_allowance":
        return _daily_allowance(facts, policy, benefit)
    return _lump_sum(policy)


def claimed_amount(facts: ClaimFacts) -> Decimal:
    """What the claim asks for: the invoices' total, else the amount on the claim form."""
    if facts.invoices:
        return facts.total_claimed
    return facts.claim.amount_claimed or ZERO


def refuse_all(facts: ClaimFacts, code: str, description: str) -> list[BenefitLine]:
    """A denial's single line: everything claimed refused under the denial's code."""
    amount = claimed_amount(facts)
    return [_line(description, amount, ZERO, code)] if amount else []

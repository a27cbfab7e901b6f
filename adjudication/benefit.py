"""The payable amount, yuan by yuan: every yuan claimed is paid or refused under a reason code.

Reimbursement (费用补偿型) follows the product terms as a waterfall over the expense list (费用清单):

1. items of a class the product does not cover (丙类 self-paid, 自费) or of an excluded fee category are
   refused line by line; items of unknown class cannot be assessed;
2. per-day limits (e.g. 床位费 per hospital day) refuse what exceeds limit x days;
3. what social medical insurance already paid (医保统筹基金支付) is refused: nobody is paid twice;
4. the deductible (免赔额) left this policy year (or per claim) is refused;
5. the reimbursement ratio (赔付比例), higher with social insurance, leaves co-insurance refused; an
   enrolled insured's bill not settled through social insurance (未经医保结算) is paid at the product's
   reduced ratio, bill by bill (`settled_through_social_insurance`);
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
from pipeline.records import BenefitLine, ClaimFacts, Invoice, LineItem, Policy, money

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


SELF_PAID_MARKS = ("自费", "非医保")
"""What a bill's 医保类型 says when it was not settled through social insurance (自费, 非医保结算)."""
SCHEME_MARKS = ("医保", "医疗保险", "职工", "居民", "农合", "异地", "公费", "离休", "统筹", "生育")
"""Words a 医保类型 naming a scheme carries (职工医保, 城乡居民, 新农合, 省内异地 ...): a type read as
neither a scheme nor 自费 (a character misread) says nothing, and is verified like an unread one."""


def _says_self_paid(invoice: Invoice) -> bool:
    return any(m in (invoice.insurance_type or "") for m in SELF_PAID_MARKS)


def settled_through_social_insurance(invoice: Invoice) -> bool:
    """Was this bill settled through social medical insurance (经社会基本医疗保险结算)?

    Yes when the pooled fund (统筹基金) or the personal account (个人账户) paid part of it, or its 医保类型
    names a scheme (职工医保, 居民医保, 新农合 ...): a bill settled through 医保 on which the fund paid
    nothing (all 丙类, under the 起付线) is still settled. No when its type says 自费, or it shows none
    of these: the terms then pay the enrolled insured the reduced ratio (ratio_not_settled)."""
    if invoice.fund_paid > 0 or invoice.account_paid > 0:
        return True
    names_scheme = any(m in (invoice.insurance_type or "") for m in SCHEME_MARKS)
    return names_scheme and not _says_self_paid(invoice)


def settlement_unknown(invoice: Invoice) -> bool:
    """Whether the bill shows neither a fund or account payment nor a 医保类型 that names a scheme or 自费:
    settled through 医保 with nothing from the fund, or as 自费, cannot be told from it (a type printed
    but not read, or misread, looks the same), so an enrolled insured's claim waits for a person to
    verify it (SETTLEMENT_UNKNOWN)."""
    return not settled_through_social_insurance(invoice) and not _says_self_paid(invoice)


@dataclass
class _Share:
    """The covered expenses of the bills paid at one ratio (给付比例), and what the fund paid on them."""

    label: str
    ratio: Decimal
    covered: dict[str | None, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    fund_paid: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return money(sum(self.covered.values(), ZERO))


def _shares(facts: ClaimFacts, policy: Policy, b: BenefitTerms) -> tuple[list[_Share], list[_Share]]:
    """The ratios the claim's bills are paid at, lowest first (it bears a cut and the deductible first),
    and each invoice's share: not enrolled, one share; enrolled, the bills settled through social
    insurance at the with-insurance ratio and the others at `ratio_not_settled`."""
    if not policy.social_insurance:
        alone = _Share("未参加社保身份投保", b.ratio_without_social_insurance)
        return [alone], [alone] * len(facts.invoices)
    reduced = b.ratio_with_social_insurance if b.ratio_not_settled is None else b.ratio_not_settled
    not_settled = _Share("未经社保结算", reduced)
    settled = _Share("经社保结算", b.ratio_with_social_insurance)
    of_invoice = [settled if settled_through_social_insurance(i) else not_settled for i in facts.invoices]
    return [not_settled, settled], of_invoice


def _covered(
    facts: ClaimFacts, b: BenefitTerms, shares: list[_Share], of_invoice: list[_Share]
) -> list[BenefitLine]:
    """Items sorted into covered (by share and category) and refused lines; per-day limits applied."""
    items, lines = _items(facts)
    share_of = {id(it): of_invoice[n] for n, inv in enumerate(facts.invoices) for it in inv.line_items}
    for n, inv in enumerate(facts.invoices):
        of_invoice[n].fund_paid += inv.fund_paid
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
            share_of[id(it)].covered[it.category] += it.amount
    days = max(1, facts.days_in_hospital or 1)  # a same-day stay counts as one day
    for category, cap_per_day in b.per_day_limits.items():
        spent = money(sum((s.covered.get(category, ZERO) for s in shares), ZERO))
        cap = money(cap_per_day * days)
        if spent <= cap:
            continue
        lines.append(
            _line(
                f"{category}超出每日限额{cap_per_day}×{days}天", spent - cap, ZERO, "PER_DAY_LIMIT", category
            )
        )
        over = spent - cap
        for s in shares:  # the excess is cut from the bills of the lowest ratio first
            cut = min(over, s.covered.get(category, ZERO))
            if cut:
                s.covered[category] -= cut
                over -= cut
    return lines


def _reimbursement(facts: ClaimFacts, policy: Policy, b: BenefitTerms) -> Assessment:
    shares, of_invoice = _shares(facts, policy, b)
    lines = _covered(facts, b, shares, of_invoice)
    needs_person = None
    if facts.days_in_hospital is None and any(ln.reason_code == "PER_DAY_LIMIT" for ln in lines):
        needs_person = "DAYS_UNKNOWN"  # the stay's length was not read: one day is only a floor
    elif (
        policy.social_insurance
        and b.ratio_not_settled not in (None, b.ratio_with_social_insurance)
        and any(settlement_unknown(inv) for inv in facts.invoices)
    ):
        needs_person = "SETTLEMENT_UNKNOWN"  # the reduced ratio is never paid on a guess
    if b.deductible_basis == "per_year":
        deductible_left = max(ZERO, b.deductible - policy.deductible_used_this_year)
    else:
        deductible_left = b.deductible
    covered = fund = eligible = deductible = after = raw = ZERO
    paid_at: list[tuple[_Share, Decimal, Decimal]] = []  # share, after deductible, given at its ratio
    for s in shares:  # fund, deductible (lowest ratio first) and ratio, share by share
        s_fund = min(money(s.fund_paid), s.total)
        s_eligible = s.total - s_fund
        s_deductible = min(deductible_left - deductible, s_eligible)
        s_after = s_eligible - s_deductible
        s_raw = money(s_after * s.ratio)
        covered, fund, eligible = covered + s.total, fund + s_fund, eligible + s_eligible
        deductible, after, raw = deductible + s_deductible, after + s_after, raw + s_raw
        if s_after:
            paid_at.append((s, s_after, s_raw))
    left = limit_left(policy)
    payable = min(raw, left)
    if fund:
        lines.append(_line("社会医疗保险统筹基金已支付", fund, ZERO, "PAID_BY_SOCIAL_INSURANCE"))
    if deductible:
        lines.append(_line(f"免赔额（剩余{deductible_left}）", deductible, ZERO, "DEDUCTIBLE"))
    for s, s_after, s_raw in paid_at:
        if s_after > s_raw:
            lines.append(
                _line(f"按{s.ratio:%}比例给付后的自付部分（{s.label}）", s_after - s_raw, ZERO, "COINSURANCE")
            )
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
    ratios = "; ".join(f"{s.label} {a} x {s.ratio} = {r}" for s, a, r in paid_at) or "nothing left"
    working = [
        f"covered {covered}; social insurance {fund}; eligible {eligible}",
        f"deductible left {deductible_left}, applied {deductible}; after {after}",
        f"ratio {ratios}: {raw}; limit left {left}: payable {payable}",
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

"""A claim's policy as the book draws it: product, sum insured, premium and VIP star tier, its one-year
insurance periods (保险期间) renewed since the start date, what the policy year has already used (paid
claims, deductible) and what it paid since inception (a few critical-illness policies already paid
their lump sum); planted problems move its start date, and a few policies lapsed (脱保) before the
incident.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from pipeline.records import ClaimType, money
from synth.people import Person, random_digits
from synth.products import Product
from synth.truth import PolicyTruth

__all__ = [
    "LAPSED_SHARE", "LUMP_SUM_PAID_SHARE", "STAR_TIERS", "SUM_INSURED", "draw_policy", "star_tier", "term_of",
]  # fmt: skip

STAR_TIERS = [(Decimal("300000"), 5), (Decimal("100000"), 4), (Decimal("30000"), 3), (Decimal("10000"), 2)]
SUM_INSURED = {
    "OPM01": [Decimal(v) for v in ("5000", "10000", "20000")],
    "IPM01": [Decimal(v) for v in ("100000", "200000", "500000", "1000000")],
    "AM01": [Decimal(v) for v in ("10000", "20000", "50000")],
    "CI01": [Decimal(v) for v in ("100000", "200000", "300000", "500000")],
}

LAPSED_SHARE = 0.03
"""Of the policies without a planted problem whose incident falls after their first year, the share not
renewed (脱保): the last term ended before the incident, which is then not covered (2-3% of a book)."""


def _anniversary(start: dt.date, years: int) -> dt.date:
    """`start` moved on `years` years; a 29 February start falls on 28 February in a common year."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def term_of(effective: dt.date, on: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the one-year term (保险期间) covering `on`, for a policy renewed every
    year since `effective` (续保: the effective date stays, each term ends the day before an anniversary)."""
    years = max(0, on.year - effective.year)
    while years and _anniversary(effective, years) > on:
        years -= 1
    while _anniversary(effective, years + 1) <= on:
        years += 1
    return _anniversary(effective, years), _anniversary(effective, years + 1) - dt.timedelta(days=1)


def _expiry(policy_number: str, effective: dt.date, incident: dt.date, problem: str | None) -> dt.date:
    """The expiry date the policy system states: the end of the term covering the incident, or, for a
    lapsed policy, of the term before it. Drawn from its own stream (seeded by the policy number), so
    the claim's other draws stay what they were before policies had an expiry date."""
    start, end = term_of(effective, incident)
    lapsed = (
        problem is None
        and start > effective
        and random.Random(f"{policy_number}:term").random() < LAPSED_SHARE
    )
    return start - dt.timedelta(days=1) if lapsed else end


LUMP_SUM_PAID_SHARE = 0.05
"""Critical-illness claims on a policy that already paid its sum insured (ALREADY_PAID: once in its life)."""


def star_tier(cumulative_annualised_premium: Decimal) -> int:
    """VIP star tier: >= 300k five, 100k-300k four, 30k-100k three, 10k-30k two, < 10k one."""
    return next((tier for floor, tier in STAR_TIERS if cumulative_annualised_premium >= floor), 1)


def draw_policy(
    rng: random.Random,
    product: Product,
    insured: Person,
    holder: Person,
    incident: dt.date,
    problem: str | None,
    claim_type: ClaimType,
    early_claim_days: int = 15,
) -> PolicyTruth:
    """The insured's policy, in force (or, for a planted problem, barely; or lapsed) on the incident date.

    `product` is as the rule set in force on the incident date has it (its deductible is what this
    policy year may have used), `early_claim_days` that rule set's early-claim window.
    """
    waiting = product.waiting_period_days
    if problem == "waiting_period" and waiting:
        effective = incident - dt.timedelta(days=rng.randint(3, waiting - 1))
    elif problem == "soon_after_inception":
        effective = incident - dt.timedelta(days=waiting + rng.randint(0, early_claim_days - 1))
    else:
        effective = incident - dt.timedelta(days=rng.randint(200, 2500))
    benefit = product.benefit_for(claim_type)
    if benefit.kind == "daily_allowance":
        sum_insured = money(benefit.per_day * benefit.max_days_per_year)
    else:
        sum_insured = rng.choice(SUM_INSURED[product.product_id])
    premium = money(
        math.exp(
            rng.uniform(math.log(1500), math.log(650000))
            if rng.random() < 0.5
            else rng.uniform(math.log(1500), math.log(30000))
        )
    )
    prior = Decimal(0)
    if benefit.kind != "lump_sum" and rng.random() < 0.3:
        prior = money(sum_insured * Decimal(str(round(rng.uniform(0.02, 0.4), 2))))
    total = prior
    if benefit.kind == "lump_sum" and problem is None and rng.random() < LUMP_SUM_PAID_SHARE:
        # paid once already: in an earlier policy year when the policy is old enough, else this one
        total = sum_insured
        if (incident - effective).days < 365 or rng.random() < 0.3:
            prior = sum_insured
    used = Decimal(0)
    if benefit.deductible_basis == "per_year" and benefit.deductible:
        used = rng.choice([benefit.deductible, benefit.deductible, Decimal(0), money(benefit.deductible / 2)])
    number = f"P{product.product_id[:2]}{effective:%Y}{random_digits(rng, 8)}"
    return PolicyTruth(
        policy_number=number,
        product_id=product.product_id,
        product_version=product.version,
        policyholder=holder.name,
        insured=insured.name,
        insured_id_number=insured.id_number,
        effective_date=effective,
        expiry_date=_expiry(number, effective, incident, problem),
        sum_insured=sum_insured,
        social_insurance=rng.random() < 0.8,
        cumulative_annualised_premium=premium,
        star_tier=star_tier(premium),
        prior_paid_this_year=prior,
        deductible_used_this_year=money(used),
        prior_paid_total=total,
    )

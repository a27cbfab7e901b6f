"""A claim's bills as the book draws them: the items billed for the diagnosis and the stay, the payer
split (统筹, 个人账户, cash), how an enrolled insured's bill was settled (a scheme or 自费), and the
alterations a planted problem prints on the first bill.

Separate from `synth.book` only by size: the book decides who claims what, this module what the bills
say. Every draw takes the claim's own random stream, except the settlement, which has a stream of its
own so the claim's draws (and its pages) do not move when the share changes.
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from collections import defaultdict
from decimal import Decimal

from pipeline.records import ClaimType, money
from synth import catalog
from synth.amounts import amount_in_words
from synth.ebill import E_BILL_LAYOUTS
from synth.paper_kit import SCHEMES
from synth.people import random_digits
from synth.provincial import issued
from synth.truth import BillTruth, ItemTruth

__all__ = ["UNSETTLED_SHARE", "draw_bill", "items_for", "planted_on_bill"]

UNSETTLED_SHARE = 0.12
"""Of an enrolled insured's bills, those not settled through social insurance (按自费结算)."""


def _item_code(name: str) -> str:
    return f"{zlib.crc32(name.encode()) % 10**9:09d}"


def items_for(
    rng: random.Random, diagnosis: catalog.Diagnosis, start: dt.date, days: int, price_factor: float
) -> list[ItemTruth]:
    """Billed items: one visit's worth for outpatients, a day-by-day list for a hospital stay."""
    rows: list[ItemTruth] = []

    def add(item: catalog.Item, day: dt.date, qty: int | None = None) -> None:
        quantity = Decimal(qty if qty is not None else rng.randint(*item.quantity))
        price = money(rng.uniform(*item.price) * price_factor)
        # constructed, not validated: every value is made right here, and a 100k-claim book has
        # millions of items (tests/synth/test_book.py validates a book's items)
        rows.append(
            ItemTruth.model_construct(
                date=day,
                code=_item_code(item.name),
                name=item.name,
                category=item.category,
                insurance_class=item.insurance_class,
                unit=item.unit,
                quantity=quantity,
                unit_price=price,
                amount=money(price * quantity),
            )
        )

    groups = [g for g in diagnosis.items]
    if days == 0:
        for g in groups:
            pool = catalog.ITEM_GROUPS[g]
            for item in rng.sample(pool, 1 if g == "consult" else rng.randint(1, min(3, len(pool)))):
                add(item, start)
        return rows
    ward = catalog.ITEM_GROUPS["ward"]
    others = [g for g in groups if g != "ward"]
    procedures = [g for g in others if g in ("surgery_minor", "cardio_proc", "fracture", "wound")]
    for d in range(days):
        day = start + dt.timedelta(days=d)
        for item in ward[:3]:
            add(item, day, 1)
        if d == 0:
            add(ward[3], day)
        for g in procedures if d == 1 else []:
            for item in catalog.ITEM_GROUPS[g]:
                add(item, day)
        for g in rng.sample(others, min(len(others), rng.randint(1, 2))):
            if g in procedures:
                continue
            pool = catalog.ITEM_GROUPS[g]
            for item in rng.sample(pool, rng.randint(1, min(2, len(pool)))):
                add(item, day)
    return rows


def draw_bill(
    rng: random.Random,
    items: list[ItemTruth],
    layout: str,
    issue: dt.date,
    social: bool,
    claim_type: ClaimType,
) -> BillTruth:
    total = money(sum((i.amount for i in items), Decimal(0)))
    by_class = defaultdict(lambda: Decimal(0))
    for i in items:
        by_class[i.insurance_class] += i.amount
    self_pay = money(by_class["丙"])
    fund = Decimal(0)
    if social:
        base = by_class["甲"] + by_class["乙"] * Decimal("0.9")
        if claim_type is ClaimType.OUTPATIENT or claim_type is ClaimType.ACCIDENT:
            fund = base * Decimal(str(round(rng.uniform(0.3, 0.5), 2))) if rng.random() < 0.4 else Decimal(0)
        else:
            fund = max(
                Decimal(0),
                base * Decimal(str(round(rng.uniform(0.55, 0.75), 2)))
                - Decimal(rng.choice((800, 1000, 1300))),
            )
    fund = money(fund)
    account = (
        money(min(total - fund, Decimal(rng.randint(0, 200))))
        if social and rng.random() < 0.5
        else Decimal(0)
    )
    electronic = layout in E_BILL_LAYOUTS
    bill = BillTruth(
        invoice_code=("3" if electronic else "1") + random_digits(rng, 7),
        invoice_number=random_digits(rng, 10),
        check_code=random_digits(rng, 6) if electronic else "",
        electronic=electronic,
        layout=layout,
        issue_date=issue,
        items=items,
        items_total=total,
        printed_total=total,
        printed_words=amount_in_words(total),
        fund_paid=fund,
        account_paid=money(account),
        cash_paid=money(total - fund - account),
        self_pay=self_pay,
    )
    return _settled(issued(rng, bill, social, claim_type), social)


def _settled(bill: BillTruth, social: bool) -> BillTruth:
    """The bill as settled: an enrolled insured's through social insurance (a scheme as its 医保类型), but
    some as 自费, with nothing paid by 统筹, 个人账户 or another fund (a hospital outside their 医保
    network, care away from home without the 异地就医备案): the terms then pay `ratio_not_settled`.
    Drawn on a stream of its own, so the claim's draws (and its pages) do not move."""
    side = random.Random(zlib.crc32(f"settled:{bill.invoice_code}:{bill.invoice_number}".encode()))
    if social and side.random() >= UNSETTLED_SHARE:
        return bill.model_copy(update={"insurance_type": side.choice(SCHEMES)})
    none = Decimal("0.00")
    return bill.model_copy(
        update={
            "insurance_type": "自费",
            "fund_paid": none,
            "account_paid": none,
            "funds": {},
            "cash_paid": bill.items_total,
        }
    )


def planted_on_bill(rng: random.Random, bill: BillTruth, problem: str | None) -> BillTruth:
    """The first bill as printed: its total raised (涂改) or its amount in words wrong, if planted."""
    if problem == "altered_invoice":
        raised = money(
            bill.items_total * Decimal(str(round(rng.uniform(1.6, 3.0), 1))) + rng.randint(1, 9) * 10
        )
        return bill.model_copy(
            update={
                "printed_total": raised,
                "printed_words": amount_in_words(raised),
                "cash_paid": money(bill.cash_paid + raised - bill.printed_total),
            }
        )
    if problem == "words_figures_mismatch":
        wrong = bill.printed_total + rng.choice([Decimal(100), Decimal(1000), Decimal(10), Decimal(-10)])
        return bill.model_copy(update={"printed_words": amount_in_words(max(wrong, Decimal("1")))})
    return bill

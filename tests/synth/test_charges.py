"""A claim's bills as the book draws them: items, the payer split, the settlement, planted alterations."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from pipeline.records import ClaimType
from synth import catalog
from synth.charges import UNSETTLED_SHARE, draw_bill, items_for, planted_on_bill

DAY = dt.date(2025, 9, 1)


def _bills(social: bool, n: int = 200) -> list:
    out = []
    for k in range(n):
        rng = random.Random(k)
        diagnosis = catalog.OUTPATIENT_DIAGNOSES[k % len(catalog.OUTPATIENT_DIAGNOSES)]
        items = items_for(rng, diagnosis, DAY, 0, 1.0)
        out.append(draw_bill(rng, items, "beijing", DAY, social, ClaimType.OUTPATIENT))
    return out


def test_a_bills_payer_split_adds_up_to_its_items() -> None:
    for bill in _bills(social=True):
        assert bill.items_total == sum((i.amount for i in bill.items), Decimal(0)) == bill.printed_total
        assert bill.fund_paid + bill.account_paid + bill.cash_paid == bill.items_total
        assert min(bill.fund_paid, bill.account_paid, bill.cash_paid) >= 0


def test_some_enrolled_bills_are_settled_as_self_paid_and_none_unenrolled_through_insurance() -> None:
    enrolled = _bills(social=True)
    self_paid = [b for b in enrolled if b.insurance_type == "自费"]
    assert 0.5 * UNSETTLED_SHARE <= len(self_paid) / len(enrolled) <= 2 * UNSETTLED_SHARE
    assert all(b.fund_paid == b.account_paid == 0 and b.cash_paid == b.items_total for b in self_paid)
    assert all(b.insurance_type == "自费" and b.fund_paid == 0 for b in _bills(social=False))


def test_a_planted_alteration_shows_on_the_printed_bill_only() -> None:
    (bill,) = _bills(social=True, n=1)
    raised = planted_on_bill(random.Random(1), bill, "altered_invoice")
    assert raised.printed_total > bill.items_total == raised.items_total
    wrong = planted_on_bill(random.Random(1), bill, "words_figures_mismatch")
    assert wrong.printed_words != bill.printed_words and wrong.printed_total == bill.printed_total
    assert planted_on_bill(random.Random(1), bill, None) is bill

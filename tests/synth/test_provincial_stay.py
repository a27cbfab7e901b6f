"""The three inpatient paper forms drawn directly: every fund beside 统筹 printed, the split adding up
to the total, and what was paid on admission settling the cash share at discharge."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from pipeline.records import ClaimType, DocType
from synth import provincial_stay
from synth.book import make_book
from synth.paper_kit import with_funds
from synth.truth import BillTruth, ClaimTruth, DocumentTruth

FORMS = {
    "heilongjiang": provincial_stay.heilongjiang,
    "guangxi": provincial_stay.guangxi,
    "chongqing": provincial_stay.chongqing,
}


@pytest.fixture(scope="module")
def stay() -> tuple[ClaimTruth, BillTruth]:
    """An insured inpatient's paper bill on which one other fund pays a share."""
    claim = next(
        c
        for seed in range(1, 50)
        for c in make_book(20, seed=seed)
        if c.bills and c.incident.admission_date and c.policy.social_insurance
    )
    base = claim.bills[0].model_copy(update={"electronic": False})
    bill = next(
        b for k in range(200) if (b := with_funds(random.Random(k), base, True, ClaimType.INPATIENT)).funds
    )
    return claim.model_copy(update={"bills": [bill]}), bill


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_stay_form_prints_every_payment_and_the_settlement(
    form: str, stay: tuple[ClaimTruth, BillTruth]
) -> None:
    claim, bill = stay
    doc = DocumentTruth(
        file="x.jpg", doc_type=DocType.INPATIENT_INVOICE, media_type="image/jpeg", layout=form, group="i_1"
    )
    canvas, items, _ = FORMS[form](claim, bill, doc, random.Random(1))
    fields = {f.name: f.value for f in canvas.fields}
    assert sum((i.amount for i in items), Decimal(0)) == bill.items_total
    assert Decimal(fields["total_amount"]) == bill.printed_total
    (fund, paid), *_ = bill.funds.items()
    assert Decimal(fields[fund]) == paid  # the fund beside 统筹, by its own name
    split = sum(Decimal(fields[n]) for n in ("fund_paid", "account_paid", fund, "cash_paid"))
    assert split == bill.printed_total
    settled = Decimal(fields["prepaid"]) - Decimal(fields["refund"]) + Decimal(fields["supplementary_paid"])
    assert settled == Decimal(fields["cash_paid"]) == bill.cash_paid  # 预缴 − 退费 + 补缴 = the cash share
    if form != "heilongjiang":  # the pin-feed form prints no stay dates
        assert fields["admission_date"] == claim.incident.admission_date.isoformat()

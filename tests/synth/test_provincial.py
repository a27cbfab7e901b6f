"""Provincial paper bills (synth.provincial, synth.provincial_stay): every layout draws its truth
where its boxes say, prints the funds and refund lines it claims, and the book issues them."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

import numpy as np
import pytest

from pipeline.records import ClaimType, DocType
from synth.book import make_book
from synth.documents import render_page
from synth.paper_kit import FUND_LABELS, cash_shares, settlement, with_funds
from synth.provincial import LAYOUTS, STAY_FORMS, VISIT_FORMS, pick_layout
from synth.truth import ClaimTruth, DocumentTruth


def _claim(stay: bool) -> ClaimTruth:
    for seed in range(1, 50):
        for claim in make_book(20, seed=seed):
            if claim.bills and bool(claim.incident.admission_date) == stay and claim.policy.social_insurance:
                return claim
    raise AssertionError("no such claim")


def _draw(layout: str, stay: bool, seed: int = 0):
    claim = _claim(stay)
    bill = claim.bills[0].model_copy(update={"layout": layout, "electronic": False})
    doc_type = DocType.INPATIENT_INVOICE if stay else DocType.OUTPATIENT_INVOICE
    if stay and layout in STAY_FORMS:
        bill = with_funds(random.Random(seed), bill, True, ClaimType.INPATIENT)
    claim = claim.model_copy(update={"bills": [bill]})
    doc = DocumentTruth(
        file="x.jpg", doc_type=doc_type, media_type="image/jpeg", layout=layout, group=f"{doc_type.value}_1"
    )
    return claim, render_page(claim, doc, random.Random(f"{layout}:{seed}"))


@pytest.mark.parametrize("stay", [False, True])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_truth_boxes_land_on_drawn_text(layout: str, stay: bool) -> None:
    claim, (canvas, items, _) = _draw(layout, stay)
    pixels = np.asarray(canvas.image.convert("L"), dtype=np.int16)
    paper = int(np.median(pixels))
    runs = {r.text for r in canvas.runs}
    names = {f.name for f in canvas.fields}
    assert {"invoice_number", "payer_name", "total_amount", "issue_date", "hospital", "cash_paid"} <= names
    for f in canvas.fields:
        assert f.text in runs and f.box is not None, f.name
        (x0, y0), _, (x1, y1), _ = f.box
        assert 0 <= x0 < x1 <= canvas.width and 0 <= y0 < y1 <= canvas.height, f.name
        ink = pixels[int(y0) : int(y1), int(x0) : int(x1)]
        assert (ink < paper - 60).mean() > 0.03, f"{layout}: no ink under {f.name}"
    assert items and all(i.box is not None for i in items)
    assert sum((i.amount for i in items), Decimal(0)) == claim.bills[0].items_total


def test_stay_forms_print_every_fund_and_the_refund_lines() -> None:
    seen: Counter[str] = Counter()
    for layout in STAY_FORMS:
        for seed in range(8):
            claim, (canvas, _, _) = _draw(layout, True, seed)
            bill = claim.bills[0]
            values = {f.name: Decimal(f.value) for f in canvas.fields if f.kind.value == "money"}
            for name, paid in bill.funds.items():  # a fund is printed under its own name only
                assert values.get(name, values.get("other_paid")) == paid
                assert values["account_paid"] == bill.account_paid
                seen[name] += 1
            assert values["prepaid"] + values["supplementary_paid"] - values["refund"] == bill.cash_paid
            funds = sum(bill.funds.values(), Decimal(0))
            assert bill.fund_paid + bill.account_paid + bill.cash_paid + funds == bill.items_total
    assert len(seen) >= 2


def test_cash_shares_and_settlement_add_up() -> None:
    claim = _claim(False)
    rng = random.Random(3)
    for _ in range(20):
        bill = claim.bills[0]
        self_pay, class_b, copay = cash_shares(bill, rng)
        assert self_pay + class_b + copay == bill.cash_paid and min(self_pay, class_b, copay) >= 0
        prepaid, more, back = settlement(Decimal("1234.56"), rng)
        assert prepaid + more - back == Decimal("1234.56") and (more == 0 or back == 0)
    assert set(FUND_LABELS) >= {"serious_illness_paid", "civil_servant_paid", "medical_aid_paid"}


def test_book_issues_the_provincial_layouts() -> None:
    book = [c for seed in (1, 2) for c in make_book(300, seed=seed)]
    layouts = Counter(b.layout for c in book for b in c.bills)
    assert all(layouts[k] for k in LAYOUTS), layouts
    for c in book:  # a stay (an accident's too) is billed on an inpatient form, a visit on an outpatient one
        stay = c.incident.admission_date is not None
        assert all(b.layout not in (VISIT_FORMS if stay else STAY_FORMS) for b in c.bills)
    assert pick_layout(random.Random(0), "shanghai_clinic", ClaimType.INPATIENT) in (
        "shanghai",
        "ebill",
        "e_invoice",
    )

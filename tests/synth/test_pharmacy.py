"""The pharmacy invoice generator: every layout draws its fields with boxes, and the figures add up."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from synth.amounts import amount_in_words
from synth.pharmacy import LAYOUTS, draw_invoice, drug_sale, pharmacy_name

FIELDS = {"seller", "buyer", "invoice_number", "issue_date", "total_amount", "total_in_words"}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_draws_its_fields_with_boxes(layout: str) -> None:
    rng = random.Random(layout)
    sale = drug_sale(rng, "王芳", dt.date(2025, 6, 1))
    canvas, items = draw_invoice(sale, layout, rng)
    drawn = {f.name: f for f in canvas.fields}
    assert set(drawn) >= FIELDS
    assert all(f.box is not None for f in canvas.fields)
    assert drawn["total_amount"].value == str(sale.total)
    assert drawn["total_in_words"].value == amount_in_words(sale.total)
    assert drawn["issue_date"].value == "2025-06-01"
    assert sum((i.amount for i in items), Decimal(0)) == sale.total
    if layout == "digital":
        assert len(sale.invoice_number) == 20 and "invoice_code" not in drawn
    else:
        assert drawn["invoice_code"].value == sale.invoice_code


def test_lines_carry_their_tax_inside_the_price() -> None:
    rng = random.Random(5)
    for _ in range(30):
        sale = drug_sale(rng, "李娜", dt.date(2025, 1, 2))
        for ln in sale.lines:
            assert ln.amount + ln.tax == ln.paid and ln.tax >= 0
            assert ln.name.startswith("*")


def test_sellers_are_pharmacies_or_hospitals() -> None:
    rng = random.Random(9)
    names = [pharmacy_name(rng) for _ in range(200)]
    assert all(any(w in n for w in ("药房", "药店", "医药", "医院", "卫生服务中心", "保健院")) for n in names)
    assert len(set(names)) > 150


def test_without_fields_nothing_is_recorded_as_truth() -> None:
    rng = random.Random(2)
    canvas, _ = draw_invoice(drug_sale(rng, "张伟", dt.date(2025, 1, 2)), "vat_paper", rng, fields=False)
    assert canvas.fields == [] and canvas.runs

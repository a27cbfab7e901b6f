"""Pharmacy invoices read back: every drawn field of every layout, the drug lines, checks and facts."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from helpers.drawn import page_from_canvas
from helpers.pages import page_of

from pipeline.extract.documents import extract_document
from pipeline.extract.facts import assemble_facts
from pipeline.extract.pharmacy import (
    drug_items,
    non_medical_purchase,
    read_pharmacy_invoice,
    seller_by_name,
    tax_categories,
)
from pipeline.records import Claim, DocType, LineItem
from synth.pharmacy import LAYOUTS, draw_invoice, drug_sale


def _norm(v: object) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", str(v)).replace(" ", "")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("seed", range(4))
def test_every_field_of_every_layout_is_read(layout: str, seed: int) -> None:
    rng = random.Random(f"{layout}:{seed}")
    sale = drug_sale(rng, "赵敏", dt.date(2025, 3, 4))
    canvas, items = draw_invoice(sale, layout, rng)
    ex = extract_document([page_from_canvas(canvas)], DocType.PHARMACY_INVOICE)
    got = {f.name: _norm(f.value) for f in ex.fields}
    for f in canvas.fields:
        assert got.get(f.name) == _norm(f.value), f.name
    assert [i.amount for i in ex.line_items] == [i.amount for i in items]
    assert not ex.failed_checks and not ex.needs_review


def test_buyer_and_seller_by_position_when_no_heading_is_read() -> None:
    page = page_of(
        ("名称：张三", 100, 100), ("发票号码：12345678", 1100, 40), ("名称：益丰大药房（长沙店）", 100, 700)
    )
    ex = extract_document([page], DocType.PHARMACY_INVOICE)
    assert ex.field("buyer").value == "张三"
    assert _norm(ex.field("seller").value) == "益丰大药房(长沙店)"


def test_a_pharmacy_purchase_is_an_expense_paid_in_full_by_the_buyer() -> None:
    rng = random.Random(1)
    canvas, _ = draw_invoice(drug_sale(rng, "赵敏", dt.date(2025, 3, 4)), "vat_paper", rng)
    ex = extract_document([page_from_canvas(canvas)], DocType.PHARMACY_INVOICE, document_id="d1")
    facts = assemble_facts(
        Claim(
            claim_id="C1",
            policy_number="P1",
            claimant="赵敏",
            incident_date=dt.date(2025, 3, 4),
            submitted_at=dt.datetime(2025, 3, 10, 9, 0),
        ),
        [ex],
    )
    (inv,) = facts.invoices
    assert inv.total == ex.field("total_amount").value == inv.cash_paid
    assert inv.hospital == ex.field("seller").value and inv.fund_paid == Decimal("0.00")
    assert DocType.PHARMACY_INVOICE in facts.documents_present


def test_drug_lines_are_read_by_column_between_the_header_and_the_total() -> None:
    page = page_of(
        ("名称", 100, 300), ("规格", 500, 300), ("数量", 800, 300), ("单价", 1000, 300), ("金额", 1250, 300),
        ("*西药*阿莫西林胶囊", 100, 360), ("0.25g*24", 500, 360), ("2", 800, 360), ("14.25", 1000, 360),
        ("28.50", 1250, 360),
        ("合计", 100, 420), ("¥28.50", 1250, 420),
    )  # fmt: skip
    items = drug_items([page])
    assert [(i.name, i.quantity, i.amount) for i in items] == [
        ("*西药*阿莫西林胶囊", Decimal("2"), Decimal("28.50"))
    ]
    fields, read, checks = read_pharmacy_invoice([page])
    assert read == items and checks == [] and fields["total_amount"].value == Decimal("28.50")


def test_a_vat_invoice_for_a_hotel_is_no_medical_purchase() -> None:
    hotel = [LineItem(name="*住宿服务*住宿费", amount=Decimal("300.00"))]
    drugs = [*hotel, LineItem(name="*中成药*连花清瘟胶囊", amount=Decimal("25.00"))]
    assert tax_categories(drugs) == ["住宿服务", "中成药"]
    assert non_medical_purchase(hotel) == ["住宿服务"]
    assert non_medical_purchase(drugs) == []  # one medical line makes it a pharmacy purchase
    assert non_medical_purchase([LineItem(name="住宿费", amount=Decimal("1.00"))]) == []  # no category


def test_the_seller_is_a_pharmacy_name_printed_alone() -> None:
    page = page_of(("电子发票（普通发票）", 500, 40), ("老百姓大药房连锁股份有限公司", 100, 900))
    seller = seller_by_name([page])
    assert seller is not None and seller.value == "老百姓大药房连锁股份有限公司"
    assert seller.confidence == round(0.98 * 0.9, 4)
    assert seller_by_name([page_of(("名称：益丰大药房", 100, 100))]) is None  # a labelled line is paired

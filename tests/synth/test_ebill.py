"""The regional e-bill (医疗收费票据（电子）): its variants draw their truth, add up, and carry a QR code
that decodes to the bill's own elements."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

import numpy as np
import pytest

from ocr.qr import decode_qr
from pipeline.extract.qr import parse_payload
from pipeline.records import ClaimType
from synth.book import make_book
from synth.documents import render_page
from synth.ebill import fiscal_ebill
from synth.truth import BillTruth, ClaimTruth, DocumentTruth


def _ebills(n: int, seed: int = 300) -> list[tuple[ClaimTruth, DocumentTruth]]:
    """`n` regional e-bill documents from the books of consecutive seeds."""
    out = []
    for s in range(seed, seed + 2000):
        for claim in make_book(1, seed=s):
            out += [(claim, d) for d in claim.documents if d.layout == "ebill"]
        if len(out) >= n:
            return out[:n]
    raise AssertionError("too few e-bills in the books")


@pytest.fixture(scope="module")
def drawn() -> list[tuple[ClaimTruth, DocumentTruth, object, list]]:
    out = []
    for claim, doc in _ebills(24):
        canvas, items, _ = render_page(claim, doc, random.Random(f"t:{doc.file}:{claim.claim_id}"))
        out.append((claim, doc, canvas, items))
    return out


def test_every_field_is_drawn_where_its_box_says(drawn: list) -> None:
    for _, _, canvas, items in drawn:
        runs = {r.text for r in canvas.runs}
        for f in canvas.fields:
            assert f.text in runs and f.box is not None, f.name
            (x0, y0), _, (x1, y1), _ = f.box
            assert 0 <= x0 < x1 <= canvas.width and 0 <= y0 < y1 <= canvas.height
        assert items and all(i.box is not None for i in items)


def test_variants_vary(drawn: list) -> None:
    """Not one template: both blocks, both captures, stays in several shapes, funds and refunds."""
    names = Counter(f.name for _, _, canvas, _ in drawn for f in canvas.fields)
    assert names["deductible"] and names["other_paid"]  # the settlement block and the national one
    assert names["prepaid"] and names["refund"] + names["supplementary_paid"]
    assert names["admission_date"] and names["visit_date"] and names["payer_id_number"]
    captures = Counter(claim.bills[0].printed for claim, *_ in drawn)
    assert captures[True] and captures[False]
    titles = {next(f.text for f in canvas.fields if f.name == "title") for _, _, canvas, _ in drawn}
    assert len(titles) >= 8


def test_the_split_and_the_deposit_add_up(drawn: list) -> None:
    for claim, _, canvas, _ in drawn:
        bill = claim.bills[0]
        v = {f.name: Decimal(f.value) for f in canvas.fields if f.kind.value == "money"}
        funds = sum(bill.funds.values(), Decimal(0))
        assert bill.fund_paid + bill.account_paid + bill.cash_paid + funds == bill.printed_total
        if v.get("prepaid"):
            assert v["prepaid"] + v["supplementary_paid"] - v["refund"] == bill.cash_paid
        if "deductible" in v:  # the patient's share of the covered items, part by part
            share = v["deductible"] + v["class_b_copay"] + v["ratio_copay"]
            assert share in (Decimal(0), bill.cash_paid + bill.account_paid - bill.self_pay)


def test_the_qr_code_carries_the_bill_as_issued(drawn: list) -> None:
    for claim, _, canvas, _ in drawn[:6]:
        bill = claim.bills[0]
        codes = decode_qr(np.asarray(canvas.image)[:, :, ::-1])
        assert len(codes) == 1
        assert parse_payload(codes[0].text) == {
            "invoice_code": bill.invoice_code,
            "invoice_number": bill.invoice_number,
            "check_code": bill.check_code,
            "total_amount": bill.items_total,
            "issue_date": bill.issue_date,
        }


def test_an_altered_bill_keeps_its_first_amount_in_the_code() -> None:
    claim, doc = _ebills(1, seed=900)[0]
    bill = claim.bills[0]
    raised = bill.printed_total * 3
    altered = bill.model_copy(
        update={"printed_total": raised, "cash_paid": bill.cash_paid + raised - bill.printed_total}
    )
    claim = claim.model_copy(update={"bills": [altered]})
    canvas, _, tampered = render_page(claim, doc, random.Random(2))
    assert tampered == ["total_amount"]
    assert next(f for f in canvas.fields if f.name == "total_amount").value == f"{raised:.2f}"
    (code,) = decode_qr(np.asarray(canvas.image)[:, :, ::-1])
    assert parse_payload(code.text)["total_amount"] == bill.items_total  # type: ignore[index]


def test_fiscal_identity_follows_region_kind_and_year() -> None:
    claim = next(c for c in make_book(30, seed=5) if c.bills and c.incident.claim_type is ClaimType.INPATIENT)
    bill = claim.bills[0].model_copy(update={"layout": "ebill", "electronic": True})
    made = fiscal_ebill(random.Random(3), bill, True, ClaimType.INPATIENT)
    assert (
        made.issuer and made.invoice_code[2:6] == "0602" and made.invoice_code[6:] == f"{bill.issue_date:%y}"
    )
    assert len(made.check_code) == 6
    funds = sum(made.funds.values(), Decimal(0))
    assert made.fund_paid + made.account_paid + made.cash_paid + funds == made.items_total
    paper = bill.model_copy(update={"layout": "beijing", "electronic": False})
    assert fiscal_ebill(random.Random(3), paper, True, ClaimType.INPATIENT) is paper
    assert isinstance(made, BillTruth)


def test_the_older_e_invoice_page_carries_a_real_code_too() -> None:
    claim = next(c for c in make_book(20, seed=4) if c.bills)
    bill = claim.bills[0].model_copy(
        update={"layout": "e_invoice", "electronic": True, "check_code": "a1b2c3"}
    )
    claim = claim.model_copy(update={"bills": [bill]})
    doc = next(d for d in claim.documents if d.doc_type.value.endswith("invoice"))
    canvas, _, _ = render_page(claim, doc, random.Random(1))
    (code,) = decode_qr(np.asarray(canvas.image)[:, :, ::-1])
    assert parse_payload(code.text)["invoice_number"] == bill.invoice_number  # type: ignore[index]

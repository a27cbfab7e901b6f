"""A document typed `other` is set aside with its reason, never read as a guessed invoice."""

from __future__ import annotations

from helpers.pages import page_of

from pipeline.extract.documents import extract, extract_document
from pipeline.records import DocType


def test_a_lab_report_is_not_a_claim_document() -> None:
    page = page_of(
        ("某某医院检验报告单", 500, 40), ("血常规", 500, 90), ("白细胞计数 5.6 参考范围 3.5-9.5", 100, 200)
    )
    ex = extract_document([page], DocType.OTHER)
    (check,) = ex.checks
    assert check.name == "not_a_claim_document" and not check.passed
    assert "lab report" in check.message
    assert ex.needs_review and ex.fields == [] and ex.line_items == []


def test_a_blank_page_says_so() -> None:
    ex = extract_document([page_of(("1", 800, 1000))], DocType.OTHER)
    assert [c.name for c in ex.failed_checks] == ["blank_page"]
    assert not ex.illegible  # nothing to photograph again


def test_other_through_the_classifier_is_never_extracted() -> None:
    page = page_of(("G1418 南昌西站 二等座", 100, 100), ("¥81.0元", 100, 160))
    ex = extract([page], lambda pages: (DocType.OTHER, 0.93), min_confidence=0.8)
    assert ex.doc_type is DocType.OTHER and ex.fields == []
    assert "travel ticket" in ex.failed_checks[0].message


def test_a_hotel_invoice_taken_for_a_pharmacy_one_is_set_aside() -> None:
    import random

    from helpers.drawn import page_from_canvas

    from synth.other_docs import non_medical_invoice

    rng = random.Random(8)
    for _ in range(6):
        page = page_from_canvas(non_medical_invoice(rng))
        if not any(ln.text.startswith("*") for ln in page.lines):
            continue  # 通用机打发票 print no tax category: the classifier alone must say `other`
        ex = extract([page], lambda pages: (DocType.PHARMACY_INVOICE, 0.9), min_confidence=0.8)
        assert ex.doc_type is DocType.OTHER and ex.fields == []
        assert ex.failed_checks[0].name == "not_a_claim_document"
        assert "non-medical invoice" in ex.failed_checks[0].message


def test_a_purchase_of_drugs_stays_a_pharmacy_invoice() -> None:
    import datetime as dt
    import random

    from helpers.drawn import page_from_canvas

    from synth.pharmacy import LAYOUTS, draw_invoice, drug_sale

    rng = random.Random(9)
    for layout in LAYOUTS:
        canvas, _ = draw_invoice(drug_sale(rng, "孙丽", dt.date(2025, 5, 6)), layout, rng)
        ex = extract(
            [page_from_canvas(canvas)], lambda pages: (DocType.PHARMACY_INVOICE, 0.9), min_confidence=0.8
        )
        assert ex.doc_type is DocType.PHARMACY_INVOICE and ex.field("total_amount") is not None

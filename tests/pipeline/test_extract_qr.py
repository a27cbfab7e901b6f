"""The QR code of a 财政电子票据 against its print: filled, confirmed, corrected or a mismatch."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from helpers.pages import page_of, qr_code

from pipeline.extract.documents import extract_document
from pipeline.extract.qr import parse_payload, payload, settle_with_qr
from pipeline.records import DocType, Field, FieldKind

CODE = payload("41060221", "0017005510", Decimal("1234.50"), dt.date(2021, 3, 9), "a1b2c3")


def _bill(*rows: tuple[str, float, float], code: str | None = CODE) -> list:
    base = (
        ("河南省医疗门诊收费票据（电子）", 500, 60),
        ("票据代码：41060221", 100, 200),
        ("票据号码：0017005510", 1000, 200),
        ("校验码：a1b2c3", 1000, 240),
        ("开票日期：2021-03-09", 1000, 280),
        ("金额合计（大写）壹仟贰佰叁拾肆元伍角", 100, 600),
    )
    return [page_of(*(rows or base), codes=[qr_code(code)] if code else [])]


def test_payload_round_trip_and_url_form() -> None:
    assert parse_payload(CODE) == {
        "invoice_code": "41060221",
        "invoice_number": "0017005510",
        "check_code": "a1b2c3",
        "total_amount": Decimal("1234.50"),
        "issue_date": dt.date(2021, 3, 9),
    }
    url = (
        "https://pj.example.gov.cn/check?billBatchCode=41060221&billNo=0017005510&random=a1b2c3&amount=1234.5"
    )
    assert parse_payload(url) == {
        "invoice_code": "41060221",
        "invoice_number": "0017005510",
        "check_code": "a1b2c3",
        "total_amount": Decimal("1234.50"),
    }
    assert parse_payload("https://cc.co/16YRgz") is None
    assert parse_payload("hello, world") is None


def test_agreeing_code_confirms_and_fills_what_ocr_missed() -> None:
    pages = _bill()
    ex = extract_document(pages, DocType.OUTPATIENT_INVOICE)
    (qr,) = [c for c in ex.checks if c.name == "qr_mismatch"]
    assert qr.passed
    total = ex.field("total_amount")  # no figures printed: the code says it
    assert total is not None and total.value == Decimal("1234.50") and total.raw_text.startswith("QR")
    assert ex.field("invoice_number").confidence >= 0.99  # type: ignore[union-attr]


def test_a_slip_of_ocr_is_put_back_and_a_sure_difference_is_a_mismatch() -> None:
    def number(text: str, conf: float) -> dict[str, Field]:
        return {"invoice_number": Field(name="invoice_number", value=text, raw_text=text, confidence=conf)}

    slipped = number("0017005516", 0.9)
    assert settle_with_qr(_bill(), slipped, []).passed  # type: ignore[union-attr]
    assert slipped["invoice_number"].value == "0017005510"
    edited = number("0017009999", 0.99)
    check = settle_with_qr(_bill(), edited, [])
    assert check is not None and not check.passed and check.fields == ["invoice_number"]
    assert edited["invoice_number"].value == "0017009999"  # the print is kept: a person sees both


def _money(value: str, confidence: float) -> Field:
    return Field(name="total_amount", kind=FieldKind.MONEY, value=Decimal(value), confidence=confidence)


def _words(text: str) -> Field:
    return Field(name="total_in_words", value=text, confidence=0.99)


def test_an_amount_the_bill_itself_confirms_differs_from_the_code() -> None:
    """Figures and words raised together (an altered bill): the code keeps the amount first issued."""
    fields = {
        "total_amount": Field(
            name="total_amount", kind=FieldKind.MONEY, value=Decimal("4234.50"), confidence=0.99
        ),
        "total_in_words": Field(name="total_in_words", value="肆仟贰佰叁拾肆元伍角", confidence=0.99),
    }
    check = settle_with_qr(_bill(), fields, [])
    assert check is not None and not check.passed and "total_amount" in check.fields
    unsure = {
        "total_amount": Field(
            name="total_amount", kind=FieldKind.MONEY, value=Decimal("1284.50"), confidence=0.9
        ),
        "total_in_words": Field(name="total_in_words", value="壹仟贰佰叁拾肆元伍角", confidence=0.99),
    }
    assert settle_with_qr(_bill(), unsure, []).passed  # type: ignore[union-attr]
    assert unsure["total_amount"].value == Decimal("1234.50")  # the words and the code agree


def test_no_code_no_check() -> None:
    ex = extract_document(_bill(code=None), DocType.OUTPATIENT_INVOICE)
    assert not any(c.name == "qr_mismatch" for c in ex.checks)
    other = extract_document(_bill(code="https://cc.co/16YRgz"), DocType.OUTPATIENT_INVOICE)
    assert not any(c.name == "qr_mismatch" for c in other.checks)

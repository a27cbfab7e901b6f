"""The bills' layouts: each paper style, the e-invoice and the expense list draw the bill they are given,
items and totals agreeing with the truth, every truth box on the page."""

from __future__ import annotations

import random

import pytest

from pipeline.extract.checks import parse_amount_words
from pipeline.records import DocType, LineItem, money
from synth.bills import PAPER_STYLES, amount_words, e_invoice, expense_list, paper_invoice
from synth.book import ROWS_PER_PAGE, make_book
from synth.render import Canvas
from synth.truth import BillTruth, ClaimTruth, DocumentTruth


@pytest.fixture(scope="module")
def book() -> list[ClaimTruth]:
    return make_book(30, 11, 0.0)


def first_bill(
    book: list[ClaimTruth], inpatient: bool = False, electronic: bool | None = None
) -> tuple[ClaimTruth, BillTruth]:
    claim = next(
        c
        for c in book
        if c.bills
        and (c.incident.admission_date is not None) == inpatient
        and electronic in (None, c.bills[0].electronic)
    )
    return claim, claim.bills[0]


def doc(kind: DocType, layout: str, page: int = 1, pages: int = 1) -> DocumentTruth:
    return DocumentTruth(
        file=f"C0001/{kind.value}_1.jpg", doc_type=kind, media_type="image/jpeg", layout=layout,
        page_number=page, page_count=pages, group=f"{kind.value}_1",
    )  # fmt: skip


def value(canvas: Canvas, name: str) -> str:
    found = canvas.field(name)
    assert found is not None, f"no field {name}"
    return found.value


def on_the_page(canvas: Canvas) -> bool:
    return all(
        0 <= x <= canvas.width and 0 <= y <= canvas.height for f in canvas.fields for x, y in f.box or []
    )


def total(items: list[LineItem]) -> object:
    return money(sum(i.amount for i in items))


@pytest.mark.parametrize("style", sorted(PAPER_STYLES))
@pytest.mark.parametrize("inpatient", [False, True])
def test_each_paper_style_draws_its_title_numbers_and_categories(
    book: list[ClaimTruth], style: str, inpatient: bool
) -> None:
    claim, bill = first_bill(book, inpatient)
    bill = bill.model_copy(update={"layout": style, "electronic": False})
    kind = DocType.INPATIENT_INVOICE if inpatient else DocType.OUTPATIENT_INVOICE
    canvas, items, tampered = paper_invoice(claim, bill, doc(kind, style), random.Random(2))
    assert value(canvas, "title") == PAPER_STYLES[style]["title"].format(kind="住院" if inpatient else "门诊")
    assert value(canvas, "invoice_number") == bill.invoice_number
    assert value(canvas, "hospital") == claim.incident.hospital
    assert value(canvas, "issue_date") == bill.issue_date.isoformat()
    assert value(canvas, "payer_name") == claim.insured.name
    assert items and total(items) == bill.items_total  # the fee categories add up to the bill
    assert tampered == []  # a bill with no planted edit
    assert value(canvas, "total_amount") == f"{bill.printed_total:.2f}"
    assert on_the_page(canvas)


def test_the_e_invoice_carries_its_numbers_and_both_totals(book: list[ClaimTruth]) -> None:
    claim, bill = first_bill(book, electronic=True)  # an e-invoice has its check code
    canvas, items, _ = e_invoice(claim, bill, doc(DocType.OUTPATIENT_INVOICE, "e_invoice"), random.Random(2))
    assert value(canvas, "title") == "医疗门诊收费电子票据"
    assert (value(canvas, "invoice_code"), value(canvas, "check_code")) == (
        bill.invoice_code,
        bill.check_code,
    )
    assert value(canvas, "total_in_words") == bill.printed_words
    assert value(canvas, "total_amount") == f"{bill.printed_total:.2f}"
    assert value(canvas, "fund_paid") == f"{bill.fund_paid:.2f}"
    assert total(items) == bill.items_total
    assert on_the_page(canvas)


def test_the_expense_list_pages_its_rows_and_totals_on_the_last_page(book: list[ClaimTruth]) -> None:
    claim = max(book, key=lambda c: max((len(b.items) for b in c.bills), default=0))
    bill = max(claim.bills, key=lambda b: len(b.items))
    per_page = min(ROWS_PER_PAGE, (len(bill.items) + 1) // 2)
    count = -(-len(bill.items) // per_page)
    assert count >= 2
    pages = [
        expense_list(
            claim, bill, doc(DocType.EXPENSE_LIST, "expense_list", p, count), random.Random(p), per_page
        )
        for p in range(1, count + 1)
    ]
    all_items = [i for _, items, _ in pages for i in items]
    assert [i.name for i in all_items] == [it.name for it in bill.items]  # every row once, in order
    assert [i.page for i in all_items] == [1 + k // per_page for k in range(len(bill.items))]
    for canvas, items, _ in pages:
        assert value(canvas, "page_total") == f"{total(items):.2f}"
        assert on_the_page(canvas)
    first, last = pages[0][0], pages[-1][0]
    assert first.field("total_amount") is None
    assert value(last, "total_amount") == f"{bill.items_total:.2f}"
    assert parse_amount_words(value(last, "total_in_words")) == bill.items_total
    assert value(last, "page_label") == f"第 {count} 页  共 {count} 页"


@pytest.mark.parametrize("amount", ["0.50", "12.00", "388.50", "10086.07", "120000.00"])
def test_amount_words_read_back_as_the_amount(amount: str) -> None:
    words = amount_words(money(amount))
    assert words.endswith(("整", "角", "分")) and parse_amount_words(words) == money(amount)

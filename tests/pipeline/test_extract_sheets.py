"""Several bills on one page (pipeline.extract.sheets): split into one reading per bill, stacked
or side by side, and the page sent to a person with `multiple_documents`."""

from __future__ import annotations

import random
from pathlib import Path

from helpers.pages import line

from ocr.elements import Page, TextLine
from pipeline.extract.documents import extract_document
from pipeline.extract.sheets import MULTIPLE_DOCUMENTS, bill_titles, split_bills
from pipeline.records import DocType


def _bill(x: float, y: float, title: str, number: str, name: str, total: str) -> list[TextLine]:
    return [
        line(title, x + 200, y, height=48),
        line(f"票据号码：{number}", x + 40, y + 80),
        line(f"交款人：{name}", x + 40, y + 130),
        line("西药费", x + 40, y + 190),
        line(total, x + 300, y + 190),
        line(f"合计（小写）¥{total}", x + 40, y + 250),
        line("开票日期：2025年03月04日", x + 40, y + 310),
        line("收款单位（章）：江城人民医院", x + 40, y + 370),
    ]


def _sheet(*bills: list[TextLine], width: int = 1800, height: int = 2600) -> Page:
    return Page(number=1, width=width, height=height, lines=[ln for b in bills for ln in b])


def test_stacked_bills_are_read_one_by_one() -> None:
    page = _sheet(
        _bill(0, 100, "上海市医疗门（急）诊收费票据", "1234567890", "张三", "12.50"),
        _bill(60, 900, "黑龙江省医疗住院费票据", "2234567890", "李四", "88.00"),
        _bill(30, 1700, "北京市医疗门诊收费票据", "3234567890", "王五", "7.20"),
    )
    assert len(split_bills(page)) == 3
    ex = extract_document([page], DocType.OUTPATIENT_INVOICE, document_id="d")
    assert ex.needs_review and ex.failed_checks[0].name == MULTIPLE_DOCUMENTS
    got = [
        (p.document_id, str(p.field("invoice_number").value), str(p.field("total_amount").value))
        for p in ex.parts
    ]
    assert got == [
        ("d#1", "1234567890", "12.50"),
        ("d#2", "2234567890", "88.00"),
        ("d#3", "3234567890", "7.20"),
    ]
    assert [p.field("payer_name").value for p in ex.parts] == ["张三", "李四", "王五"]


def test_side_by_side_bills_split_across() -> None:
    page = _sheet(
        _bill(0, 100, "湖南省医疗门诊收费票据", "1111111111", "张三", "10.00"),
        _bill(1300, 110, "湖南省医疗门诊收费票据", "2222222222", "李四", "20.00"),
        width=2600,
        height=1200,
    )
    parts = split_bills(page)
    assert len(parts) == 2
    assert "1111111111" in "".join(ln.text for ln in parts[0].lines)
    assert "2222222222" in "".join(ln.text for ln in parts[1].lines)


def test_one_bill_with_a_title_read_twice_or_a_name_line_stays_whole() -> None:
    bill = _bill(0, 100, "广西壮族自治区医疗住院收费票据", "1234567890", "张三", "12.50")
    split_title = [line("广西壮族自治区医疗", 200, 100, height=48), line("住院收费票据", 420, 104, height=48)]
    name_line = [line("票据名称：医疗门诊收费票据", 40, 600)]  # printed at the size of the text
    page = _sheet(bill, split_title, name_line, width=1600, height=1100)
    assert len(bill_titles(page)) == 1 and split_bills(page) == [page]
    ex = extract_document([page], DocType.INPATIENT_INVOICE)
    assert not ex.parts and MULTIPLE_DOCUMENTS not in {c.name for c in ex.checks}


def test_a_generated_sheet_splits_where_its_truth_says(tmp_path: Path) -> None:
    """The generator's pasted sheet, its truth fields taken as read lines: each bill's fields land
    in the part cut for it."""
    from synth.book import make_book
    from synth.pasted import paper_bills, pasted_sheet

    doc = pasted_sheet(paper_bills(make_book(12, seed=8))[:3], tmp_path / "sheet.jpg", random.Random(1))
    assert len(doc.parts) >= 2
    lines = [TextLine(text=f.text, box=f.box, score=0.99) for p in doc.parts for f in p.fields if f.box]
    page = Page(number=1, width=doc.width, height=doc.height, lines=lines)
    parts = split_bills(page)
    assert len(parts) == len(doc.parts)
    for want, got in zip(doc.parts, parts, strict=True):
        assert {f.text for f in want.fields} == {ln.text for ln in got.lines}


def test_the_claim_sees_each_pasted_bill_as_an_invoice_and_a_person_the_page() -> None:
    import datetime as dt

    from pipeline.extract.facts import assemble_facts
    from pipeline.records import Claim

    page = _sheet(
        _bill(0, 100, "上海市医疗门（急）诊收费票据", "1234567890", "张三", "12.50"),
        _bill(60, 900, "湖南省医疗门诊收费票据", "2234567890", "张三", "88.00"),
    )
    ex = extract_document([page], DocType.OUTPATIENT_INVOICE, document_id="d")
    claim = Claim(
        claim_id="C1", policy_number="P1", claimant="张三", incident_date=dt.date(2025, 3, 1),
        submitted_at=dt.datetime(2025, 3, 10, 9),
    )  # fmt: skip
    facts = assemble_facts(claim, [ex])
    assert sorted(str(i.total) for i in facts.invoices) == ["12.50", "88.00"]
    assert MULTIPLE_DOCUMENTS in {c.name for c in facts.failed_checks if c.severity == "error"}

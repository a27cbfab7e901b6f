"""The invoice's own arithmetic repairs what OCR got wrong, and nothing it got right."""

from __future__ import annotations

from decimal import Decimal

from helpers.pages import line, page_of

from ocr.elements import Page, TextLine
from pipeline.extract.checks import check_payer_split, check_words_vs_figures
from pipeline.extract.documents import FIELD_MIN_CONFIDENCE
from pipeline.extract.invoice import (
    SEAL_CONFIDENCE,
    extract_invoice,
    fee_items,
    read_invoice,
    repair_split,
    settle_invoice_words,
    split_cells,
)
from pipeline.records import Field, FieldKind, LineItem

M = FieldKind.MONEY


def money_field(name: str, raw: str, confidence: float = 0.999) -> Field:
    return Field(name=name, kind=M, value=Decimal(raw), raw_text=raw, confidence=confidence)


def invoice(unsure: str = "", **amounts: str) -> dict[str, Field]:
    """Fields as OCR read them; the one named by `unsure` was read with low confidence."""
    return {n: money_field(n, v, 0.8 if n == unsure else 0.999) for n, v in amounts.items()}


def words(text: str) -> Field:
    return Field(name="total_in_words", value=text, raw_text=text, confidence=0.9)


def test_one_misread_digit_is_put_back_when_words_confirm_the_total() -> None:
    f = invoice(
        "fund_paid", total_amount="175.30", fund_paid="56.18", account_paid="0.00", cash_paid="119.14"
    )
    f["total_in_words"] = words("壹佰柒拾伍元叁角")
    assert not check_payer_split(f).passed  # type: ignore[union-attr]
    repair_split(f, [])
    assert f["fund_paid"].value == Decimal("56.16")  # cash 119.12 would fit too, but OCR was sure of it
    assert f["fund_paid"].raw_text == "56.18"
    assert f["fund_paid"].confidence >= FIELD_MIN_CONFIDENCE  # proved by the arithmetic
    assert check_payer_split(f).passed  # type: ignore[union-attr]


def test_an_unread_part_is_worked_out_from_the_total_and_the_others() -> None:
    f = invoice(total_amount="194.18", fund_paid="0.00", cash_paid="84.18")
    f["total_in_words"] = words("壹佰玖拾肆元壹角捌分")
    repair_split(f, [])
    assert f["account_paid"].value == Decimal("110.00")
    assert f["account_paid"].box is None and f["account_paid"].raw_text.startswith("=")
    assert f["account_paid"].confidence < FIELD_MIN_CONFIDENCE  # nothing checks it: a person confirms


def test_fee_lines_confirm_the_total_too() -> None:
    f = invoice(
        "fund_paid", total_amount="8644.32", fund_paid="4535", account_paid="0.00", cash_paid="4110.87"
    )
    items = [
        LineItem(name="床位费", amount=Decimal("644.32")),
        LineItem(name="西药费", amount=Decimal("8000")),
    ]
    repair_split(f, items)
    assert f["fund_paid"].value == Decimal("4533.45")


def test_nothing_changes_without_a_confirmed_total() -> None:
    f = invoice(total_amount="175.30", fund_paid="56.18", account_paid="0.00", cash_paid="119.14")
    f["total_in_words"] = words("壹佰柒拾伍元伍角")  # words disagree: the total is not confirmed
    before = {n: x.value for n, x in f.items()}
    repair_split(f, [])
    assert {n: x.value for n, x in f.items()} == before


def test_a_large_disagreement_is_left_for_the_check_to_report() -> None:
    f = invoice(
        "cash_paid", total_amount="255.30", fund_paid="57.08", account_paid="0.00", cash_paid="512.66"
    )
    f["total_in_words"] = words("贰佰伍拾伍元叁角")
    repair_split(f, [])
    assert f["cash_paid"].value == Decimal("512.66")
    assert not check_payer_split(f).passed  # type: ignore[union-attr]


def test_ambiguous_repairs_are_not_made() -> None:
    # either of two parts could be the misread one, and OCR was sure of both: neither is changed
    f = invoice(total_amount="30.00", fund_paid="10.00", account_paid="11.00", cash_paid="10.00")
    f["total_in_words"] = words("叁拾元整")
    repair_split(f, [])
    assert [f[p].value for p in ("fund_paid", "account_paid", "cash_paid")] == [
        Decimal("10.00"),
        Decimal("11.00"),
        Decimal("10.00"),
    ]


def test_the_total_comes_from_the_words_when_the_figures_went_unread() -> None:
    f = invoice(fund_paid="10.00", account_paid="0.00", cash_paid="20.00")
    f["total_in_words"] = words("叁拾元整")
    repair_split(f, [])
    assert f["total_amount"].value == Decimal("30.00")


def _page(*texts: tuple[str, float, float]) -> Page:
    def box(t: str, x: float, y: float) -> tuple:
        w = 24 * len(t)
        return ((x, y), (x + w, y), (x + w, y + 28), (x, y + 28))

    lines = [TextLine(text=t, box=box(t, x, y), score=0.98) for t, x, y in texts]
    return Page(number=1, width=1200, height=700, lines=lines)


def test_the_hospital_is_found_by_its_name_when_the_seal_hides_its_label() -> None:
    # C0006 of the benchmark: 收款单位（章） lost under the seal, the name itself read
    p = _page(
        ("上海市医疗门诊收费票据", 465, 85),
        ("医疗机构类型", 900, 145),
        ("综合医院", 1006, 134),
        ("南京玄武安和医院", 243, 601),
        ("门诊收费专用章", 257, 650),
    )
    fields, _ = extract_invoice([p])
    assert fields["hospital"].value == "南京玄武安和医院" and fields["hospital"].box == p.lines[3].box
    assert fields["hospital"].confidence < 0.98  # found by what it says, not where
    # two different names: no guess; a labelled hospital is never replaced
    two = _page(("南京玄武安和医院", 243, 601), ("北京市中医医院", 600, 601))
    assert "hospital" not in extract_invoice([two])[0]
    labelled = _page(("收款单位（章）：北京市中医医院", 100, 601), ("南京玄武安和医院", 600, 300))
    assert extract_invoice([labelled])[0]["hospital"].value == "北京市中医医院"


def test_garbled_words_are_read_from_figures_the_split_confirms() -> None:
    # seed 5151's C0032: 捌 read as 朋, 叁 as 参 and as 些; the payments add up to the figures
    paid = {"fund_paid": "2908.96", "account_paid": "0.00", "cash_paid": "3944.35"}
    f = invoice(total_amount="6853.31", **paid)
    f["total_in_words"] = words("陆仟朋佰伍拾参元些角壹分")
    assert not check_words_vs_figures(f).passed  # type: ignore[union-attr]
    settle_invoice_words(f, [])
    assert f["total_in_words"].value == "陆仟捌佰伍拾叁元叁角壹分"
    assert f["total_in_words"].raw_text == "陆仟朋佰伍拾参元些角壹分"  # the reading stays beside it
    assert check_words_vs_figures(f).passed  # type: ignore[union-attr]


def test_words_are_not_settled_when_they_may_say_another_amount() -> None:
    paid = {"fund_paid": "2908.96", "account_paid": "0.00", "cash_paid": "3944.35"}
    for reading, total, more in [
        ("陆仟柒佰伍拾叁元叁角壹分", "6853.31", paid),  # 柒 is a numeral: an altered invoice, not a misread
        ("陆仟朋佰伍拾参元些角壹分", "6853.31", {**paid, "cash_paid": "3944.36"}),  # figures unconfirmed
        ("陆仟朋佰伍拾元些角壹分", "6853.31", paid),  # a character lost: no position to trust
    ]:
        f = invoice(total_amount=total, **more)
        f["total_in_words"] = words(reading)
        settle_invoice_words(f, [])
        assert f["total_in_words"].value == reading


def test_a_fee_grid_read_with_cells_joined_gives_every_category() -> None:
    """Dot-matrix print misses its boxes, so OCR joins an amount to the next cell's label; a row of
    the grid also holds categories no list names (取暖费) and labels a fold cut short (卫生材)."""
    page = page_of(
        ("床位费", 100, 200), ("1762.50 取暖费", 300, 200), ("55.00 手术材料 56400.00 手术费", 560, 200),
        ("4664.50", 1000, 200),
        ("卫生材", 100, 260), ("5157.25 西药费", 300, 260), ("5529.68", 560, 260),
        ("统筹合计", 100, 400), ("15067.88", 300, 400),  # a payment row, not a fee
    )  # fmt: skip
    items = {i.name: str(i.amount) for i in fee_items([page])}
    assert items == {
        "床位费": "1762.50", "取暖费": "55.00", "手术材料": "56400.00", "手术费": "4664.50",
        "卫生材": "5157.25", "西药费": "5529.68",
    }  # fmt: skip
    # the amount of a split cell keeps its own box, right of its label's
    bed = next(i for i in fee_items([page]) if i.name == "取暖费")
    assert bed.box[0][0] > 300 and bed.box[1][0] > 560


def test_split_cells_cuts_only_after_an_amount_that_text_follows() -> None:
    assert [c.text for c in split_cells(line("0.00 CT费", 0, 0))] == ["0.00", "CT费"]
    assert [c.text for c in split_cells(line("(小写)76,142.83", 0, 0))] == ["(小写)76,142.83"]
    cells = split_cells(line("0.00药浴费", 0, 0))
    assert [c.text for c in cells] == ["0.00", "药浴费"] and cells[0].box[1][0] < cells[1].box[1][0]


def _sealed(text: str, score: float = 0.99) -> Page:
    page = page_of(("门诊收费票据", 100, 40), ("收款单位（章）：", 100, 900), ("合计：12.00", 100, 600))
    seal = line(text, 300, 820).model_copy(update={"score": score, "source": "seal"})
    return page.model_copy(update={"seals": [seal]})


def test_a_hospital_named_only_by_its_seal_is_taken_from_it_for_a_person_to_confirm() -> None:
    fields, _, _ = read_invoice([_sealed("威海市立医院")])
    h = fields["hospital"]
    assert h.value == "威海市立医院" and h.confidence == SEAL_CONFIDENCE < FIELD_MIN_CONFIDENCE
    assert h.box[0] == (300, 820)  # the seal's box: what the adjuster is shown
    assert "hospital" not in read_invoice([_sealed("官上海市东发医")])[0]  # no name: nothing taken
    assert "hospital" not in read_invoice([_sealed("苏州大子附属医院")])[0]  # one off a naming word


def test_a_printed_hospital_wins_over_its_seal() -> None:
    page = _sealed("威海市立医院")
    page = page.model_copy(update={"lines": [*page.lines, line("收款单位：江城市人民医院", 100, 960)]})
    assert read_invoice([page])[0]["hospital"].value == "江城市人民医院"


def test_a_paper_bills_printed_serial_is_its_number_unless_a_number_is_labelled() -> None:
    serial = page_of(("医疗住院收费票据", 300, 40), ("No", 900, 40), ("2915012951", 960, 40))
    assert read_invoice([serial])[0]["invoice_number"].value == "2915012951"
    both = page_of(("No", 900, 40), ("0018866520", 960, 40), ("票据号码：0151294978", 100, 120))
    fields = read_invoice([both])[0]
    assert fields["invoice_number"].value == "0151294978" and "serial_number" not in fields


def test_an_unlabelled_date_in_the_bills_year_month_day_boxes_is_its_issue_date() -> None:
    boxed = page_of(
        ("收款人（签章）", 100, 900),
        ("2020", 700, 900),
        ("06", 820, 900),
        ("月19", 900, 900),
        ("日", 1000, 900),
    )
    date = read_invoice([boxed])[0]["issue_date"]
    assert str(date.value) == "2020-06-19" and date.confidence < 0.98
    run_together = page_of(("2020082日", 700, 900))  # a digit lost: no guess at where it was
    assert "issue_date" not in read_invoice([run_together])[0]
    labelled = page_of(
        ("开票日期：2020-06-18", 100, 100), ("2020", 700, 900), ("06", 820, 900), ("19日", 900, 900)
    )
    assert str(read_invoice([labelled])[0]["issue_date"].value) == "2020-06-18"


def test_a_bracketed_other_name_is_never_the_payee_alone() -> None:
    # the name before the bracket misread as no name (研究院 as 研究): the line names no payee
    misread = _page(("收款单位（章）：山东省肿瘤防治研究（山东省肿瘤医院）", 100, 601))
    assert "hospital" not in extract_invoice([misread])[0]
    whole = _page(("收款单位（章）：山东省肿瘤防治研究院（山东省肿瘤医院）", 100, 601))
    assert extract_invoice([whole])[0]["hospital"].value == "山东省肿瘤防治研究院(山东省肿瘤医院)"

"""What every per-type extractor shares: a field cut from part of a line, the hospital heading, the
signature dates, and amounts in words settled from confirmed figures."""

from __future__ import annotations

from decimal import Decimal

from helpers.pages import page_of

from pipeline.extract.base import (
    field_below_key,
    hospital_title,
    line_field,
    loose_dates,
    pair_pages,
    settle_words,
)
from pipeline.extract.pairing import Key
from pipeline.records import Field, FieldKind


def test_a_line_field_keeps_the_characters_it_was_cut_from_and_their_box() -> None:
    page = page_of(("姓名：李静芳", 100, 200))
    f = line_field("patient_name", page.lines[0], 1, "李静芳", start=3)
    assert (f.value, f.raw_text, f.confidence, f.page) == ("李静芳", "李静芳", 0.98, 1)
    assert f.box is not None and f.box[0][0] > 100  # the sub-box starts after the label
    assert line_field("x", page.lines[0], 2, "1", confidence=0.51234).confidence == 0.5123


def test_the_hospital_heading_is_found_at_the_top_only() -> None:
    top = page_of(("安康市第一人民医院出院小结", 300, 40), ("科室：内科", 100, 300))
    found = hospital_title(top)
    assert found is not None and found[1] == "安康市第一人民医院"
    low = page_of(("出院小结", 300, 40), ("安康市第一人民医院", 300, 600))
    assert hospital_title(low) is None  # a hospital named in the body is no heading


def test_loose_dates_are_unlabelled_dates_below_a_line_in_reading_order() -> None:
    page = page_of(
        ("入院日期：2025年6月1日", 100, 100),  # labelled: not loose
        ("2025年6月9日", 1000, 950),
        ("2025-06-08 医师签名", 100, 900),
        ("2025年2月30日", 100, 1000),  # no such date
    )
    dates = loose_dates(page)
    assert [(ln.text, s, e) for ln, s, e in dates] == [("2025-06-08 医师签名", 0, 11), ("2025年6月9日", 0, 9)]
    assert [ln.text for ln, _, _ in loose_dates(page, below_y=920)] == ["2025年6月9日"]


def test_pairing_across_pages_keeps_the_first_page_that_holds_a_key() -> None:
    key = Key("hospital_number", ("住院号",), pattern=r"[A-Z0-9]{4,}")
    first = page_of(("住院号：ZY2025001", 100, 100), number=1)
    second = page_of(("住院号：ZY2025999", 100, 100), number=2)
    fields = pair_pages([first, second], [key])
    assert fields["hospital_number"].value == "ZY2025001" and fields["hospital_number"].page == 1
    assert field_below_key(fields, "hospital_number") == 100
    assert field_below_key(fields, "absent") == 0.0


def _words_and_total(words: str, total: str = "388.50") -> dict[str, Field]:
    return {
        "total_in_words": Field(name="total_in_words", value=words, confidence=0.9),
        "total_amount": Field(name="total_amount", kind=FieldKind.MONEY, value=total, confidence=0.95),
    }


def test_garbled_words_are_settled_from_figures_the_bill_confirms() -> None:
    fields = _words_and_total("叁佰朋拾捌元伍角")  # 捌 read as 朋
    settle_words(fields, [Decimal("388.50")])
    assert fields["total_in_words"].value == "叁佰捌拾捌元伍角"
    assert fields["total_in_words"].confidence == round(0.9 * 0.9, 4)


def test_words_are_left_alone_unconfirmed_or_naming_another_amount() -> None:
    unconfirmed = _words_and_total("叁佰朋拾捌元伍角")
    settle_words(unconfirmed, [Decimal("300.00"), None])
    assert unconfirmed["total_in_words"].value == "叁佰朋拾捌元伍角"
    altered = _words_and_total("叁佰捌拾玖元伍角整X")  # another amount: a capital numeral differs
    settle_words(altered, [Decimal("388.50")])
    assert altered["total_in_words"].value == "叁佰捌拾玖元伍角整X"

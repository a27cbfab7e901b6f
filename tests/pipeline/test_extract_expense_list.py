"""Expense lists: header fields and the amount in words settled from confirmed figures."""

from __future__ import annotations

from ocr.elements import Page, TextLine
from pipeline.extract.expense_list import extract_expense_list


def _page(*rows: tuple[str, float, float]) -> Page:
    lines = [
        TextLine(
            text=t, box=((x, y), (x + 24 * len(t), y), (x + 24 * len(t), y + 30), (x, y + 30)), score=0.97
        )
        for t, x, y in rows
    ]
    return Page(number=1, width=1200, height=1600, lines=lines)


def test_words_garbled_by_ocr_are_read_from_the_figures_the_subtotal_confirms() -> None:
    footer = [("费用合计：101.39", 60, 900), ("大写：壹佰零查元叁角玖分", 500, 900)]
    fields, _ = extract_expense_list([_page(("本页小计：101.39", 60, 850), *footer)])
    assert str(fields["total_amount"].value) == "101.39"
    assert fields["total_in_words"].value == "壹佰零壹元叁角玖分"
    assert fields["total_in_words"].confidence < 0.97
    # nothing confirms the figures: the words stay as read, for words_vs_figures to report
    fields, _ = extract_expense_list([_page(*footer)])
    assert fields["total_in_words"].value == "壹佰零查元叁角玖分"

"""The stay on an inpatient bill in the shapes real bills print it."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers.pages import page_of

from pipeline.extract.invoice import KEYS
from pipeline.extract.stay import dates_in, read_stay

A, B = dt.date(2020, 12, 17), dt.date(2020, 12, 23)


@pytest.mark.parametrize(
    "rows",
    [
        [("住院时间：20201217|20201223", 100, 500)],
        [("住院时间：2020-12-17~2020-12-23", 100, 500)],
        [("住院时间：2020-12-17-2020-12-23", 100, 500)],
        [("住院时间：2020-12-17至2020-12-23预缴金额：5000", 100, 500)],
        [("住院时间：2020年12月17日到2020年12月23日", 100, 500)],
        [("住院时间：2020121720201223", 100, 500)],  # the bar between them lost
        [("住院时间：", 100, 500), ("2020-12-17", 260, 500), ("到2020-12-23", 520, 500)],
        [("入院日期：2020-12-17", 100, 500), ("出院日期：2020-12-23", 600, 500)],
        [
            ("住院时间：", 100, 500),
            ("2020-12-17", 260, 500),
            ("备注：出院时间：2020-12-23;住院天数：6", 100, 700),
        ],
    ],
)
def test_stay_shapes(rows: list[tuple[str, float, float]]) -> None:
    fields: dict = {}
    read_stay([page_of(*rows)], fields, KEYS)
    assert fields["admission_date"].value == A and fields["discharge_date"].value == B
    assert fields["days_in_hospital"].value == 6


def test_printed_days_win_and_derived_days_are_less_sure() -> None:
    printed: dict = {}
    read_stay([page_of(("住院时间：2020-12-17至2020-12-23住院天数：5.0天", 100, 500))], printed, KEYS)
    assert printed["days_in_hospital"].value == 5 and printed["days_in_hospital"].box is not None
    derived: dict = {}
    read_stay([page_of(("住院时间：20201217|20201223", 100, 500))], derived, KEYS)
    assert derived["days_in_hospital"].value == 6 and derived["days_in_hospital"].raw_text.startswith("=")
    assert derived["days_in_hospital"].confidence < derived["admission_date"].confidence


def test_dates_going_backwards_are_no_stay() -> None:
    fields: dict = {}
    read_stay([page_of(("住院时间：20201223|20201217", 100, 500))], fields, KEYS)
    assert "admission_date" not in fields and "days_in_hospital" not in fields


def test_dates_in_knows_where_each_date_sits() -> None:
    text = "住院时间：2020121720201223"
    (a, s0, e0), (b, s1, e1) = dates_in(text)
    assert (a, b) == (A, B) and text[s0:e0] == "20201217" and text[s1:e1] == "20201223"

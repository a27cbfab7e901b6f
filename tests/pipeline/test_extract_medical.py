"""Diagnoses on discharge summaries and certificates: names, printed codes and the dictionary."""

from __future__ import annotations

import pytest

from ocr.elements import Page, TextLine
from pipeline.extract.medical import diagnoses, extract_discharge


def _page(*texts: str) -> Page:
    lines = [
        TextLine(
            text=t,
            box=((100, 100 + 50 * i), (900, 100 + 50 * i), (900, 130 + 50 * i), (100, 130 + 50 * i)),
            score=0.98,
        )
        for i, t in enumerate(texts)
    ]
    return Page(number=1, width=1000, height=1400, lines=lines)


@pytest.mark.parametrize(
    "printed",
    [
        "1. 不稳定型心绞痛（ICD-10：I20.0）",
        "1. 不稳定型心绞痛(CD-10:(20.0)",
        "1. 不稳定型心绞痛(1CD-10：120.0)",
    ],
)
def test_the_name_ends_where_its_code_begins_even_when_ocr_garbles_icd(printed: str) -> None:
    page = _page("出院诊断：", printed, "出院情况：好转")
    (name, _code, _line, _page_no, _conf), *_ = diagnoses([page], "出院诊断")
    assert name[0] == "不稳定型心绞痛"
    fields, _ = extract_discharge([page])
    assert fields["diagnosis"].value == "不稳定型心绞痛" and fields["diagnosis_code"].value == "I20.0"

"""A4 record pages written top to bottom: values drawn by label become truth fields, the text breaks
to the planned pages with the running header, and a record that does not fit says so."""

from __future__ import annotations

import random

import pytest

from synth.sheet import A4, D, Overflow, Sheet, Style, T


def _sheet(pages: int, header: bool = False) -> Sheet:
    run = (lambda s: s.text(s.style.left, "安康市第一人民医院 出院记录（续）")) if header else None
    return Sheet(Style(footer="第{p}页/共{n}页"), pages, random.Random(3), running_header=run)


def test_a_value_drawn_by_its_label_is_a_truth_field() -> None:
    sheet = _sheet(1)
    sheet.rows([[("姓名：", "李静芳", "patient_name", T, "李静芳")]])
    sheet.pair(sheet.style.left, "出院日期：", "2025年6月9日", "discharge_date", D, truth="2025-06-09")
    [name, date] = sheet.c.fields
    assert (name.name, name.text) == ("patient_name", "李静芳")
    assert (date.name, date.value, date.text) == ("discharge_date", "2025-06-09", "2025年6月9日")
    assert date.box is not None and date.box[0][0] > sheet.style.left  # after its label


def test_a_long_text_breaks_to_the_planned_pages_with_footers() -> None:
    sheet = _sheet(2, header=True)
    sheet.paragraph("诊疗经过：", ["患者入院后予抗感染、补液等对症支持治疗，病情好转。"] * 100)
    canvases = sheet.finish()
    assert len(canvases) == 2 and all(c.width == A4[0] for c in canvases)
    texts = [{r.text for r in c.runs} for c in canvases]
    assert "第1页/共2页" in texts[0] and "第2页/共2页" in texts[1]
    assert "安康市第一人民医院 出院记录（续）" in texts[1]  # the running header opens the next page


def test_a_record_that_does_not_fit_its_pages_overflows() -> None:
    with pytest.raises(Overflow, match="more than 1 pages"):
        _sheet(1).paragraph("诊疗经过：", ["患者入院后予抗感染、补液等对症支持治疗，病情好转。"] * 100)
    with pytest.raises(Overflow, match="1 pages written, 2 planned"):
        _sheet(2).finish()


def test_diagnoses_are_numbered_truth_fields() -> None:
    sheet = _sheet(1)
    sheet.diagnoses(
        "出院诊断：",
        [("J18.9", "肺炎"), ("E11.9", "2型糖尿病")],
        record=True,
        layout="stacked",
        codes="after",
    )
    names = {f.name: f.text for f in sheet.c.fields}
    assert names["diagnosis"] == "肺炎" and names["diagnosis_2"] == "2型糖尿病"
    assert names["diagnosis_code"].endswith("J18.9）") and "diagnosis_code_2" in names

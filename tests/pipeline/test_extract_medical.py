"""Discharge records and certificates: header pairs, diagnosis lists, the stay, blank labels."""

from __future__ import annotations

import datetime as dt

import pytest

from ocr.elements import Page, TextLine
from pipeline.extract.diagnoses import DISCHARGE_LABELS, diagnosis_list
from pipeline.extract.documents import extract_document
from pipeline.extract.medical import extract_certificate, extract_discharge
from pipeline.records import DocType


def _page(*rows: str | tuple[str, ...]) -> Page:
    """One row per argument; a tuple is several OCR lines side by side in one row."""
    lines = []
    for i, row in enumerate(rows):
        parts = (row,) if isinstance(row, str) else row
        for k, t in enumerate(parts):
            x0 = 100 + 380 * k
            y0 = 100 + 50 * i
            lines.append(
                TextLine(
                    text=t, box=((x0, y0), (x0 + 360, y0), (x0 + 360, y0 + 30), (x0, y0 + 30)), score=0.98
                )
            )
    return Page(number=1, width=1300, height=1800, lines=lines)


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
    first, *_ = diagnosis_list([page], DISCHARGE_LABELS)
    assert first.name == "不稳定型心绞痛"
    fields, _ = extract_discharge([page])
    assert fields["diagnosis"].value == "不稳定型心绞痛" and fields["diagnosis_code"].value == "I20.0"


def test_a_numbered_list_on_one_line_gives_the_principal_first_and_the_others_after() -> None:
    page = _page(
        "入院诊断：1.乳腺结节待查",
        "出院诊断：1.左乳癌（T2N2M0）ⅢA期 2.高血压病3级（很高危）",
        "出院情况：好转",
    )
    fields, _ = extract_discharge([page])
    assert fields["diagnosis"].value == "左乳癌(T2N2M0)IIIA期"  # NFKC, as every reading is compared
    assert fields["diagnosis_2"].value == "高血压病3级(很高危)"
    assert fields["diagnosis_code"].value == "C50.9" and fields["diagnosis_code_2"].value == "I10"


def test_a_list_under_a_bare_label_wraps_and_stops_at_the_next_section() -> None:
    page = _page(
        "出院诊断：", "1、右肺小细胞肺癌（广泛期）化疗后 2、脑转移", "放疗后 3、低钠血症", "治疗结果：好转"
    )
    names = [i.name for i in diagnosis_list([page], DISCHARGE_LABELS)]
    assert names == ["右肺小细胞肺癌(广泛期)化疗后", "脑转移放疗后", "低钠血症"]


def test_unnumbered_items_split_at_the_enumeration_comma_and_a_code_before_the_name() -> None:
    page = _page("出院诊断：回盲部脓肿、慢性阑尾炎", "手术及操作名称：腹腔镜下右半结肠切除术")
    assert [i.name for i in diagnosis_list([page], DISCHARGE_LABELS)] == ["回盲部脓肿", "慢性阑尾炎"]
    coded = _page("出院诊断：(C50.901)乳腺恶性肿瘤，上部；(C78.000)肺继发恶性肿瘤", "出院情况：可")
    first = diagnosis_list([coded], DISCHARGE_LABELS)[0]
    assert (first.name, first.code) == ("乳腺恶性肿瘤,上部", "C50.901")


def test_a_suspected_diagnosis_keeps_its_question_mark() -> None:
    page = _page("出院诊断：1.头痛待查：①颅内出血？ 2.流感样病例", "出院医嘱：休息")
    assert diagnosis_list([page], DISCHARGE_LABELS)[0].name.endswith("?")


def test_inline_header_pairs_glued_or_apart_and_dates_with_the_hour() -> None:
    page = _page(
        "河北省人民医院",
        "出院记录",
        ("姓名：王芳", "性别：女", "年龄：36岁"),
        "科室：乳腺外科  住院号：ZY2019001",
        "入院时间：2019年09月03日10时12分",
        ("出院时间：", "2019年9月9日 8点00分"),
        "出院诊断：乳腺癌",
    )
    fields, _ = extract_discharge([page])
    got = {
        k: fields[k].value
        for k in ("hospital", "patient_name", "sex", "age", "department", "hospital_number")
    }
    assert got == {
        "hospital": "河北省人民医院",
        "patient_name": "王芳",
        "sex": "女",
        "age": 36,
        "department": "乳腺外科",
        "hospital_number": "ZY2019001",
    }
    assert fields["admission_date"].value == dt.date(2019, 9, 3)
    assert fields["discharge_date"].value == dt.date(2019, 9, 9)


def test_bilingual_labels_and_a_label_beside_the_name_that_is_no_name() -> None:
    page = _page(
        ("姓名(Name)：", "沈丽", "性别(Gender)：", "女", "年龄(Age)：36", "岁"),
        ("姓名：", "登记号：", "病案号："),
        "入院时间(In Time)：2020-10-14 09:21",
    )
    fields, _ = extract_discharge([page])
    assert (fields["patient_name"].value, fields["sex"].value, fields["age"].value) == ("沈丽", "女", 36)
    assert fields["admission_date"].value == dt.date(2020, 10, 14)
    blank = extract_discharge([_page(("姓名：", "登记号："), "患者，女，43岁，已婚。")])[0]
    assert "patient_name" not in blank


def test_the_stay_in_prose_and_a_label_with_its_note() -> None:
    page = _page(
        "某某市中心医院",
        "出院诊断证明书",
        "科室（包括入院时科室及转科科别）：乳腺科",
        "诊断：右肺癌  右肺门淋巴结转移",
        ("入院日期：", "自", "2019年12月3日", "起"),
        "共住院 6 天",
    )
    fields, _ = extract_certificate([page])
    assert fields["department"].value == "乳腺科"
    assert fields["days_in_hospital"].value == 6
    assert fields["admission_date"].value == dt.date(2019, 12, 3)
    assert (fields["diagnosis"].value, fields["diagnosis_2"].value) == ("右肺癌", "右肺门淋巴结转移")


def test_labels_printed_blank_are_not_read_as_an_illegible_photo() -> None:
    page = _page(
        "某某市人民医院",
        "出院记录",
        ("姓名：", "性别：男", "年龄：55岁"),
        ("入院日期：", "出院日期："),
        "出院诊断：1、肺炎",
    )
    ex = extract_document([page], DocType.DISCHARGE_SUMMARY)
    blank = next(c for c in ex.checks if c.name == "blank_labels")
    assert {"patient_name", "admission_date", "discharge_date"} <= set(blank.fields)
    assert not ex.illegible


def test_a_label_with_its_english_gloss_glued_to_the_value() -> None:
    page = _page(("患者姓名(Name)：李敏霞", "性别(Gender)：女"), "出院时间(Out Time)：2025年08月06日 17:30")
    fields, _ = extract_discharge([page])
    assert (fields["patient_name"].value, fields["sex"].value) == ("李敏霞", "女")
    assert fields["discharge_date"].value == dt.date(2025, 8, 6)


def test_national_clinical_extension_codes_are_kept_as_printed() -> None:
    page = _page("出院诊断：(C50.801)乳腺恶性肿瘤，上部；(C79.500x001)骨继发恶性肿瘤", "出院情况：可")
    fields, _ = extract_discharge([page])
    assert fields["diagnosis_code"].value == "C50.801"
    second = (fields["diagnosis_2"].value, fields["diagnosis_code_2"].value)
    assert second == ("骨继发恶性肿瘤", "C79.500x001")


def test_an_unnumbered_item_cut_by_the_lines_end_is_joined_with_its_rest() -> None:
    page = _page(
        "出院诊断：(C50.801)乳腺恶性肿瘤，上部；(C78.700)肝部继发",
        "性恶性肿瘤；(D61.101)化疗后骨髓抑制；",
        "出院情况：可",
    )
    names = [i.name for i in diagnosis_list([page], DISCHARGE_LABELS)]
    assert names == ["乳腺恶性肿瘤,上部", "肝部继发性恶性肿瘤", "化疗后骨髓抑制"]
    ended = _page("出院诊断：回盲部脓肿；", "慢性阑尾炎", "出院情况：可")  # a separator ends the line
    assert [i.name for i in diagnosis_list([ended], DISCHARGE_LABELS)] == ["回盲部脓肿", "慢性阑尾炎"]


def test_short_lines_without_separators_are_one_diagnosis_each() -> None:
    def at(text: str, y: float, width: float) -> TextLine:
        return TextLine(
            text=text, box=((100, y), (100 + width, y), (100 + width, y + 30), (100, y + 30)), score=0.98
        )

    lines = [
        at("出院诊断：高血压病3级", 100, 300),
        at("2型糖尿病", 150, 140),
        at("入院后完善相关检查。", 300, 1000),
    ]
    page = Page(number=1, width=1300, height=1800, lines=lines)
    assert [i.name for i in diagnosis_list([page], DISCHARGE_LABELS)] == ["高血压病3级", "2型糖尿病"]

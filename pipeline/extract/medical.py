"""Discharge records (出院记录 / 出院小结) and diagnosis certificates (诊断证明书 / 出院诊断证明书).

Both name the patient, the institution (a heading, not a labelled field) and diagnoses, often with
their ICD-10 codes. The header's pairs are read wherever they stand (`性别：女  年龄：36岁` on one line,
a table, `姓名(Name)：` with its English), the stay also from prose (`共住院 6 天`, `stay.py`). A
diagnosis list (`diagnoses.py`) runs over several rows after its label, numbered or not; the first
item is the principal diagnosis, the others `diagnosis_2` …; a printed code is repaired by shape and
checked against the project's dictionary (icd10.csv), which also supplies a code the page does not
print. The signature date stands alone under the doctor's name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from ocr.elements import Page, TextLine
from pipeline.extract import icd10
from pipeline.extract.base import (
    ID_NUMBER,
    field_below_key,
    hospital_title,
    line_field,
    loose_dates,
    pair_pages,
)
from pipeline.extract.checks import parse_date
from pipeline.extract.diagnoses import CERTIFICATE_LABELS, DISCHARGE_LABELS, diagnosis_list
from pipeline.extract.pairing import Key, find_hits
from pipeline.extract.stay import read_stay_in_prose
from pipeline.records import Check, Field, FieldKind

log = logging.getLogger(__name__)

D, INT = FieldKind.DATE, FieldKind.INT

_NAME = r"^([\u4e00-\u9fff]{2,4}(?:·[\u4e00-\u9fff]{2,8})?)$"
_COMMON: tuple[Key, ...] = (
    Key("patient_name", ("姓名", "患者姓名", "病人姓名", "姓名(Name)"), pattern=_NAME),
    Key("sex", ("性别", "性别(Gender)", "性别(Sex)"), pattern=r"([男女])", closed=True, anywhere=True),
    Key("age", ("年龄", "年龄(Age)"), INT, pattern=r"(\d{1,3})(?:岁|周岁|Y)?(?!\d|个?月|天)", anywhere=True),
    Key(
        "department", ("科室", "科别", "就诊科室", "科别(Section Office)", "科室(Department)"), anywhere=True
    ),
    Key("ward", ("病区", "病区名称")),
    Key(
        "hospital_number",
        ("门诊/住院号", "住院号", "门诊号", "病案号", "住院病案号", "住院号(Hospital No)"),
        pattern=r"([A-Za-z]{0,3}\d{4,})",
        anywhere=True,
    ),
    Key("doctor", ("主治医师", "医师签名", "经治医师", "医生签名", "医师", "主治医师签字", "医师签字")),
    Key("bed", ("床号", "床号(Bed No)"), anywhere=True),
    Key("serial", ("编号",)),
    Key(
        "other",
        (
            "登记号",
            "职业",
            "婚姻",
            "民族",
            "出生日期",
            "联系电话",
            "病理号",
            "X光号",
            "住址",
            "现住址",
            "工作单位",
        ),
    ),
)
"""`other`: labels printed beside ours whose values we do not read; found, they are no one's value."""
_STAY: tuple[Key, ...] = (
    Key("admission_date", ("入院日期", "入院时间", "入院时间(In Time)"), D, anywhere=True),
    Key("discharge_date", ("出院日期", "出院时间", "出院时间(Out Time)"), D, anywhere=True),
    Key("days_in_hospital", ("住院天数", "实际住院天数", "共住院"), INT, pattern=r"(\d{1,3})", anywhere=True),
)
DISCHARGE_KEYS: tuple[Key, ...] = (*_COMMON, *_STAY)
CERTIFICATE_KEYS: tuple[Key, ...] = (
    *_COMMON,
    *_STAY,
    Key("visit_date", ("就诊日期", "门诊日期"), D),
    Key("id_number", ("身份证号", "身份证号码", "证件号码"), pattern=ID_NUMBER),
)
_SECTION_KEYS = tuple(Key(f"section:{s}", (s,)) for s in ("诊疗经过", "住院经过", "治疗经过"))
_NOTE_THEN_VALUE = re.compile(r"^[^()（）]{1,20}[)）]\s*[:：]\s*(.+)$")
_PROCEDURE = re.compile(r"行([^，。,；;]{1,20}?术)")


_GLOSS = re.compile(r"(?<=[\u4e00-\u9fff])\s*[(（]\s*[A-Za-z][A-Za-z .]{1,24}[)）]")
"""A label's English gloss: 姓名(Name)：, 入院时间(In Time)：."""


def without_glosses(page: Page) -> Page:
    """The page with the English glosses of bilingual labels taken out, so the labels pair as usual."""
    lines = [
        ln.model_copy(update={"text": _GLOSS.sub("", ln.text)}) if _GLOSS.search(ln.text) else ln
        for ln in page.lines
    ]
    return page.model_copy(update={"lines": lines})


def extract_discharge(pages: Sequence[Page]) -> tuple[dict[str, Field], list[Check]]:
    pages = [without_glosses(p) for p in pages]
    fields = pair_pages(pages, DISCHARGE_KEYS)
    checks = _common(pages, fields, DISCHARGE_LABELS, "signed_date")
    course = _section_text(pages)
    if course is not None:
        procs = sorted({m.group(1) for m in _PROCEDURE.finditer(course[1])})
        if procs:
            fields["procedures"] = line_field("procedures", course[0], course[2], "；".join(procs))
    return fields, checks


def extract_certificate(pages: Sequence[Page]) -> tuple[dict[str, Field], list[Check]]:
    pages = [without_glosses(p) for p in pages]
    fields = pair_pages(pages, CERTIFICATE_KEYS)
    return fields, _common(pages, fields, CERTIFICATE_LABELS, "issue_date")


def _common(
    pages: Sequence[Page], fields: dict[str, Field], labels: Sequence[str], date_name: str
) -> list[Check]:
    for name in ("bed", "serial", "other"):
        fields.pop(name, None)
    for name, f in list(fields.items()):
        m = _NOTE_THEN_VALUE.match(str(f.value)) if f.kind is FieldKind.TEXT else None
        if m:  # 科室（包括入院时科室及转科科别）：乳腺科: the label's note is no part of the value
            fields[name] = f.model_copy(update={"value": m.group(1), "raw_text": m.group(1)})
    ward = fields.pop("ward", None)
    if "department" not in fields and ward is not None:
        fields["department"] = ward.model_copy(update={"name": "department"})
    read_stay_in_prose(pages, fields)
    page = pages[0]
    title = hospital_title(page)
    if title is not None:
        fields["hospital"] = line_field("hospital", title[0], page.number, title[1], end=len(title[1]))
    checks: list[Check] = []
    for k, item in enumerate(diagnosis_list(pages, labels)):
        suffix = "" if k == 0 else f"_{k + 1}"
        fields[f"diagnosis{suffix}"] = Field(
            name=f"diagnosis{suffix}",
            value=item.name,
            raw_text=item.name,
            confidence=round(item.confidence, 4),
            page=item.page,
            box=item.box,
        )
        conf = item.confidence
        code = (item.code, item.code_box) if item.code else None
        known = icd10.code_for(item.name)
        printed = icd10.normalise_code(code[0]) if code else None
        if printed and known and known[1] >= 0.9 and printed != known[0] and printed[1:] == known[0][1:]:
            printed = known[0]  # a letter OCR read as a digit: the name settles which one
        value = printed or (known[0] if known else None)
        if value is None:
            continue
        if printed and known and known[1] >= 0.9 and printed != known[0]:
            checks.append(
                Check(
                    name="icd10_mismatch",
                    passed=False,
                    fields=[f"diagnosis{suffix}", f"diagnosis_code{suffix}"],
                    message=f"{item.name} is {known[0]} in the ICD-10 dictionary, the page prints {printed}",
                    severity="warning",
                )
            )
        fields[f"diagnosis_code{suffix}"] = Field(
            name=f"diagnosis_code{suffix}",
            value=value,
            raw_text=code[0] if code else "",
            confidence=round(conf if printed else conf * (known[1] if known else 0) * 0.8, 4),
            page=item.page,
            box=code[1] if code else item.box,
        )
    checks.append(blank_labels(pages, fields, (*DISCHARGE_KEYS, *CERTIFICATE_KEYS)))
    below = field_below_key(fields, "doctor")
    dates = loose_dates(page, below_y=below - 5 if below else page.height * 0.5)
    if dates:
        ln, s, e = dates[0]
        d = parse_date(ln.text[s:e])
        fields[date_name] = line_field(date_name, ln, page.number, d, kind=D, start=s, end=e)
    return checks


BLANK_LABELS = "blank_labels"


def blank_labels(pages: Sequence[Page], fields: dict[str, Field], keys: Sequence[Key]) -> Check:
    """Fields whose label is printed with nothing after it (left blank, or masked on a copy).

    Not an illegible photo: the label was read, so the page was; the legibility check leaves these
    out of the key fields it misses.
    """
    blank: set[str] = set()
    for page in pages:
        for ln in page.lines:
            for hit in find_hits(ln, keys, 0, 0):
                if hit.key.name not in fields and not hit.key.name.startswith(("other", "bed", "serial")):
                    blank.add(hit.key.name)
    return Check(
        name=BLANK_LABELS,
        passed=True,
        fields=sorted(blank),
        message="printed blank: " + ", ".join(sorted(blank)) if blank else "",
        severity="warning",
    )


def _section_text(pages: Sequence[Page]) -> tuple[TextLine, str, int] | None:
    """The first line of the course (诊疗经过 / 住院经过), where the operations are named."""
    for page in pages:
        for ln in page.lines:
            if find_hits(ln, _SECTION_KEYS, 0, 0):
                return ln, ln.text, page.number
    return None

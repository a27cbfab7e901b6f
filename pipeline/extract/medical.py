"""Discharge summaries (出院小结) and diagnosis certificates (诊断证明书).

Both name the patient, the institution (a heading, not a labelled field) and diagnoses with their
ICD-10 codes. A diagnosis list runs over several rows after its label (`出院诊断：1. 肺炎
（ICD-10：J18.9）`, `2. ...`), so it is parsed as text, not paired; the printed code is repaired by
shape and checked against the project's dictionary (icd10.csv), which also supplies a code the page
does not print. The signature date stands alone under the doctor's name.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence

from ocr.elements import Page, TextLine
from ocr.layout import group_rows
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
from pipeline.extract.pairing import Key, find_hits, norm
from pipeline.records import Check, Field, FieldKind

log = logging.getLogger(__name__)

D, INT = FieldKind.DATE, FieldKind.INT

_COMMON: tuple[Key, ...] = (
    Key("patient_name", ("姓名", "患者姓名")),
    Key("sex", ("性别",), pattern=r"([男女])", closed=True),
    Key("age", ("年龄",), pattern=r"(\d{1,3}岁?)"),
    Key("department", ("科室", "科别")),
    Key("hospital_number", ("门诊/住院号", "住院号", "门诊号", "病案号"), pattern=r"([A-Za-z]{0,3}\d{4,})"),
    Key("doctor", ("主治医师", "医师签名", "经治医师", "医生签名", "医师")),
    Key("bed", ("床号",)),
    Key("serial", ("编号",)),
)
DISCHARGE_KEYS: tuple[Key, ...] = (
    *_COMMON,
    Key("admission_date", ("入院日期", "入院时间"), D),
    Key("discharge_date", ("出院日期", "出院时间"), D),
    Key("days_in_hospital", ("住院天数", "实际住院天数"), INT),
)
CERTIFICATE_KEYS: tuple[Key, ...] = (
    *_COMMON,
    Key("visit_date", ("就诊日期", "门诊日期"), D),
    Key("id_number", ("身份证号", "身份证号码", "证件号码"), pattern=ID_NUMBER),
)
_SECTION_KEYS = tuple(
    Key(f"section:{s}", (s,))
    for s in ("入院诊断", "出院诊断", "入院情况", "诊疗经过", "出院情况", "出院医嘱", "医嘱建议", "诊断")
)
_ICD = re.compile(
    r"[(（]?\s*ICD\s*-?\s*1?0?\s*[:：]?\s*([A-Z0-9][0-9]{2}(?:\s*[.,，]\s*\d{1,2})?)\s*[)）]?", re.I
)
_CODE_START = re.compile(r"[(（]?\s*ICD|[(（]\s*[A-Z1|]{0,3}\s*-?\s*10\s*[:：]", re.I)
"""Where the name ends and its code begins, also when OCR garbles the bracket's ICD: (CD-10:, (1CD-10:."""
_ENTRY = re.compile(r"(?:^|\s|[;；])(\d{1,2})\s*[.、．]\s*")
_PROCEDURE = re.compile(r"行([^，。,；;]{1,20}?术)")


def extract_discharge(pages: Sequence[Page]) -> tuple[dict[str, Field], list[Check]]:
    fields = pair_pages(pages, DISCHARGE_KEYS)
    checks = _common(pages, fields, "出院诊断", "signed_date")
    course = _section_text(pages, "诊疗经过")
    if course is not None:
        procs = sorted({m.group(1) for m in _PROCEDURE.finditer(course[1])})
        if procs:
            fields["procedures"] = line_field("procedures", course[0], course[2], "；".join(procs))
    return fields, checks


def extract_certificate(pages: Sequence[Page]) -> tuple[dict[str, Field], list[Check]]:
    fields = pair_pages(pages, CERTIFICATE_KEYS)
    return fields, _common(pages, fields, "诊断", "issue_date")


def _common(pages: Sequence[Page], fields: dict[str, Field], label: str, date_name: str) -> list[Check]:
    for name in ("bed", "serial"):
        fields.pop(name, None)
    page = pages[0]
    title = hospital_title(page)
    if title is not None:
        fields["hospital"] = line_field("hospital", title[0], page.number, title[1], end=len(title[1]))
    checks: list[Check] = []
    for k, (name, code, _line, pno, conf) in enumerate(diagnoses(pages, label)):
        suffix = "" if k == 0 else f"_{k + 1}"
        fields[f"diagnosis{suffix}"] = Field(
            name=f"diagnosis{suffix}",
            value=name[0],
            raw_text=name[0],
            confidence=round(conf, 4),
            page=pno,
            box=name[1],
        )
        known = icd10.code_for(name[0])
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
                    message=f"{name[0]} is {known[0]} in the ICD-10 dictionary, the page prints {printed}",
                    severity="warning",
                )
            )
        fields[f"diagnosis_code{suffix}"] = Field(
            name=f"diagnosis_code{suffix}",
            value=value,
            raw_text=code[0] if code else "",
            confidence=round(conf if printed else conf * (known[1] if known else 0) * 0.8, 4),
            page=pno,
            box=code[1] if code else name[1],
        )
    below = field_below_key(fields, "doctor")
    dates = loose_dates(page, below_y=below - 5 if below else page.height * 0.5)
    if dates:
        ln, s, e = dates[0]
        d = parse_date(ln.text[s:e])
        fields[date_name] = line_field(date_name, ln, page.number, d, kind=D, start=s, end=e)
    return checks


def diagnoses(
    pages: Sequence[Page], label: str
) -> list[tuple[tuple[str, object], tuple[str, object] | None, TextLine, int, float]]:
    """(name, box), (printed code, box) or None, line, page, confidence for each listed diagnosis."""
    out = []
    for page in pages:
        rows = group_rows(page.lines)
        started = False
        for row in rows:
            for ln in row:
                hits = find_hits(ln, _SECTION_KEYS, 0, 0)
                text = unicodedata.normalize("NFKC", ln.text)
                offset = 0
                if hits:
                    if norm(text[hits[0].end :]).startswith("证明"):
                        continue  # the title 诊断证明书, not the diagnosis label
                    if norm(hits[0].label) == label and hits[0].start == 0:
                        started, offset = True, hits[0].end
                    elif started:
                        return out
                    else:
                        continue
                if not started:
                    continue
                for entry in _entries(ln, text, offset, page.number):
                    if entry[0][0] == "" and out and out[-1][1] is None:
                        out[-1] = (out[-1][0], entry[1], *out[-1][2:])  # the code read as its own line
                    elif entry[0][0]:
                        out.append(entry)
        if out:
            return out
    return out


def _entries(
    ln: TextLine, text: str, offset: int, page: int
) -> list[tuple[tuple[str, object], tuple[str, object] | None, TextLine, int, float]]:
    from pipeline.extract.pairing import sub_box

    body = text[offset:]
    starts = [m.end() for m in _ENTRY.finditer(body)] or [len(body) - len(body.lstrip(" :：\t"))]
    bounds = [*(m.start() for m in list(_ENTRY.finditer(body))[1:]), len(body)]
    out = []
    for s, e in zip(starts, bounds, strict=False):
        chunk = body[s:e]
        m = _ICD.search(chunk)
        cut = _CODE_START.search(chunk)
        name_part = chunk[: cut.start()] if cut else chunk[: m.start()] if m else chunk
        name = re.sub(r"[\s:：;；,，。?？]+$", "", name_part).strip(" :：")
        if not name or not re.search(r"[\u4e00-\u9fff]", name):
            if m:
                cs, ce = offset + s + m.start(1), offset + s + m.end(1)
                out.append(
                    (("", ln.box), (m.group(1).replace(" ", ""), sub_box(ln, cs, ce)), ln, page, ln.score)
                )
            continue
        ns = offset + s + (len(name_part) - len(name_part.lstrip()))
        name_box = sub_box(ln, ns, ns + len(name))
        code = None
        if m:
            cs, ce = offset + s + m.start(1), offset + s + m.end(1)
            code = (m.group(1).replace(" ", ""), sub_box(ln, cs, ce))
        out.append(((name, name_box), code, ln, page, ln.score))
    return out


def _section_text(pages: Sequence[Page], label: str) -> tuple[TextLine, str, int] | None:
    for page in pages:
        for ln in page.lines:
            hits = find_hits(ln, _SECTION_KEYS, 0, 0)
            if hits and norm(hits[0].label) == label:
                return ln, ln.text, page.number
    return None

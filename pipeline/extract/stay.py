"""The stay on an inpatient bill (住院时间): admission and discharge dates, and days in hospital.

Bills print the stay as one value in many shapes (`20201217|20201223`, `2021-03-01~2021-03-06`,
`2021-01-10-2021-01-16`, `2021年04月19日到2021年05月01日`, `2021-04-23 到 2021-04-24` over two OCR
lines, the two dates glued into sixteen digits when the bar between them is lost), or as two
labelled dates (入院日期 / 出院时间, the latter sometimes in the 备注 line), and the days as
`住院天数：6.0天`. Days are worked out from the dates when they are not printed. Medical records
write the stay in prose instead (`read_stay_in_prose`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence

from ocr.elements import Page, TextLine
from ocr.layout import group_rows
from pipeline.extract.base import line_field
from pipeline.extract.checks import parse_date
from pipeline.extract.pairing import Hit, Key, find_hits
from pipeline.records import Field, FieldKind

D = FieldKind.DATE

STAY_KEYS: tuple[Key, ...] = (
    Key("stay", ("住院时间", "住院日期", "住院期间", "住院起止日期"), anywhere=True),
    Key("admission_date", ("入院日期", "入院时间"), D, anywhere=True),
    Key("discharge_date", ("出院日期", "出院时间"), D, anywhere=True),
    Key("days_in_hospital", ("住院天数", "实际住院天数"), FieldKind.INT, anywhere=True),
)
_DATE = re.compile(
    r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?|(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"
)
_GLUED = re.compile(r"(?<!\d)(\d{8})(\d{8})(?!\d)")
"""Two 8-digit dates with the bar between them lost: `2020121720201223`."""
_DAYS = re.compile(r"^\D{0,3}?(\d{1,3})(?:\.0+)?\s*天?")
MAX_STAY_DAYS = 3650


def dates_in(text: str) -> list[tuple[dt.date, int, int]]:
    """Every date in `text` (NFKC) with the characters it occupies, in order."""
    s = unicodedata.normalize("NFKC", text)
    out: list[tuple[dt.date, int, int]] = []
    glued = list(_GLUED.finditer(s))
    for m in glued:
        for g in (1, 2):
            day = _ymd(m.group(g)[:4], m.group(g)[4:6], m.group(g)[6:])
            if day is not None:
                out.append((day, m.start(g), m.end(g)))
    for m in _DATE.finditer(s):
        if any(g.start() <= m.start() < g.end() for g in glued):
            continue
        parts = m.group(1, 2, 3) if m.group(1) else m.group(4, 5, 6)
        day = _ymd(*parts)
        if day is not None:
            out.append((day, m.start(), m.end()))
    return sorted(out, key=lambda t: t[1])


def _ymd(y: str, m: str, d: str) -> dt.date | None:
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError:
        return None


def read_stay(pages: Sequence[Page], fields: dict[str, Field], other_keys: Sequence[Key]) -> None:
    """admission_date, discharge_date and days_in_hospital into `fields` (those not already there).

    `other_keys` are the document's other labels: a value ends where one of them begins."""
    keys = (*STAY_KEYS, *other_keys)
    found: dict[str, Field] = {}
    for page in pages:
        for row in group_rows(page.lines):
            for c, ln in enumerate(row):
                for hit in find_hits(ln, keys, 0, c):
                    name = hit.key.name
                    if name == "stay" and "admission_date" not in found:
                        _stay(page.number, row, c, hit, keys, found)
                    elif name in ("admission_date", "discharge_date") and name not in found:
                        _one_date(name, page.number, row, c, hit, keys, found)
                    elif name == "days_in_hospital" and name not in found:
                        m = _DAYS.match(hit.value_text)
                        if m:
                            at = hit.end + m.start(1)
                            found[name] = line_field(
                                name,
                                ln,
                                page.number,
                                int(m.group(1)),
                                kind=FieldKind.INT,
                                start=at,
                                end=at + len(m.group(1)),
                            )
    adm, dis = found.get("admission_date"), found.get("discharge_date")
    if adm is not None and dis is not None:
        span = (dis.value - adm.value).days  # type: ignore[operator]
        if not 0 <= span <= MAX_STAY_DAYS:  # not a stay: two dates that happen to share a line
            found.pop("admission_date")
            found.pop("discharge_date")
        elif "days_in_hospital" not in found:
            found["days_in_hospital"] = Field(
                name="days_in_hospital",
                kind=FieldKind.INT,
                value=span,
                raw_text="= 出院 − 入院",
                confidence=round(min(adm.confidence, dis.confidence) * 0.95, 4),
                page=dis.page,
            )
    for name, f in found.items():
        fields.setdefault(name, f)


def _following(row: list[TextLine], c: int, keys: Sequence[Key]) -> list[TextLine]:
    """The lines after column `c` of a row, up to the next one that opens with a label."""
    out = []
    for ln in row[c + 1 :]:
        hits = find_hits(ln, keys, 0, 0)
        if hits and hits[0].start == 0:
            break
        out.append(ln)
    return out


def _stay(
    page: int, row: list[TextLine], c: int, hit: Hit, keys: Sequence[Key], found: dict[str, Field]
) -> None:
    """Both dates of a 住院时间 value: in the label's line, or over the lines after it in its row."""
    dates = [(d, hit.line, hit.end + s, hit.end + e) for d, s, e in dates_in(hit.value_text)]
    if len(dates) < 2:
        for nxt in _following(row, c, keys):
            dates += [(d, nxt, s, e) for d, s, e in dates_in(nxt.text)]
            if len(dates) >= 2:
                break
    if not dates:
        return
    for name, (day, ln, s, e) in zip(("admission_date", "discharge_date"), dates, strict=False):
        found.setdefault(name, line_field(name, ln, page, day, kind=D, start=s, end=e))


def _one_date(
    name: str, page: int, row: list[TextLine], c: int, hit: Hit, keys: Sequence[Key], found: dict[str, Field]
) -> None:
    """A labelled admission or discharge date: after its label, or opening the next line of the row."""
    dates = dates_in(hit.value_text)
    if dates:
        day, s, e = dates[0]
        found[name] = line_field(name, hit.line, page, day, kind=D, start=hit.end + s, end=hit.end + e)
        return
    if hit.value_text.strip(" :："):
        return
    for nxt in _following(row, c, keys)[:1]:
        dates = dates_in(nxt.text)
        if dates and dates[0][1] <= 2:
            day, s, e = dates[0]
            found[name] = line_field(name, nxt, page, day, kind=D, start=s, end=e)


# --- the stay in a medical record's prose ---------------------------------------------------------

_PROSE_DAYS = re.compile(r"(?:共|实际)?住院\s*(\d{1,3})\s*天")
_PROSE_DATE = r"(\d{4}\s*[-年./]\s*\d{1,2}\s*[-月./]\s*\d{1,2}\s*日?)"
_PROSE_SPAN = re.compile(
    r"住院(?:时间|日期|期间)?\s*[:：]?\s*(?:自|从)?\s*"
    + _PROSE_DATE
    + r"\s*(?:至|到|~|—|－|-)\s*"
    + _PROSE_DATE
)


def read_stay_in_prose(pages: Sequence[Page], fields: dict[str, Field]) -> None:
    """Medical records write the stay in sentences when no label-value pair says it: `共住院 6 天`
    or `住院12天` in a sentence or beside the dates (诊断证明书), and `住院时间：2019-12-03 至
    2019-12-09` for both dates at once. Only what the page prints: days are never computed from the
    dates here (a record that disagrees with itself is for the checks to report). Fills
    `days_in_hospital`, `admission_date` and `discharge_date` where not paired."""
    for page in pages:
        for ln in sorted(page.lines, key=lambda x: (x.bbox[1], x.bbox[0])):
            text = unicodedata.normalize("NFKC", ln.text)
            if "days_in_hospital" not in fields:
                m = _PROSE_DAYS.search(text)
                if m:
                    days = int(m.group(1))
                    fields["days_in_hospital"] = line_field(
                        "days_in_hospital",
                        ln,
                        page.number,
                        days,
                        kind=FieldKind.INT,
                        start=m.start(1),
                        end=m.end(1),
                    )
            if "admission_date" not in fields and "discharge_date" not in fields:
                m = _PROSE_SPAN.search(text)
                if m and parse_date(m.group(1)) and parse_date(m.group(2)):
                    for name, k in (("admission_date", 1), ("discharge_date", 2)):
                        fields[name] = line_field(
                            name, ln, page.number, parse_date(m.group(k)), kind=FieldKind.DATE,
                            start=m.start(k), end=m.end(k),
                        )  # fmt: skip

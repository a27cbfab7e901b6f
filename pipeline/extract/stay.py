"""The stay in hospital as medical records write it when no label-value pair says it.

`共住院 6 天` or `住院12天` in a sentence or beside the dates (诊断证明书), and `住院时间：2019-12-03
至 2019-12-09` for both dates at once. Only what the page prints: days are never computed from the
dates (a record that disagrees with itself is for the checks to report).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from ocr.elements import Page
from pipeline.extract.base import line_field
from pipeline.extract.checks import parse_date
from pipeline.records import Field, FieldKind

_DAYS = re.compile(r"(?:共|实际)?住院\s*(\d{1,3})\s*天")
_DATE = r"(\d{4}\s*[-年./]\s*\d{1,2}\s*[-月./]\s*\d{1,2}\s*日?)"
_SPAN = re.compile(
    r"住院(?:时间|日期|期间)?\s*[:：]?\s*(?:自|从)?\s*" + _DATE + r"\s*(?:至|到|~|—|－|-)\s*" + _DATE
)


def read_stay(pages: Sequence[Page], fields: dict[str, Field]) -> None:
    """Fill `days_in_hospital`, `admission_date` and `discharge_date` from prose, where not paired."""
    for page in pages:
        for ln in sorted(page.lines, key=lambda x: (x.bbox[1], x.bbox[0])):
            text = unicodedata.normalize("NFKC", ln.text)
            if "days_in_hospital" not in fields:
                m = _DAYS.search(text)
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
                m = _SPAN.search(text)
                if m and parse_date(m.group(1)) and parse_date(m.group(2)):
                    for name, k in (("admission_date", 1), ("discharge_date", 2)):
                        fields[name] = line_field(
                            name, ln, page.number, parse_date(m.group(k)), kind=FieldKind.DATE,
                            start=m.start(k), end=m.end(k),
                        )  # fmt: skip

"""Helpers every per-type extractor shares: pairing across pages, titles, loose dates, fields from lines."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal

from ocr.elements import Page, TextLine
from ocr.layout import group_rows
from pipeline.extract.checks import AMOUNT_CHARS, amount_words, parse_amount_words, parse_date
from pipeline.extract.pairing import Key, norm, pair_page, sub_box
from pipeline.records import Field, FieldKind, money

log = logging.getLogger(__name__)

MONEY_2DP = r"(-?\d[\d,]*\.\d{2})(?!\d)"
"""An amount printed with two decimals, as every Chinese medical bill prints them."""
WORDS_AS_READ = r"([\u4e00-\u9fff]{1,22}[元圆角分整])"
"""An amount in words as OCR read it, misread characters and all, up to its last 元/角/分/整: the
reading is kept whole (not cut at the first misread character) so the figures can settle it."""
ID_NUMBER = r"(\d{17}[\dXx])"
HOSPITAL_SUFFIX = re.compile(r"(医院|卫生院|卫生服务中心|医疗中心|门诊部|诊所|保健院|中心)$")
_DATE_START = re.compile(r"^\s*(\d{4}\s*[年\-/.]\s*\d{1,2}\s*[月\-/.]\s*\d{1,2}\s*日?)")


def pair_pages(pages: Sequence[Page], keys: Sequence[Key], sections: Sequence[str] = ()) -> dict[str, Field]:
    """Fields from the first page that holds each key."""
    out: dict[str, Field] = {}
    for page in pages:
        for pair in pair_page(page, keys, sections=sections):
            out.setdefault(pair.key.name, pair.to_field())
    return out


def line_field(
    name: str,
    line: TextLine,
    page: int,
    value: object,
    *,
    kind: FieldKind = FieldKind.TEXT,
    start: int = 0,
    end: int | None = None,
    confidence: float | None = None,
) -> Field:
    """A field read from characters [start, end) of one line, with the sub-box they occupy."""
    end = len(line.text) if end is None else end
    return Field(
        name=name,
        kind=kind,
        value=value,  # type: ignore[arg-type]
        raw_text=line.text[start:end].strip(),
        confidence=round(line.score if confidence is None else confidence, 4),
        page=page,
        box=sub_box(line, start, end),
    )


def hospital_title(page: Page, top_share: float = 0.2) -> tuple[TextLine, str] | None:
    """The institution printed as a heading at the top of the page (出院小结, 诊断证明书 carry one)."""
    for row in group_rows(page.lines):
        for ln in row:
            if ln.bbox[1] > page.height * top_share:
                return None
            text = unicodedata.normalize("NFKC", ln.text).strip()
            m = re.match(r"^(.{2,30}?(?:医院|卫生院|卫生服务中心|医疗中心|门诊部|诊所|保健院))", text)
            if m:
                return ln, m.group(1)
    return None


def loose_dates(page: Page, below_y: float = 0.0) -> list[tuple[TextLine, int, int]]:
    """Lines that open with a date and no label (signature dates), below `below_y`: (line, start, end)."""
    out = []
    for ln in page.lines:
        if ln.bbox[1] < below_y:
            continue
        m = _DATE_START.match(unicodedata.normalize("NFKC", ln.text))
        if m and parse_date(m.group(1)) is not None:
            out.append((ln, m.start(1), m.end(1)))
    return sorted(out, key=lambda t: t[0].bbox[1])


def field_below_key(fields: dict[str, Field], name: str) -> float:
    f = fields.get(name)
    if f is None or f.box is None:
        return 0.0
    return min(p[1] for p in f.box)


MAX_WORD_MISREADS = 3


def settle_words(fields: dict[str, Field], confirmations: Iterable[Decimal | None]) -> None:
    """Read an amount in words that OCR garbled (捌 as 朋) from the figures, when that is safe.

    Only when the figures are confirmed without the words (`confirmations`: other readings of the
    same amount, such as the fee lines' sum or the payment split), the reading has the length of the
    figures' words, and every character where the two differ is one no amount is written with: a
    different amount printed in words (an altered bill) differs in capital numerals and is left for
    the words_vs_figures check to report.
    """
    words, total = fields.get("total_in_words"), fields.get("total_amount")
    if words is None or total is None or total.value is None:
        return
    if parse_amount_words(str(words.value)) is not None:
        return
    t = money(total.value)
    if t not in set(confirmations):
        return
    want, got = amount_words(t), norm(str(words.value))
    if got[-1:] in ("整", "正") and not want.endswith(("整", "正")):
        want += got[-1]  # many bills close every amount with 整, 分 or not: the print keeps it
    wrong = [g for g, w in zip(got, want, strict=False) if g != w]
    if len(got) != len(want) or len(wrong) > MAX_WORD_MISREADS or any(g in AMOUNT_CHARS for g in wrong):
        return
    log.debug("amount in words %r read as %r from the confirmed figures", got, want)
    confidence = round(min(words.confidence, total.confidence) * 0.9, 4)
    fields["total_in_words"] = words.model_copy(update={"value": want, "confidence": confidence})

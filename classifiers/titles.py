"""The type a document's printed title names: 医疗住院收费票据 is an inpatient bill, whoever drew it.

The classifier reads a page's whole text and shape; between two close types (an inpatient and an
outpatient bill of a layout it never saw, a discharge certificate and a discharge record) it may be
unsure or wrong while the title, set by regulation or by the hospital's forms, says which it is.
`title_type` finds a title near the top of the first page; `settle_with_title` lets it pick between
the model's two most probable types, and only where the model is unsure, so a misread title or a
form quoted inside another document never overrides a model that is sure of something else.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from pipeline.records import DocType, Page

TITLE_BAND = 0.3
"""A title sits in the top part of the first page (this share of its height)."""

TITLES: tuple[tuple[re.Pattern[str], DocType], ...] = (
    (re.compile(r"诊断证明"), DocType.DIAGNOSIS_CERTIFICATE),
    (re.compile(r"出院(?:记录|小结)"), DocType.DISCHARGE_SUMMARY),
    (re.compile(r"费用(?:清单|明细)|明细清单"), DocType.EXPENSE_LIST),
    (re.compile(r"理赔申请|索赔申请"), DocType.CLAIM_FORM),
    # the bills' regulated titles; OCR drops or misreads a character of them (住收费票据, 狂院收费票据):
    # the character before 收费票据 still says which (院 of 住院, 诊 of 门诊)
    (re.compile(r"(?:住院|住|院)\s*(?:收费)?\s*(?:票据|收据)"), DocType.INPATIENT_INVOICE),
    (re.compile(r"(?:门诊|急诊|诊)\s*(?:收费)?\s*(?:票据|收据)"), DocType.OUTPATIENT_INVOICE),
)
"""Title words and the type they name, the more specific first."""

SIGNATURES: tuple[tuple[re.Pattern[str], DocType], ...] = (
    (re.compile(r"公民身份(?:证)?号码|签发机关"), DocType.ID_CARD),
)
"""Words a kind of document prints wherever it puts them, with no title: every resident ID card's
公民身份号码 (front) or 签发机关 (back)."""


def title_type(pages: Sequence[Page]) -> DocType | None:
    """The type the first title-like line near the top of the first page names (or, on a one-page
    document, a kind's signature words anywhere), or None."""
    if not pages:
        return None
    page = pages[0]
    if len(pages) == 1:
        text = re.sub(r"\s", "", unicodedata.normalize("NFKC", page.text))
        for pattern, doc_type in SIGNATURES:
            if pattern.search(text):
                return doc_type
    for ln in sorted(page.lines, key=lambda ln: ln.bbox[1]):
        if ln.bbox[1] > TITLE_BAND * page.height:
            break
        text = re.sub(r"\s", "", unicodedata.normalize("NFKC", ln.text))
        head, sep, rest = text.partition(":")
        if sep and not head.endswith("名称"):  # a label and its value (票据代码:), not a title
            continue
        for pattern, doc_type in TITLES:
            if pattern.search(rest if sep else text):
                return doc_type
    return None


def settle_with_title(
    classes: Sequence[str], proba: Sequence[float], pages: Sequence[Page], sure: float | None = None
) -> tuple[DocType, float]:
    """The model's answer, or the title's where the model is unsure (below `sure`, the product's
    doc-type threshold) and the title names one of its two most probable types: then that type, as
    sure as the model is that the document is one of the two. A model sure of one type keeps it."""
    if sure is None:
        from pipeline.settings import get_settings

        sure = get_settings().doc_type_min_confidence
    order = sorted(range(len(proba)), key=lambda i: -proba[i])
    best = order[0]
    titled = title_type(pages) if proba[best] < sure and len(order) > 1 else None
    if titled is not None and titled.value in (classes[order[0]], classes[order[1]]):
        return titled, float(proba[order[0]] + proba[order[1]])
    return DocType(classes[best]), float(proba[best])

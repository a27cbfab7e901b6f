"""The QR code of a national fiscal e-bill (财政电子票据): its payload as fields, checked against the print.

The code carries the five elements the fiscal verification service (财政电子票据查验) asks for:
票据代码 (invoice_code), 票据号码 (invoice_number), 校验码 (check_code), 开票日期 (issue_date) and
金额 (total_amount). Decoded, they are exact (the code has its own error correction), so they are
high-confidence values: a printed value OCR misread by a character is put back from the code, a
value OCR missed is taken from it, and a printed value that reads surely yet differs is a failed
check `qr_mismatch` (a tamper signal: the print was edited, the code cannot be).

Payload layout: no authoritative public specification was found (vendors' interfaces hand the
code over as a PNG; provinces differ). Two forms are read:
- comma-separated, modelled on the VAT invoice's code: `01,<kind>,<票据代码>,<票据号码>,<金额>,
  <开票日期 YYYYMMDD>,<校验码>[,...]`, the layout the project's generator prints (`payload`);
- a verification URL whose query names the elements (billBatchCode / pjdm / billcode, billNo /
  pjhm, random / jym / checkCode, amount / pjje / je / money, billDate / kprq / date).
Any other payload is kept on the page and compared with nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlsplit

from ocr.elements import Page, TextLine
from pipeline.extract.checks import parse_amount_words, parse_date
from pipeline.extract.pairing import edit_distance
from pipeline.records import Check, Field, FieldKind, LineItem, money

log = logging.getLogger(__name__)

VERSION, KIND = "01", "06"
"""First two elements of the comma-separated payload: layout version, 06 = medical bill (医疗收费票据)."""
QR_FIELDS: dict[str, FieldKind] = {
    "invoice_code": FieldKind.TEXT,
    "invoice_number": FieldKind.TEXT,
    "check_code": FieldKind.TEXT,
    "total_amount": FieldKind.MONEY,
    "issue_date": FieldKind.DATE,
}
_QUERY_KEYS = {
    "invoice_code": ("billbatchcode", "pjdm", "billcode", "ebillcode", "code"),
    "invoice_number": ("billno", "pjhm", "ebillno", "number", "no"),
    "check_code": ("random", "jym", "checkcode", "check"),
    "total_amount": ("amount", "pjje", "je", "money", "totalamt"),
    "issue_date": ("billdate", "kprq", "date", "createtime", "issuedate"),
}
QR_CONFIDENCE = 0.99
"""Confidence of a value taken from a decoded code (or confirmed by it)."""
SURE_PRINT = 0.97
"""A printed value read at least this surely is not an OCR slip: when it differs from the code by
one character, the print disagrees with the code."""


def payload(code: str, number: str, amount: Decimal, date: dt.date, check: str) -> str:
    """The comma-separated payload of a bill's code (the layout `parse_payload` reads first)."""
    return ",".join((VERSION, KIND, code, number, f"{money(amount):.2f}", f"{date:%Y%m%d}", check))


def parse_payload(text: str) -> dict[str, object] | None:
    """The elements a payload carries, typed; None when it is not a fiscal e-bill's payload."""
    s = unicodedata.normalize("NFKC", text).strip()
    raw: dict[str, str] = {}
    parts = [p.strip() for p in s.split(",")]
    if len(parts) >= 7 and parts[0] == VERSION and re.fullmatch(r"\d{6,12}", parts[2] or ""):
        raw = dict(
            zip(
                ("invoice_code", "invoice_number", "total_amount", "issue_date", "check_code"),
                parts[2:7],
                strict=True,
            )
        )
    elif "?" in s or "=" in s:
        query = {k.lower(): v for k, v in parse_qsl(urlsplit(s).query or s, keep_blank_values=False)}
        for name, keys in _QUERY_KEYS.items():
            value = next((query[k] for k in keys if query.get(k)), None)
            if value is not None:
                raw[name] = value.strip()
    out: dict[str, object] = {}
    for name, value in raw.items():
        typed = _typed(name, value)
        if typed is not None:
            out[name] = typed
    return out if {"invoice_code", "invoice_number"} <= out.keys() or len(out) >= 3 else None


def _typed(name: str, value: str) -> object:
    if not value:
        return None
    match QR_FIELDS[name]:
        case FieldKind.MONEY:
            try:
                return money(Decimal(value.replace(",", "")))
            except (InvalidOperation, ValueError):
                return None
        case FieldKind.DATE:
            return parse_date(value)
        case _:
            return value if re.fullmatch(r"[0-9A-Za-z]{2,24}", value) else None


def page_codes(pages: Sequence[Page]) -> list[tuple[int, TextLine, dict[str, object]]]:
    """Every decoded code on the pages whose payload is a fiscal e-bill's: (page, code, elements)."""
    out = []
    for page in pages:
        for code in page.codes:
            parsed = parse_payload(code.text)
            if parsed is not None:
                out.append((page.number, code, parsed))
    return out


def settle_with_qr(
    pages: Sequence[Page], fields: dict[str, Field], items: Sequence[LineItem]
) -> Check | None:
    """Compare the printed elements with the code's; fill, confirm or correct them; None without a code.

    A printed value differing from the code's is taken for an OCR slip (and put back from the code)
    when it is one character away and read unsurely; otherwise, and for an amount confirmed by the
    bill's own words or fee lines, it is a disagreement: the check fails, naming the fields.
    """
    codes = page_codes(pages)
    if not codes:
        return None
    number, code, elements = codes[0]
    disagree: list[str] = []
    for name, value in elements.items():
        printed = fields.get(name)
        if printed is None or printed.value is None:
            fields[name] = _from_code(name, value, code, number)
            continue
        if _same(name, printed.value, value):
            fields[name] = printed.model_copy(update={"confidence": max(printed.confidence, QR_CONFIDENCE)})
        elif _misread(name, printed, value, fields, items):
            log.debug("%s printed %r read as a slip; the QR code says %r", name, printed.value, value)
            fields[name] = printed.model_copy(update={"value": value, "confidence": QR_CONFIDENCE})
        else:
            disagree.append(f"{name} printed {printed.value} but the QR code says {value}")
    return Check(
        name="qr_mismatch",
        passed=not disagree,
        fields=sorted(n for n in elements if any(d.startswith(n + " ") for d in disagree)),
        message="; ".join(disagree),
    )


def _from_code(name: str, value: object, code: TextLine, page: int) -> Field:
    return Field(
        name=name,
        kind=QR_FIELDS[name],
        value=value,  # type: ignore[arg-type]
        raw_text=f"QR: {value}",
        confidence=QR_CONFIDENCE,
        page=page,
        box=code.box,
    )


def _same(name: str, printed: object, coded: object) -> bool:
    if QR_FIELDS[name] is FieldKind.TEXT:
        return _text(printed).upper() == _text(coded).upper()
    return printed == coded


def _text(v: object) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(v)))


def _misread(
    name: str, printed: Field, coded: object, fields: dict[str, Field], items: Sequence[LineItem]
) -> bool:
    """Whether a printed value that differs from the code's is OCR's slip rather than the print's."""
    if name == "total_amount":
        if _confirmed(printed.value, fields, items):
            return False  # the bill's words or lines say the printed amount: the print says it
        if _confirmed(coded, fields, items):
            return True
    a, b = _digits_or_text(printed.value), _digits_or_text(coded)
    return edit_distance(a, b) <= 1 and printed.confidence < SURE_PRINT


def _digits_or_text(v: object) -> str:
    if isinstance(v, dt.date):
        return v.strftime("%Y%m%d")
    if isinstance(v, Decimal):
        return f"{v:.2f}".replace(".", "")
    return _text(v).upper()


def _confirmed(amount: object, fields: dict[str, Field], items: Sequence[LineItem]) -> bool:
    """The amount in words (大写) or the fee lines' sum say this amount too."""
    if not isinstance(amount, Decimal):
        return False
    words = fields.get("total_in_words")
    said = parse_amount_words(str(words.value)) if words is not None and words.value else None
    lines = money(sum((i.amount for i in items), Decimal(0))) if items else None
    return money(amount) in (said, lines)

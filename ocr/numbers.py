"""Numbers that carry their own check: resident ID numbers (GB 11643) and bank cards (Luhn).

They live in the OCR stage because a reading that fails its own check digit is known to be wrong
before any field is paired, and can be read again from the pixels (`reader._reread_numbers`); the
extraction checks import the same functions.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9Xx](?: ?[0-9Xx])+(?![0-9A-Za-z])")
"""A run of digits (an ID's final X included) in which single spaces may separate groups, not part of
a longer code (a 统一社会信用代码 such as 91440101664041243T is letters and digits: not an ID)."""
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ\u3000", "0123456789Xx ")
"""Full-width digits as ASCII, one character for one, so a run's offsets stay those of the text."""


def normalise_id(number: str) -> str:
    return unicodedata.normalize("NFKC", number).strip().replace(" ", "").upper()


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character (0-9 or X) for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_birth_date(number: str) -> dt.date | None:
    n = normalise_id(number)
    if len(n) != 18 or not n[:17].isdigit():
        return None
    try:
        return dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return None


def id_number_valid(number: str) -> bool:
    n = normalise_id(number)
    return bool(_ID_RE.match(n)) and id_check_digit(n[:17]) == n[17] and id_birth_date(n) is not None


def luhn_valid(number: str) -> bool:
    digits = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", number))
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def long_numbers(text: str, shortest: int = 15, longest: int = 19) -> list[tuple[int, int, str]]:
    """(start, end, digits) of each run of `shortest` to `longest` digits in `text`."""
    out = []
    for m in _RUN.finditer(text.translate(_FULL_WIDTH)):
        digits = m.group().replace(" ", "").upper()
        if shortest <= len(digits) <= longest:
            out.append((m.start(), m.end(), digits))
    return out


def failed_numbers(text: str) -> list[tuple[int, int, str]]:
    """Runs that look like a resident ID number but fail its check, and are not a bank card either:
    misread, as a rule. An ID is 18 characters; 16-17 when equal digits were merged away, 19 when one
    was read twice, and then dropping one character gives a valid number (a bank account on a VAT
    invoice almost never does). 15-digit first-generation IDs have no check digit: not suspects."""
    return [
        (s, e, d)
        for s, e, d in long_numbers(text, 16, 19)
        if not id_number_valid(d)
        and not (d.isdigit() and luhn_valid(d))
        and (len(d) < 19 or any(id_number_valid(d[:i] + d[i + 1 :]) for i in range(19)))
    ]

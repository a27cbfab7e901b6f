"""Domain-aware correction of uncertain characters, only where it is safe.

A character is changed only when (a) the model itself was unsure of it, (b) the replacement is among
the model's own top candidates for that position, and (c) the change completes a known word (a
lexicon of place, bank-branch (支行) and hospital (医院) names and invoice vocabulary) or a field's
expected pattern (dates, amounts). The model's reading and its score always stay beside the
corrected text (`TextLine.raw_text`), so a correction can be seen and undone.

Dot-matrix print (针式打印) is where this pays: 大厦 read as 大展, 民治 as 民洽, with the right
character a close second in the model's own ranking.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

from ocr.engine import Reading
from ocr.numbers import id_number_valid

log = logging.getLogger(__name__)

LEXICON_FILE = Path(__file__).with_name("lexicon.txt")
UNSURE = 0.9
"""A character read with at least this probability is never changed."""
MIN_ALT = 0.01
"""The replacement must have at least this probability at that position in the model's output."""

_DIGITS = set("0123456789")


@lru_cache(maxsize=1)
def lexicon() -> tuple[str, ...]:
    """Known words, longest first (so 中国工商银行 is tried before 银行)."""
    words = set()
    for raw in LEXICON_FILE.read_text(encoding="utf-8").splitlines():
        w = raw.split("#", 1)[0].strip()
        if len(w) >= 2:
            words.add(w)
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


def _alt_prob(alts: list[tuple[str, float]], ch: str) -> float:
    return next((p for c, p in alts if c == ch), 0.0)


def _char_prob(alts: list[tuple[str, float]], ch: str) -> float:
    return alts[0][1] if alts and alts[0][0] == ch else _alt_prob(alts, ch)


def correct_words(reading: Reading, words: tuple[str, ...] | None = None) -> str:
    """Complete lexicon words whose missing characters the model ranked just below its choice."""
    text, alts = list(reading.text), reading.alternatives
    if not alts or len(alts) != len(text):
        return reading.text
    words = lexicon() if words is None else words
    locked = [False] * len(text)
    for w in words:
        n = len(w)
        if n > len(text):
            continue
        max_miss = 1 if n <= 5 else 2
        for i in range(len(text) - n + 1):
            if any(locked[i : i + n]):
                continue
            miss = [j for j in range(n) if text[i + j] != w[j]]
            if not miss:
                for j in range(n):
                    locked[i + j] = True
                continue
            if len(miss) > max_miss or n - len(miss) < 1:
                continue
            ok = all(
                _char_prob(alts[i + j], text[i + j]) < UNSURE and _alt_prob(alts[i + j], w[j]) >= MIN_ALT
                for j in miss
            )
            if ok:
                for j in range(n):
                    text[i + j] = w[j]
                    locked[i + j] = True
    return "".join(text)


_DATE = re.compile(r"(\S{4})年(\S{1,2})月(\S{1,2})日")
_AMOUNT = re.compile(r"[¥￥]\S+")
_ID_SHAPED = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{17}[0-9Xx](?![0-9A-Za-z])")
"""Eighteen letters and digits: a resident ID number when at most two of its first 17 are letters."""


def correct_patterns(text: str, alts: list[list[tuple[str, float]]]) -> str:
    """Digits where a date (YYYY年MM月DD日), an amount (¥1,234.56) or an ID number must have digits."""
    if not alts or len(alts) != len(text):
        return text
    chars = list(text)

    def digitise(start: int, end: int) -> None:
        for k in range(start, end):
            c = chars[k]
            if c in _DIGITS or c in ".,":
                continue
            best = max(((p, d) for d, p in alts[k] if d in _DIGITS), default=(0.0, ""))
            if best[0] >= MIN_ALT and _char_prob(alts[k], c) < UNSURE:
                chars[k] = best[1]

    for m in _DATE.finditer(text):
        for g in (1, 2, 3):
            digitise(m.start(g), m.end(g))
    for m in _AMOUNT.finditer(text):
        digitise(m.start() + 1, m.end())
    for m in _ID_SHAPED.finditer("".join(chars)):
        # Z for 2, O for 0 in an ID number: taken only when the digits make a number that passes GB
        # 11643 (check digit and birth date), so a letters-and-digits code stays as it is
        odd = [k for k in range(m.start(), m.start() + 17) if chars[k] not in _DIGITS]
        if not 0 < len(odd) <= 2:
            continue
        before = chars[m.start() : m.end()]
        digitise(m.start(), m.start() + 17)
        if not id_number_valid("".join(chars[m.start() : m.end()])):
            chars[m.start() : m.end()] = before
    return "".join(chars)


@lru_cache(maxsize=32)
def _with_extra(extra: tuple[str, ...]) -> tuple[str, ...]:
    words = set(lexicon()) | {w for w in extra if len(w) >= 2}
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


def correct_line(reading: Reading, extra_words: tuple[str, ...] = ()) -> str:
    """The corrected text of one recognised line (unchanged when nothing is safe to change).

    `extra_words` are known words the caller adds for this document: e.g. the policyholder's name,
    address and employer, or the insurer's list of contracted hospitals.
    """
    if not reading.alternatives or all(a and a[0][1] >= UNSURE for a in reading.alternatives):
        return reading.text
    fixed = correct_words(reading, _with_extra(extra_words) if extra_words else None)
    fixed = correct_patterns(fixed, reading.alternatives)
    if fixed != reading.text:
        log.debug("corrected %r -> %r", reading.text, fixed)
    return fixed

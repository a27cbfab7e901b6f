"""Generic key-value pairing over rows of OCR lines.

A document type is described by a key dictionary: for each field, the labels printed beside it
(`票据代码`, `交款人`), the kind of value, and where the value may sit. Pairing then works on any
layout: it finds labels in the lines, garbled or not (`医保统筹基全支付`), glued to their value in one
line (`姓名:张三`, `住院号ZY123`) or standing alone, and takes the value from the same line, the
lines to its right in the same row, or the rows below it. Every value keeps the box of the text it
came from (a sub-box estimated by character share when key and value share a line), so an adjuster
can be shown where it was read.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ocr.elements import Box, Page, TextLine
from ocr.layout import group_rows
from pipeline.extract.checks import parse_date, parse_figure
from pipeline.records import Field, FieldKind

log = logging.getLogger(__name__)

_PUNCT = set(" \t:：;；,，、.。·•()（）[]【】<>《》\"'“”‘’-_—|/\\*")
_STRIP = " \t:：;；,，、。·•|*"
_CLOSERS = set(")）]】:：")
_TRIM = re.compile(r"^[\s:：;；,，、。·•|*]+|[\s:：;；,，、。·•|*]+$")


@dataclass(frozen=True)
class Key:
    """One field of a key dictionary: the printed labels and where its value is found.

    `pattern` (a regex) says what a value looks like; a candidate that does not contain it is not
    the value, and the search goes on to the next candidate. `below` lets the value sit in the
    rows under the label (up to `max_below` rows), as in table headers. `section` scopes the label
    to the part of the page under a section heading (`被保险人信息`), for labels printed twice.
    """

    name: str
    labels: tuple[str, ...]
    kind: FieldKind = FieldKind.TEXT
    pattern: str | None = None
    right: bool = True
    below: bool = False
    max_below: int = 1
    section: str | None = None
    anywhere: bool = False
    """Also find the label in the middle of a line (exact matches only: `性别女民族汉`); otherwise it
    must open the line."""
    closed: bool = False
    """The pattern admits only a handful of values (男/女, the 56 民族), so a two-character label may
    have one character misread (`性测`, `国族`): a wrong label hardly ever has such a value beside it."""


@dataclass
class Hit:
    """A label found in a line: which key, which characters of the line, how garbled."""

    key: Key
    line: TextLine
    row: int
    col: int
    start: int
    end: int
    cost: int
    label: str
    value_text: str = ""


@dataclass
class Pair:
    """A key paired with its value: the texts, where each was read, and how sure we are."""

    key: Key
    key_text: str
    key_box: Box
    value_text: str
    value_box: Box
    value: object
    confidence: float
    page: int
    line: TextLine
    how: str = field(default="glued")

    def to_field(self) -> Field:
        return Field(
            name=self.key.name,
            kind=self.key.kind,
            value=self.value,  # type: ignore[arg-type]
            raw_text=self.value_text,
            confidence=round(self.confidence, 4),
            page=self.page,
            box=self.value_box,
        )


# --- text helpers ----------------------------------------------------------------------------------


def norm(text: str) -> str:
    """NFKC, no spaces: the form texts are compared in (全角 and 半角 alike)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


_EDGE_L = re.compile(r"^[^\w\u4e00-\u9fff¥￥(（-]+|^[(（][)）]?(?=.)|^[)）]+")
_LABEL_TAIL = re.compile(r"^[^()\d]{0,2}\)[:;,.]*(?=\S)")
_EDGE_R = re.compile(r"[^\w\u4e00-\u9fff)）%]+$")
_LABEL_NOTE = re.compile(r"\([^()\d]{0,2}\)[:;,.]*")
"""A label's own bracket standing alone after it: 收款单位(章), 金额(元), with 章 misread as 意."""


def clean_value(text: str) -> str:
    """A value as printed, without the colons, brackets, bullets and specks OCR adds around it."""
    s = _TRIM.sub("", unicodedata.normalize("NFKC", text)).strip()
    if _LABEL_NOTE.fullmatch(s):
        return ""
    for _ in range(2):
        s = _EDGE_R.sub("", _EDGE_L.sub("", s)).strip()
    if s.count("(") < s.count(")"):
        # the tail of a label's bracket: `(章):` read as `皇):` or `康):` leaves `皇):医院名`
        s = _LABEL_TAIL.sub("", s, count=1).strip()
    return s


def _squeeze(text: str) -> tuple[str, list[int]]:
    """Text without spaces and punctuation, and where each kept character sits in the original."""
    chars, where = [], []
    for i, ch in enumerate(unicodedata.normalize("NFKC", text)):
        if ch not in _PUNCT and not ch.isspace():
            chars.append(ch)
            where.append(i)
    return "".join(chars), where


def _allowed_errors(label: str, typed: bool = False, closed: bool = False) -> int:
    """Edits a label may have suffered; one more when the value's pattern guards against mistakes."""
    n = len(label)
    base = 0 if n <= 3 else 1 if n <= 6 else 2
    return base + 1 if (typed and n >= 3) or (closed and n == 2) else base


def fuzzy_find(label: str, text: str, max_errors: int) -> tuple[int, int, int] | None:
    """Best approximate occurrence of `label` in `text` (Sellers' edit-distance search).

    Returns (start, end, errors) in `text` indices, or None when every occurrence needs more than
    `max_errors` edits. Ties go to the leftmost, then the longest occurrence.
    """
    m = len(label)
    if m == 0 or not text:
        return None
    if max_errors == 0:
        i = text.find(label)
        return None if i < 0 else (i, i + m, 0)
    # prev[j]: edits to match label[:i] ending at text[j-1]; start[j]: where that match began
    prev = [0] * (len(text) + 1)
    start = list(range(len(text) + 1))
    for i in range(1, m + 1):
        cur = [i] + [0] * len(text)
        cstart = [0] * (len(text) + 1)
        for j in range(1, len(text) + 1):
            sub = prev[j - 1] + (label[i - 1] != text[j - 1])
            dele = prev[j] + 1
            ins = cur[j - 1] + 1
            best = min(sub, dele, ins)
            cur[j] = best
            cstart[j] = start[j - 1] if best == sub else start[j] if best == dele else cstart[j - 1]
        prev, start = cur, cstart
    best_j = min(range(1, len(text) + 1), key=lambda j: (prev[j], start[j], -j))
    if prev[best_j] > max_errors:
        return None
    s, e = start[best_j], best_j
    if e - s < m - max_errors:  # mostly deletions: not the label
        return None
    return s, e, prev[best_j]


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def similar(a: str, b: str) -> float:
    """1 - normalised edit distance of the squeezed texts: 1.0 is the same text."""
    a, b = _squeeze(a)[0], _squeeze(b)[0]
    if not a and not b:
        return 1.0
    return 1.0 - edit_distance(a, b) / max(len(a), len(b))


def _char_weight(ch: str) -> float:
    return 1.0 if ord(ch) < 0x2E80 else 2.0  # CJK glyphs are about twice as wide as digits


def sub_box(line: TextLine, start: int, end: int) -> Box:
    """The part of a line's box holding characters [start, end), estimated by character widths."""
    text = unicodedata.normalize("NFKC", line.text)
    if len(text) != len(line.text):
        text = line.text
    weights = [_char_weight(c) for c in text] or [1.0]
    total = sum(weights)
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    if (start, end) == (0, len(text)) or total == 0 or end <= start:
        return line.box
    a = sum(weights[:start]) / total
    b = sum(weights[:end]) / total
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = line.box

    def lerp(p: tuple[float, float], q: tuple[float, float], t: float) -> tuple[float, float]:
        return (round(p[0] + (q[0] - p[0]) * t, 1), round(p[1] + (q[1] - p[1]) * t, 1))

    top_l, top_r = lerp((x0, y0), (x1, y1), a), lerp((x0, y0), (x1, y1), b)
    bot_r, bot_l = lerp((x3, y3), (x2, y2), b), lerp((x3, y3), (x2, y2), a)
    return (top_l, top_r, bot_r, bot_l)


def repair_geometry(page: Page) -> Page:
    """Give flat line boxes a height, so that rows can be built from them.

    A PDF text layer in a font the file does not embed (the CJK fonts readers know by name) reports
    glyph boxes of zero height on the baseline; such a line would never share a row with the value
    printed beside it. It gets the page's typical line height, standing on its baseline.
    """
    heights = sorted(ln.bbox[3] - ln.bbox[1] for ln in page.lines if ln.bbox[3] - ln.bbox[1] >= 2)
    flat = [ln for ln in page.lines if ln.bbox[3] - ln.bbox[1] < 2]
    if not flat:
        return page
    h = heights[len(heights) // 2] if heights else 20.0
    lines = []
    for ln in page.lines:
        x0, y0, x1, y1 = ln.bbox
        if y1 - y0 < 2:
            top, bottom = y1 - 0.9 * h, y1 + 0.1 * h
            ln = ln.model_copy(update={"box": ((x0, top), (x1, top), (x1, bottom), (x0, bottom))})
        lines.append(ln)
    return page.model_copy(update={"lines": lines})


# --- typed values ----------------------------------------------------------------------------------

_INT = re.compile(r"\d+")


def parse_value(text: str, kind: FieldKind, pattern: str | None = None) -> tuple[object, str] | None:
    """The typed value in `text` and the substring it came from; None when there is none."""
    s = clean_value(text)
    if not s:
        return None
    if pattern is not None:
        m = re.search(pattern, norm(s))
        if m is None:
            return None
        s = m.group(1) if m.groups() else m.group(0)
    match kind:
        case FieldKind.MONEY:
            v = parse_figure(s)
            return None if v is None else (v, s)
        case FieldKind.DATE:
            d = parse_date(s)
            return None if d is None else (d, s)
        case FieldKind.INT:
            m = _INT.search(s)
            return None if m is None else (int(m.group(0)), s)
        case FieldKind.DECIMAL:
            v = parse_figure(s)
            return None if v is None else (Decimal(v), s)
        case _:
            return s, s


# --- finding labels ------------------------------------------------------------------------------


def find_hits(line: TextLine, keys: Sequence[Key], row: int, col: int) -> list[Hit]:
    """Every label of `keys` in one line, longest and least garbled first, never overlapping."""
    squeezed, where = _squeeze(line.text)
    if not squeezed:
        return []
    cands: list[tuple[int, int, int, int, Key, str]] = []
    for key in keys:
        for label in key.labels:
            lab = _squeeze(label)[0]
            if not lab:
                continue
            if key.anywhere:
                pos = squeezed.find(lab, 2)
                while pos >= 0:
                    cands.append((pos, pos + len(lab), 0, -len(lab), key, label))
                    pos = squeezed.find(lab, pos + 1)
            head = squeezed[: len(lab) + 2]
            found = fuzzy_find(lab, head, _allowed_errors(lab, key.pattern is not None, key.closed))
            if found is None and _middle_misread(lab, squeezed):
                found = (0, 3, 1)
            if found is None or found[0] > 1:
                continue
            if len(lab) == 2 and found[2] and found[1] - found[0] != 2:
                continue  # a two-character label only as one misread character, never as one of two
            cands.append((found[0], found[1], found[2], -len(lab), key, label))
    cands.sort(key=lambda c: (c[2], c[3], c[0]))
    taken: list[tuple[int, int, int, int, Key, str]] = []
    used_names: set[str] = set()
    for c in cands:
        if c[4].name in used_names:
            continue
        if any(c[0] < t[1] and t[0] < c[1] for t in taken):
            continue
        taken.append(c)
        used_names.add(c[4].name)
    taken.sort(key=lambda c: c[0])
    hits: list[Hit] = []
    norm_text = unicodedata.normalize("NFKC", line.text)
    for k, (s, e, cost, _, key, label) in enumerate(taken):
        start, end = where[s], where[e - 1] + 1
        while end < len(norm_text) and norm_text[end] in _CLOSERS:
            end += 1  # the label's closing bracket or colon belongs to the label
        nxt = where[taken[k + 1][0]] if k + 1 < len(taken) else len(norm_text)
        hits.append(Hit(key, line, row, col, start, end, cost, label, norm_text[end:nxt]))
    return hits


def _middle_misread(label: str, text: str) -> bool:
    """A three-character label opening the line with only its middle character misread (交款人 read as
    交教人 or 交徽人): the two characters that frame it are seldom both right by chance."""
    return len(label) == 3 and len(text) >= 3 and text[0] == label[0] and text[2] == label[2]


def _in_section(sections: list[tuple[float, str]], y: float) -> str | None:
    current = None
    for sy, name in sections:
        if sy <= y:
            current = name
    return current


# --- pairing -------------------------------------------------------------------------------------


def pair_page(
    page: Page,
    keys: Sequence[Key],
    *,
    sections: Sequence[str] = (),
    rows: list[list[TextLine]] | None = None,
    accept: Callable[[Key, str], bool] | None = None,
    multi: bool = False,
) -> list[Pair]:
    """Pair the labels of `keys` on a page with their values; one pair per key name unless `multi`
    (a VAT invoice prints 名称 for the buyer and for the seller).

    `sections` are headings that scope keys with a `section`; `accept(key, value_text)` may veto
    a candidate value (a document type's extra knowledge).
    """
    rows = rows if rows is not None else group_rows(page.lines)
    rows = [_join_split_labels(row, keys) for row in rows]
    sec_pos: list[tuple[float, str]] = []
    for row in rows:
        for ln in row:
            for s in sections:
                if similar(ln.text, s) >= 0.75:
                    sec_pos.append((ln.bbox[1], s))
    sec_pos.sort()

    hits_by_line: dict[int, list[Hit]] = {}
    all_hits: list[Hit] = []
    for r, row in enumerate(rows):
        for c, ln in enumerate(row):
            y = (ln.bbox[1] + ln.bbox[3]) / 2
            section = _in_section(sec_pos, y)
            scoped = [k for k in keys if k.section is None or k.section == section]
            hits = find_hits(ln, scoped, r, c)
            if hits:
                hits_by_line[id(ln)] = hits
                all_hits.extend(hits)

    used: set[int] = set()  # lines given away as a value
    pairs: list[Pair] = []
    done: set[str] = set()
    for hit in all_hits:
        if (hit.key.name in done and not multi) or id(hit.line) in used:
            continue
        pair = _pair_hit(page, rows, hit, hits_by_line, used, accept)
        if pair is not None:
            pairs.append(pair)
            done.add(hit.key.name)
    return pairs


def _join_split_labels(row: list[TextLine], keys: Sequence[Key]) -> list[TextLine]:
    """Glue a label printed with wide letter spacing (`名    称：`), which OCR reads as two lines."""
    labels = [_squeeze(lab)[0] for k in keys for lab in k.labels]
    out: list[TextLine] = []
    for ln in row:
        if out:
            prev = _squeeze(out[-1].text)[0]
            both = prev + _squeeze(ln.text)[0]
            if prev and any(lab.startswith(prev) and lab != prev and both.startswith(lab) for lab in labels):
                a, b = out[-1], ln
                x0, y0 = min(a.bbox[0], b.bbox[0]), min(a.bbox[1], b.bbox[1])
                x1, y1 = max(a.bbox[2], b.bbox[2]), max(a.bbox[3], b.bbox[3])
                out[-1] = TextLine(
                    text=a.text + b.text,
                    box=((x0, y0), (x1, y0), (x1, y1), (x0, y1)),
                    score=min(a.score, b.score),
                    source=a.source,
                )
                continue
        out.append(ln)
    return out


def _is_bare(line: TextLine, hits_by_line: dict[int, list[Hit]]) -> bool:
    hits = hits_by_line.get(id(line), [])
    return bool(hits) and not any(clean_value(h.value_text) for h in hits)


def _pair_hit(
    page: Page,
    rows: list[list[TextLine]],
    hit: Hit,
    hits_by_line: dict[int, list[Hit]],
    used: set[int],
    accept: Callable[[Key, str], bool] | None,
) -> Pair | None:
    key = hit.key
    key_conf = 1.0 - 0.08 * hit.cost
    key_box = sub_box(hit.line, hit.start, hit.end)

    def make(line: TextLine, text: str, start: int, end: int, how: str, penalty: float) -> Pair | None:
        parsed = parse_value(text, key.kind, key.pattern)
        if parsed is None:
            return None
        value, shown = parsed
        if accept is not None and not accept(key, shown):
            return None
        # narrow the box to the characters the value came from
        full = unicodedata.normalize("NFKC", line.text)
        at = full.find(shown, start)
        if at < 0 or at >= end:
            at, stop = start, end
        else:
            stop = at + len(shown)
        return Pair(
            key=key,
            key_text=hit.line.text[hit.start : hit.end],
            key_box=key_box,
            value_text=shown,
            value_box=sub_box(line, at, stop),
            value=value,
            confidence=line.score * key_conf * penalty,
            page=page.number,
            line=line,
            how=how,
        )

    # 1. glued: the value follows the label in the same line
    if clean_value(hit.value_text):
        pair = make(hit.line, hit.value_text, hit.end, hit.end + len(hit.value_text), "glued", 1.0)
        if pair is not None:
            return pair
        if key.kind is FieldKind.TEXT and key.pattern is None:
            return None
    # 2. right: lines after it in the row, up to the next label
    row = rows[hit.row]
    if key.right and hit is hits_by_line[id(hit.line)][-1]:
        for k, ln in enumerate(row[hit.col + 1 :], start=hit.col + 1):
            if id(ln) in used:
                continue
            if id(ln) in hits_by_line:
                first = hits_by_line[id(ln)][0]
                if first.start > 0:  # text before its label: that text may be our value
                    pair = make(ln, ln.text[: first.start], 0, first.start, "right", 0.97)
                    if pair is not None:
                        return pair
                # a bare amount label right after a text label, with no amount of its own, is a word
                # printed as our value (医保类型 | 自费 | 门诊号 ...)
                nxt = row[k + 1] if k + 1 < len(row) else None
                if (
                    key.kind is FieldKind.TEXT
                    and hits_by_line[id(ln)][0].key.kind is not FieldKind.TEXT  # an amount's label, no amount
                    and _is_bare(ln, hits_by_line)
                    and (nxt is None or id(nxt) in hits_by_line)
                ):
                    pair = make(ln, ln.text, 0, len(ln.text), "right", 0.85)
                    if pair is not None:
                        used.add(id(ln))
                        return pair
                break
            pair = make(ln, ln.text, 0, len(ln.text), "right", 1.0)
            if pair is not None:
                used.add(id(ln))
                return pair
            if key.kind is FieldKind.TEXT and key.pattern is None:
                break
    # 3. below: lines under the label, overlapping it horizontally
    if key.below:
        kx0, _, kx1, _ = hit.line.bbox
        if hit.start > 0 or hit.end < len(hit.line.text):
            xs = [p[0] for p in key_box]
            kx0, kx1 = min(xs), max(xs)
        h = hit.line.bbox[3] - hit.line.bbox[1]
        for r in range(hit.row + 1, min(len(rows), hit.row + 1 + key.max_below)):
            for ln in rows[r]:
                x0, _, x1, _ = ln.bbox
                if id(ln) in used or x1 < kx0 - h or x0 > kx1 + h:
                    continue
                if id(ln) in hits_by_line and not (key.pattern and hits_by_line[id(ln)][0].start > 0):
                    continue
                pair = make(ln, ln.text, 0, len(ln.text), "below", 0.95)
                if pair is not None:
                    used.add(id(ln))
                    return pair
    return None


def pairs_to_fields(pairs: Sequence[Pair]) -> dict[str, Field]:
    return {p.key.name: p.to_field() for p in pairs}

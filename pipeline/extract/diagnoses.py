"""Diagnosis lists (出院诊断 / 诊断) as medical records print them.

A list follows its label on the same line (`出院诊断：1.左乳癌（T2N2M0）ⅢA期 2.高血压病3级`), runs
over the next rows (one item a row, or wrapped inside an item), or starts under a bare label. Items
are numbered (`1.`, `1、`, `(1)`) or not (then separated by 、 ； or a wide gap); a code may follow
the name (`（ICD-10：J18.9）`) or precede it (`(C50.901)`). The list ends at the next section's
label (入院情况, 诊疗经过, 出院情况, 出院医嘱, 治疗结果 …), at a label-like row (`手术名称：`), or
after a wide vertical gap. The first item is the principal diagnosis; the others are secondary.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ocr.elements import Box, Page, TextLine
from ocr.layout import group_rows
from pipeline.extract.pairing import norm, sub_box

DISCHARGE_LABELS = ("出院诊断", "出院诊断(Diagnosis)", "最后诊断", "出院主要诊断")
CERTIFICATE_LABELS = ("诊断", "出院诊断", "临床诊断", "诊断意见", "疾病诊断", "诊断结果")
SECTIONS = (
    "出院诊断", "诊断", "入院诊断", "初步诊断", "门诊诊断",
    "入院情况", "入院时情况", "入院时简要病史", "主诉", "现病史",
    "诊疗经过", "住院经过", "治疗经过", "出院情况", "出院时情况", "出院医嘱", "出院医嘱及注意事项",
    "出院后注意事项", "医嘱建议", "建议", "治疗结果", "手术及操作名称", "手术名称", "备注", "注",
    "医师签名", "医生签名", "主治医师", "入院日期", "出院日期", "入院时间", "出院时间", "住院天数",
)  # fmt: skip
"""Labels that open another part of the record: a diagnosis list never runs past them."""
_LABEL_LIKE = re.compile(
    r"^[\u4e00-\u9fff]{1,10}(?:情况|经过|医嘱|结果|名称|事项|建议|意见|签名|签字|医师|医生|日期|时间|备注|方法|摘要|病史|检查)"
    r"(?:\([^)]*\))?[:：]"
)
_NUMBER = re.compile(r"(?<![\dA-Za-z.])[(（]?(\d{1,2})\s*(?:[.、．]|[)）])\s*")
_ICD_AFTER = re.compile(
    r"[(（]?\s*(?:ICD\s*-?\s*1?0?|[A-Z1|]{0,3}\s*-?\s*10)\s*[:：]\s*"
    r"([A-Z0-9][0-9]{2}(?:\s*[.,，]\s*[0-9x]{1,4})?)\s*[)）]?",
    re.I,
)
_CODE_START = re.compile(r"[(（]?\s*ICD|[(（]\s*[A-Z1|]{0,3}\s*-?\s*10\s*[:：]", re.I)
"""Where a name ends and its code begins, also when OCR garbles the bracket's ICD: (CD-10:, (1CD-10:."""
_CODE_BEFORE = re.compile(r"^[(（]\s*([A-Z][0-9]{2}(?:\.[0-9x]{1,4}(?:[xX][0-9]{3})?)?)\s*[)）]")
_SPLIT = re.compile(r"[、；;]|\s{2,}")
_TRAIL = " \t:：;；,，。.!！"  # not ？: a diagnosis in doubt keeps its question mark


@dataclass
class Item:
    """One listed diagnosis: its name as printed and its code if printed, with their boxes."""

    name: str
    box: Box
    code: str | None
    code_box: Box | None
    line: TextLine
    page: int
    confidence: float


def diagnosis_list(pages: Sequence[Page], labels: Sequence[str]) -> list[Item]:
    """The items of the first list under one of `labels` (the order of `labels` is preference)."""
    wanted = {norm(lab) for lab in labels}
    for page in pages:
        rows = group_rows(page.lines)
        for r, row in enumerate(rows):
            for c, ln in enumerate(row):
                start = _label_end(ln.text, wanted)
                if start is None:
                    continue
                items = _read(rows, r, c, start, page.number)
                if items:
                    return items
    return []


def _label_end(text: str, wanted: set[str]) -> int | None:
    """Where the value starts when `text` opens with one of the labels (spaces inside allowed)."""
    t = unicodedata.normalize("NFKC", text)
    squeezed, where = "", []
    for i, ch in enumerate(t):
        if not ch.isspace():
            squeezed += ch
            where.append(i)
    for lab in sorted(wanted, key=len, reverse=True):
        if squeezed.startswith(lab):
            end = where[len(lab) - 1] + 1
            rest = t[end:]
            if squeezed[len(lab) :].startswith(("证明", "书")):
                return None  # the title 诊断证明书
            return end + len(rest) - len(rest.lstrip(" :：\t"))
    return None


def _is_boundary(text: str) -> bool:
    t = norm(text)
    if _LABEL_LIKE.match(t):
        return True
    return any(t.startswith(s) and t[len(s) : len(s) + 1] in (":", "：", "(", "") for s in SECTIONS)


def _read(rows: list[list[TextLine]], r: int, c: int, start: int, page: int) -> list[Item]:
    items: list[Item] = []
    numbered = False
    open_end = False  # the last line read stopped mid-item, with no separator at its end
    right = max(ln.bbox[2] for row in rows for ln in row)
    height = max(1.0, rows[r][c].bbox[3] - rows[r][c].bbox[1])
    last_y = rows[r][c].bbox[3]
    for k in range(r, min(len(rows), r + 10)):
        row = rows[k] if k > r else rows[r][c:]
        if k > r and (row[0].bbox[1] - last_y > 2.2 * height or _is_boundary(row[0].text)):
            break
        for j, ln in enumerate(row):
            text = unicodedata.normalize("NFKC", ln.text)
            offset = start if (k == r and j == 0) else 0
            if k == r and j > 0 and _is_boundary(text):
                break
            body = text[offset:]
            if not body.strip(_TRAIL):
                continue
            marks = list(_NUMBER.finditer(body))
            numbered = numbered or bool(marks)
            if not numbered and items and j == 0 and k > r and open_end and not _CODE_BEFORE.match(body):
                # an unnumbered item cut by the line's end (肝部继发 / 性恶性肿瘤；): its rest leads this row
                cut = _SPLIT.search(body)
                _extend(items[-1], ln, body[: cut.start()] if cut else body, offset)
                if cut is None:
                    continue
                offset, body = offset + cut.end(), body[cut.end() :]
            if numbered and items and (not marks or marks[0].start() > 0) and j == 0 and k > r:
                head = body[: marks[0].start()] if marks else body
                _extend(items[-1], ln, head, offset)  # an item wrapped onto this row
                if not marks:
                    continue
                offset, body = offset + marks[0].start(), body[marks[0].start() :]
                marks = list(_NUMBER.finditer(body))
            items.extend(_items(ln, body, offset, marks, page))
            # stopped mid-item: no separator at its end, and the line runs to the text's right edge
            # (a short line is a list of one diagnosis per line)
            open_end = not text.rstrip().endswith(tuple("、；;。")) and ln.bbox[2] >= 0.85 * right
        last_y = max(ln.bbox[3] for ln in row)
    return [i for i in items if re.search(r"[\u4e00-\u9fff]", i.name)]


def _items(ln: TextLine, body: str, offset: int, marks: list[re.Match[str]], page: int) -> list[Item]:
    if marks:
        spans = [
            (m.end(), nxt.start() if nxt else len(body))
            for m, nxt in zip(marks, [*marks[1:], None], strict=True)
        ]
        if marks[0].start() > 0 and body[: marks[0].start()].strip(_TRAIL):
            spans.insert(0, (0, marks[0].start()))
    else:
        spans, s = [], 0
        depth = 0
        for i, ch in enumerate(body):
            depth += (ch in "(（[【" and 1) or 0
            depth -= (ch in ")）]】" and 1) or 0
            if depth <= 0 and _SPLIT.match(body, i) and (ch != " " or body[i : i + 2] == "  "):
                spans.append((s, i))
                s = i + 1
        spans.append((s, len(body)))
    out = []
    for s, e in spans:
        item = _item(ln, body[s:e], offset + s, page)
        if item is not None:
            out.append(item)
    return out


def _item(ln: TextLine, chunk: str, at: int, page: int) -> Item | None:
    lead = len(chunk) - len(chunk.lstrip(_TRAIL))
    chunk, at = chunk[lead:], at + lead
    code = code_box = None
    before = _CODE_BEFORE.match(chunk)
    if before:
        code = before.group(1)
        code_box = sub_box(ln, at + before.start(1), at + before.end(1))
        chunk, at = chunk[before.end() :], at + before.end()
        lead = len(chunk) - len(chunk.lstrip(_TRAIL))
        chunk, at = chunk[lead:], at + lead
    after = _ICD_AFTER.search(chunk)
    if after:
        code = re.sub(r"\s", "", after.group(1))
        code_box = sub_box(ln, at + after.start(1), at + after.end(1))
        chunk = chunk[: after.start()]
    cut = _CODE_START.search(chunk)
    if cut:
        chunk = chunk[: cut.start()]
    name = chunk.rstrip(_TRAIL).strip()
    if not name:
        return None
    return Item(name, sub_box(ln, at, at + len(name)), code, code_box, ln, page, ln.score)


def _extend(item: Item, ln: TextLine, text: str, offset: int) -> None:
    more = text.strip().rstrip(_TRAIL)
    if not more:
        return
    item.name += more
    xs = [p[0] for p in item.box] + [p[0] for p in sub_box(ln, offset, offset + len(text))]
    ys = [p[1] for p in item.box] + [p[1] for p in ln.box]
    item.box = ((min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys)))
    item.confidence = min(item.confidence, ln.score)

"""Medical invoices (医疗门诊/住院收费票据), paper or the national e-invoice (医疗收费电子票据).

Key fields by pairing, the fee categories (收费项目) as line items, and the repairs OCR makes
necessary, all proved by the invoice's own arithmetic and all with their confidence lowered and the
raw reading kept: an amount read without its decimal point (`1263` for `112.63`); a total that went
unread while the amount in words (大写) was read; and, once the total is confirmed by a second reading
(the words, or the fee lines adding up to it), one payment amount misread by a digit or two is put
back from the split (统筹 + 个人账户 + 现金 = 合计), and one that went unread is worked out from it, with
a confidence low enough that a person confirms it (nothing else checks it).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise

from ocr.elements import Page, TextLine
from ocr.layout import group_rows
from pipeline.extract.base import (
    HOSPITAL_SUFFIX,
    ID_NUMBER,
    MONEY_2DP,
    WORDS_AS_READ,
    line_field,
    pair_pages,
    settle_words,
)
from pipeline.extract.checks import fund_completions, parse_amount_words, parse_date, parse_figure
from pipeline.extract.pairing import Hit, Key, edit_distance, find_hits, norm, sub_box
from pipeline.extract.plausible import implausible
from pipeline.extract.qr import settle_with_qr
from pipeline.extract.settlement import DROPPED, MONEY_KEYS, other_amounts, unread_funds
from pipeline.extract.stay import read_stay
from pipeline.records import Check, Field, FieldKind, LineItem, money

log = logging.getLogger(__name__)

M, D = FieldKind.MONEY, FieldKind.DATE

HOSPITAL_VALUE = (
    r"(?<![\u4e00-\u9fff])(?<![\u4e00-\u9fff][(（])([\u4e00-\u9fff]{2,}(?:医院|卫生院|中心|门诊部|诊所|保健院|研究院|研究所|卫生室|医务室)"
    r"(?:[(（][\u4e00-\u9fff]{2,}(?:[)）]|$))?)"
)
"""A payee that is a medical institution: a name of two or more characters before the kind of
institution, and a second name in brackets (山东省肿瘤防治研究院（山东省肿瘤医院）), never that
second name alone: when the name before it is misread as no name (研究院 as 研究), the line is no
reading of the payee to pay on. A reading that
is not one (`健章` left of the seal's 章, `打印时理章`) is passed over for the next line of the row."""

_OTHER_LABELS = ("住院科室", "就诊科室", "住院科别", "就诊科别", "床号", "结算时间", "参保地")
"""Labels printed among the fields, glued to a value before them when OCR joins the line: claimed so
that a value stops where they begin (城镇职工医保 | 就诊科室)."""
_DEPARTMENT_LABELS = _OTHER_LABELS[:4]
"""The department's labels (科室 / 科别): read into `department`, as the medical records are."""
SERIAL_MARKS = ("№", "No.", "No", "NO")
"""The mark paper bills print before the red serial number at the top right: the bill's number
where no 票据号码 is labelled (a labelled one wins: some bills print both, and they differ)."""

KEYS: tuple[Key, ...] = (
    Key("invoice_code", ("电子票据代码", "票据代码", "发票代码"), pattern=r"(\d{6,12})"),
    Key("invoice_number", ("电子票据号码", "票据号码", "发票号码", "票据号"), pattern=r"(\d{6,12})"),
    Key("serial_number", SERIAL_MARKS, pattern=r"(\d{6,12})"),
    Key("check_code", ("校验码",), pattern=r"([0-9A-Za-z]{4,})"),
    Key("payer_id_number", ("交款人统一社会信用代码", "统一社会信用代码"), pattern=ID_NUMBER),
    Key("payer_name", ("交款人", "患者姓名", "姓名")),
    Key("sex", ("性别",), pattern=r"([男女])", closed=True, anywhere=True),
    Key("insurance_type", ("医保类型", "医疗保险类型", "医保类别"), anywhere=True),
    Key("hospital_number", ("住院号", "门诊号"), pattern=r"([A-Za-z]{0,3}\d{4,})", anywhere=True),
    Key("medical_record_number", ("病历号", "病案号"), pattern=r"([A-Za-z]{0,3}\d{1,})", anywhere=True),
    Key("visit_date", ("就诊日期", "门诊日期"), D, anywhere=True),
    Key("stay_period", ("住院时间", "住院日期"), pattern=r"(\d{8}[-~至]\d{8})"),
    Key(
        "social_security_number",
        ("社会保障号码", "社会保障卡号", "社保卡号", "医保编号"),
        pattern=r"([0-9Xx]{8,18})",
        anywhere=True,
    ),
    Key(
        "total_in_words",
        ("合计（大写）", "合计人民币（大写）", "金额合计（大写）", "大写"),
        pattern=WORDS_AS_READ,
    ),
    Key("total_amount", ("合计（小写）", "（小写）", "小写", "¥", "￥"), M, pattern=MONEY_2DP),
    *MONEY_KEYS,
    Key("hospital", ("收款单位（章）", "收款单位", "医疗机构名称"), pattern=HOSPITAL_VALUE),
    Key("cashier", ("收款人",)),
    Key("reviewer", ("复核人",)),
    Key("issue_date", ("开票日期", "收费日期", "收款日期", "结算日期", "日期"), D),
    Key("institution_type", ("医疗机构类型",), anywhere=True),
    Key("serial", ("业务流水号",), anywhere=True),
    Key("department", (*_DEPARTMENT_LABELS, "科别", "科室"), anywhere=True),
    *(Key(f"_label:{x}", (x,), anywhere=True) for x in _OTHER_LABELS if x not in _DEPARTMENT_LABELS),
)
_DROPPED = ("reviewer", "institution_type", "serial", *DROPPED, *(f"_label:{x}" for x in _OTHER_LABELS))
"""Keys that claim their labels (so no other key reads their values) but are not fields."""

FEE_CATEGORIES = (
    "床位费", "护理费", "诊察费", "诊查费", "检查费", "化验费", "检验费", "治疗费", "手术费", "西药费",
    "中成药费", "中草药费", "中药饮片", "中药费", "材料费", "卫生材料费", "放射费", "挂号费", "一般诊疗费",
    "输血费", "输氧费", "麻醉费", "其他住院费用", "其他门急诊收费", "其他费用", "其他",
)  # fmt: skip
_CAT_KEYS = tuple(Key(f"cat:{c}", (c,)) for c in FEE_CATEGORIES)
_MONEY_FIELDS = ("total_amount", "fund_paid", "account_paid", "cash_paid", "self_pay", "copay")


def extract_invoice(pages: Sequence[Page]) -> tuple[dict[str, Field], list[LineItem]]:
    """Fields and fee lines of a medical bill (the checks of `read_invoice` left aside)."""
    fields, items, _ = read_invoice(pages)
    return fields, items


def read_invoice(pages: Sequence[Page]) -> tuple[dict[str, Field], list[LineItem], list[Check]]:
    """Fields, fee lines and the checks only the pages allow (the QR code against the print)."""
    fields = pair_pages(pages, KEYS)
    serial = fields.pop("serial_number", None)
    if serial is not None and "invoice_number" not in fields:
        # a paper bill's printed serial (№ 2915012951) is its number where no 票据号码 is printed
        fields["invoice_number"] = serial.model_copy(update={"name": "invoice_number"})
    for name in _DROPPED:
        fields.pop(name, None)
    items = fee_items(pages)
    if "hospital" not in fields:
        found = hospital_by_name(pages)
        if found is not None:
            fields["hospital"] = found
    if "issue_date" not in fields:
        boxed = date_in_boxes(pages)
        if boxed is not None:
            fields["issue_date"] = boxed
    if "hospital" not in fields or implausible("hospital", fields["hospital"].value):
        stamped = hospital_on_seal(pages)
        if stamped is not None:
            fields["hospital"] = stamped
    for name in ("insurance_type", "payer_name", "cashier"):
        if name in fields:
            fields[name] = _cut_glued_label(fields[name])
    read_stay(pages, fields, KEYS)
    qr = settle_with_qr(pages, fields, items)
    _repair_amounts(fields)
    # a gap in the split may be a fund the bill prints beside 统筹: only a bill whose every fund
    # is read, and none of them paid, has its split put right from the total
    settled = not other_amounts(fields) and not unread_funds(pages, fields)
    repair_split(fields, items, parts_known=settled)
    settle_invoice_words(fields, items)
    return fields, items, [c for c in (qr,) if c is not None]


def _cut_glued_label(f: Field) -> Field:
    """A text value with the next label glued to it by OCR and misread (郑州市医保住院料室: 住院科室),
    which the label keys, matching exactly, did not claim: the label is cut off."""
    value = str(f.value or "")
    for label in _OTHER_LABELS:
        n = len(label)
        if n >= 4 and len(value) > n + 1 and edit_distance(value[-n:], label) <= 1:
            return f.model_copy(update={"value": value[:-n], "confidence": round(f.confidence * 0.9, 4)})
    return f


HOSPITAL_NAME = re.compile(r"^[\u4e00-\u9fff()]{3,24}" + HOSPITAL_SUFFIX.pattern)
INSTITUTION_TYPES = re.compile(
    r"^(综合|专科|中医|中西医结合|民族|康复|精神|传染病|肿瘤|口腔|眼科)医院$|类型|单位"
)
"""医疗机构类型 values and labels: lines that end like a hospital's name without being one."""


def hospital_by_name(pages: Sequence[Page]) -> Field | None:
    """The hospital when its label (收款单位（章）) went unread, usually under the seal: the one line
    on the invoice that is nothing but a hospital's name. Two different such lines: no guess."""
    found = [
        (page.number, ln)
        for page in pages
        for ln in page.lines
        if HOSPITAL_NAME.match(norm(ln.text)) and not INSTITUTION_TYPES.search(norm(ln.text))
    ]
    if len({norm(ln.text) for _, ln in found}) != 1:
        return None
    number, ln = found[0]
    # found by what it says, not where: a little less sure than a labelled one
    return line_field("hospital", ln, number, norm(ln.text), confidence=ln.score * 0.9)


_BOXED_DATE = re.compile(r"(?<!\d)(20\d{2})(?:\s*年\s*|\s+)(\d{1,2})(?:\s*月\s*|\s+)(\d{1,2})\s*日")
"""Year, month and day apart (a cell each, or 年 月 between): digits run together are no date."""


def date_in_boxes(pages: Sequence[Page]) -> Field | None:
    """The issue date a paper bill prints into its pre-printed 年 月 日 boxes, unlabelled, at its
    foot: digits in cells of their own, the 年 often lost (`2020 | 06 | 月19 | 日`). The last such
    date of the bill, found by its shape, a little less sure than a labelled one."""
    found = None
    for page in pages:
        for row in group_rows(page.lines):
            joined = " ".join(unicodedata.normalize("NFKC", ln.text) for ln in row)
            for m in _BOXED_DATE.finditer(joined):
                date = parse_date(f"{m.group(1)}-{m.group(2)}-{m.group(3)}")
                if date is not None:
                    score = min(ln.score for ln in row) * 0.9
                    found = Field(
                        name="issue_date", kind=D, value=date, raw_text=m.group(0), page=page.number,
                        confidence=round(score, 4), box=_row_box(row),
                    )  # fmt: skip
    return found


def _row_box(row: Sequence[TextLine]) -> tuple:
    x0, y0 = min(ln.bbox[0] for ln in row), min(ln.bbox[1] for ln in row)
    x1, y1 = max(ln.bbox[2] for ln in row), max(ln.bbox[3] for ln in row)
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


SEAL_CONFIDENCE = 0.75
"""The most a name read off a seal is trusted: below the key fields' threshold, so a person confirms
it. Ring text, unrolled, reads with confident slips (湘雅 as 湘滩) that print rarely shows."""
SEAL_NAME = re.compile(r"[\u4e00-\u9fff()（）]{2,24}?" + HOSPITAL_SUFFIX.pattern.rstrip("$"))


def hospital_on_seal(pages: Sequence[Page]) -> Field | None:
    """The hospital as its seal names it (`Page.seals`, read along the ring), where the print names
    none or none it could be: the first name a seal holds that is no misreading of one, for a
    person to confirm (`SEAL_CONFIDENCE`) with the seal's box in front of them."""
    for page in pages:
        for seal in sorted(page.seals, key=lambda s: -s.score):
            m = SEAL_NAME.search(norm(seal.text))
            if m and implausible("hospital", m.group(0)) is None:
                return Field(
                    name="hospital",
                    value=m.group(0),
                    raw_text=seal.text,
                    confidence=round(min(seal.score, SEAL_CONFIDENCE), 4),
                    page=page.number,
                    box=seal.box,
                )
    return None


_AMOUNT_THEN_TEXT = re.compile(MONEY_2DP + r"\s*(?=\D)")


def split_cells(line: TextLine) -> list[TextLine]:
    """A line cut after every amount that text follows: `0.00 CT费` is the last cell's amount and
    the next cell's label, as OCR joins the cells of a fee grid whose print misses its boxes."""
    text = unicodedata.normalize("NFKC", line.text)
    if len(text) != len(line.text):
        return [line]
    cuts = [m.end() for m in _AMOUNT_THEN_TEXT.finditer(text) if m.end() < len(text)]
    if not cuts:
        return [line]
    bounds = [0, *cuts, len(text)]
    return [
        line.model_copy(update={"text": text[a:b].strip(), "box": sub_box(line, a, b), "raw_text": None})
        for a, b in pairwise(bounds)
        if text[a:b].strip()
    ]


_LABEL_CELL = re.compile(r"^[\u4e00-\u9fffA-Za-z]{2,10}$")
"""A cell of nothing but a name: in a row of fee categories, a category this code has no word for."""
_AMOUNT_CELL = re.compile(r"^\s*[¥￥]?" + MONEY_2DP)
_NAMED_AMOUNT = re.compile(r"^([\u4e00-\u9fffA-Za-z]{2,10})[:：]?\s*[¥￥]?" + MONEY_2DP + r"$")


def _known_category(cell: TextLine) -> Hit | None:
    """A fee category of `FEE_CATEGORIES` heading `cell` (never a payment line like 其他支付)."""
    hits = find_hits(cell, _CAT_KEYS, 0, 0)
    if not hits:
        return None
    hit = hits[0]
    if norm(cell.text[: hit.start]) != "" or len(norm(cell.text)) > len(hit.label) + 12:
        return None
    field_hits = find_hits(cell, KEYS, 0, 0)
    if field_hits and field_hits[0].start <= hit.start and len(field_hits[0].label) > len(hit.label):
        return None  # 其他支付 is a payment, not the category 其他
    return hit


def _amount_after(row: Sequence[TextLine], c: int, hit: Hit) -> tuple[TextLine, int, int, Decimal] | None:
    """The first two-decimal amount right of a category: in its own cell, else in the next cells
    before another label."""
    m = re.search(MONEY_2DP, unicodedata.normalize("NFKC", hit.value_text))
    if m:
        return row[c], hit.end + m.start(1), hit.end + m.end(1), parse_figure(m.group(1))
    for nxt in row[c + 1 :]:
        if find_hits(nxt, _CAT_KEYS, 0, 0) or find_hits(nxt, KEYS, 0, 0):
            return None
        m = re.search(MONEY_2DP, unicodedata.normalize("NFKC", nxt.text))
        if m:
            return nxt, m.start(1), m.end(1), parse_figure(m.group(1))
    return None


def _item(page: int, label: TextLine, span: tuple[int, int], name: str, found: tuple) -> LineItem:
    amount_line, a, b, value = found
    vb, kb = sub_box(amount_line, a, b), sub_box(label, *span)
    x0 = min(p[0] for p in kb)
    y0 = min(min(p[1] for p in kb), min(p[1] for p in vb))
    x1 = max(p[0] for p in vb)
    y1 = max(max(p[1] for p in kb), max(p[1] for p in vb))
    box = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
    return LineItem(name=name, category=name, amount=value, page=page, box=box)


def fee_items(pages: Sequence[Page]) -> list[LineItem]:
    """Fee categories with their amounts: a category label, then the first two-decimal amount to its
    right. In a row that holds a known category (a row of the fee grid), any cell of nothing but a
    name directly followed by an amount is a category too: provinces print many this code has no
    word for (B超费, 取暖费 …), and a seal or a fold cuts others short (位费)."""
    items: list[LineItem] = []
    for page in pages:
        for joined in group_rows(page.lines):
            row = [cell for ln in joined for cell in split_cells(ln)]
            known = [_known_category(cell) for cell in row]
            grid = any(known)
            for c, cell in enumerate(row):
                hit = known[c]
                if hit is not None:
                    found = _amount_after(row, c, hit)
                    if found is not None and found[3] > 0:
                        items.append(_item(page.number, cell, (hit.start, hit.end), hit.label, found))
                    continue
                if not grid or find_hits(cell, KEYS, 0, 0):
                    continue
                text = unicodedata.normalize("NFKC", cell.text).strip()
                both = _NAMED_AMOUNT.match(text) if len(text) == len(cell.text.strip()) else None
                name = both.group(1) if both else norm(cell.text).rstrip(":：")
                if both:
                    found, span = (
                        (cell, both.start(2), both.end(2), parse_figure(both.group(2))),
                        both.span(1),
                    )
                elif c + 1 < len(row) and _LABEL_CELL.match(name):
                    m = _AMOUNT_CELL.match(unicodedata.normalize("NFKC", row[c + 1].text))
                    if m is None:
                        continue
                    found, span = (
                        (row[c + 1], m.start(1), m.end(1), parse_figure(m.group(1))),
                        (0, len(cell.text)),
                    )
                else:
                    continue
                if found[3] is not None and found[3] > 0:
                    items.append(_item(page.number, cell, span, name, found))
    return items


def _repair_amounts(fields: dict[str, Field]) -> None:
    """Put back a decimal point OCR dropped, when the arithmetic of the invoice proves where it goes."""
    total = fields.get("total_amount")
    words = fields.get("total_in_words")
    if total is not None and "." not in total.raw_text and words is not None:
        w = parse_amount_words(str(words.value))
        if w is not None and total.value is not None and w * 100 == total.value:
            _set(fields, "total_amount", w)
    total = fields.get("total_amount")
    parts = ("fund_paid", "account_paid", "cash_paid")
    if total is None or total.value is None or any(fields.get(p) is None for p in parts):
        return
    values = {p: Decimal(fields[p].value) for p in parts}  # type: ignore[arg-type]
    if sum(values.values()) == total.value:
        return
    for p in parts:
        f = fields[p]
        if "." in f.raw_text or values[p] < 1:
            continue
        fixed = money(values[p] / 100)
        if sum(values.values()) - values[p] + fixed == total.value:
            _set(fields, p, fixed)
            return


SPLIT = ("fund_paid", "account_paid", "cash_paid")
MAX_DIGIT_EDITS = 2
"""A payment amount differing from what the split needs by more digits than this is a real
disagreement (an altered invoice, say), left for the payer_split check to report."""
UNSURE = 0.95
"""Line confidence under which a reading may be the misread one among several that would fit."""


def _digits(v: object) -> str:
    return "".join(ch for ch in str(v) if ch.isdigit()).lstrip("0") or "0"


def _lines_total(items: Sequence[LineItem]) -> Decimal | None:
    """What the fee lines add up to: a reading of the total independent of the printed one."""
    return money(sum((i.amount for i in items), Decimal(0))) if items else None


def _confirmed_total(fields: dict[str, Field], items: Sequence[LineItem]) -> Decimal | None:
    """The total when two independent readings agree on it: figures and words, or figures and fee
    lines; or the words alone when the figures went unread and the fee lines agree (or are absent).
    Figures unread, the words are taken as the total anyway, with a confidence that asks a person."""
    total, words = fields.get("total_amount"), fields.get("total_in_words")
    w = parse_amount_words(str(words.value)) if words is not None and words.value else None
    lines = _lines_total(items)
    if total is not None and total.value is not None:
        t = money(total.value)
        return t if t in (w, lines) else None
    if w is not None:  # no figures: the words are the printed total, a person confirms it
        _set_from(fields, "total_amount", w, words, "合计（大写）", sure=lines in (None, w))  # type: ignore[arg-type]
        return w if lines in (None, w) else None
    return None


def repair_split(fields: dict[str, Field], items: Sequence[LineItem], *, parts_known: bool = True) -> None:
    """Make the channel split add up to a confirmed total by changing exactly one amount, and only
    when that one change is unambiguous and close to what OCR read (or the amount went unread).

    `parts_known=False` (other funds paid, or printed and unread): the total is still confirmed (and
    read from the words when its figures are not), but no channel amount is touched."""
    total = _confirmed_total(fields, items)
    if total is None or not parts_known:
        return
    read = {p: money(fields[p].value) for p in SPLIT if p in fields and fields[p].value is not None}
    if len(read) == 2:  # one part unread: the other two and the total fix it
        (missing,) = (p for p in SPLIT if p not in read)
        value = total - sum(read.values(), Decimal(0))
        if value >= 0:  # nothing cross-checks it: low confidence, so a person confirms it
            _set_from(fields, missing, value, None, "合计 − " + " − ".join(read))
        return
    if len(read) < 3 or sum(read.values(), Decimal(0)) == total:
        return
    fits = []
    for p in SPLIT:
        value = total - (sum(read.values(), Decimal(0)) - read[p])
        raw = fields[p].raw_text or str(fields[p].value)
        if value >= 0 and edit_distance(_digits(raw), _digits(format(value, "f"))) <= MAX_DIGIT_EDITS:
            fits.append((p, value))
    if len(fits) > 1:
        # a 0.02 difference fits a digit of either of two amounts: the one OCR was unsure of is the
        # misread one, when it alone was unsure
        fits.sort(key=lambda pv: fields[pv[0]].confidence)
        unsure, *others = fits
        conf = fields[unsure[0]].confidence
        if conf <= UNSURE and all(fields[p].confidence - conf >= 0.05 for p, _ in others):
            fits = [unsure]
    if len(fits) == 1:
        # proved by the confirmed total and the other amounts: as sure as the surest of those is
        name, value = fits[0]
        sure = min(fields[n].confidence for n in ("total_amount", *SPLIT) if n != name)
        _set(fields, name, value, confidence=round(sure * 0.95, 4))


def settle_invoice_words(fields: dict[str, Field], items: Sequence[LineItem]) -> None:
    """The words settled from the figures when the fee lines or the payment split confirm them."""
    split = [fields[p].value for p in SPLIT if p in fields and fields[p].value is not None]
    paid = money(sum((Decimal(v) for v in split), Decimal(0))) if len(split) == len(SPLIT) else None
    # the funds beside 统筹 complete the split on the bills that print them
    with_funds = (
        {paid + extra for extra in fund_completions(other_amounts(fields))} if paid is not None else set()
    )
    settle_words(fields, (_lines_total(items), paid, *with_funds))


def _set_from(
    fields: dict[str, Field], name: str, value: Decimal, source: Field | None, how: str, *, sure: bool = True
) -> None:
    """A field the invoice's arithmetic supplies: where it was read from, or how it was worked out;
    less sure (`sure=False`) when the bill's other reading of it disagrees."""
    log.debug("derived %s = %s (%s)", name, value, how)
    fields[name] = Field(
        name=name,
        kind=FieldKind.MONEY,
        value=money(value),
        raw_text=source.raw_text if source is not None else f"= {how}",
        confidence=round((source.confidence if source is not None else 1.0) * (0.6 if sure else 0.45), 4),
        page=source.page if source is not None else 1,
        box=source.box if source is not None else None,
    )


def _set(fields: dict[str, Field], name: str, value: Decimal, confidence: float | None = None) -> None:
    f = fields[name]
    log.debug("repaired %s: %s -> %s", name, f.value, value)
    conf = round(f.confidence * 0.7, 4) if confidence is None else confidence
    fields[name] = f.model_copy(update={"value": money(value), "confidence": conf})


MONEY_FIELDS = _MONEY_FIELDS

"""Pharmacy purchase invoices (购药发票): VAT invoices (增值税普通发票, 电子发票（普通发票）, 全电/数电
发票) and general machine-printed invoices (通用机打发票) from a pharmacy (大药房, 药店) or a hospital.

They print no payer split and no fee categories: the seller (销售方 / 收款单位), the buyer (购买方 /
付款单位), the invoice's code, number, date and check code, the drugs as items (name, spec, unit,
quantity, unit price, amount, tax) and the total with tax (价税合计). Seller and buyer share one label
(名称) in two blocks: the block's heading, else the page's geometry (the buyer's block first: above
on paper invoices, to the left on 数电 ones) says which is which.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal

from ocr.elements import Page, TextLine
from ocr.layout import group_rows
from pipeline.extract.base import MONEY_2DP, WORDS_AS_READ, line_field, pair_pages, settle_words
from pipeline.extract.checks import parse_amount_words, parse_figure
from pipeline.extract.pairing import Key, norm, sub_box
from pipeline.records import Check, Field, FieldKind, LineItem, money

M, D = FieldKind.MONEY, FieldKind.DATE

KEYS: tuple[Key, ...] = (
    Key("invoice_code", ("发票代码",), pattern=r"(\d{10,12})", anywhere=True),
    Key("invoice_number", ("发票号码", "发票号"), pattern=r"(\d{8,20})", anywhere=True),
    Key("issue_date", ("开票日期", "填开日期", "开具日期", "日期"), D, anywhere=True),
    Key("check_code", ("校验码", "检验码"), pattern=r"([0-9A-Za-z ]{10,})", anywhere=True),
    Key("buyer", ("购买方名称", "购方名称", "付款方名称", "付款单位（个人）", "付款单位", "付款方")),
    Key("seller", ("销售方名称", "销方名称", "收款方名称", "收款单位名称", "收款单位", "收款方")),
    Key(
        "total_in_words",
        ("价税合计（大写）", "合计金额（大写）", "合计（大写）", "金额（大写）", "大写"),
        pattern=WORDS_AS_READ,
    ),
    Key("total_amount", ("（小写）", "小写", "合计金额（小写）", "价税合计"), M, pattern=MONEY_2DP),
)

SELLER_VALUE = re.compile(
    r"([\u4e00-\u9fff()（）]{2,}(?:大药房|药房|药店|药业|医药|医院|卫生院|诊所|门诊部|有限公司|连锁)"
    r"[\u4e00-\u9fff()（）]*)"
)
"""A seller's name: a pharmacy, a hospital or a company (with its branch in brackets)."""

_NAME_LABEL = re.compile(r"^(名\s*称|名称)\s*[:：]?\s*")
_BUYER_MARK, _SELLER_MARK = ("购买方", "购方", "付款"), ("销售方", "销方", "收款")
_COLUMNS = {
    "name": ("名称", "品名", "项目"),
    "spec": ("规格",),
    "unit": ("单位",),
    "quantity": ("数量",),
    "unit_price": ("单价",),
    "amount": ("金额",),
    "rate": ("税率", "征收率"),
    "tax": ("税额",),
}


MEDICAL_CATEGORY_WORDS = ("药", "医疗", "医用", "卫生", "生物制品", "器械", "保健", "诊疗", "检测")
"""Words of the national tax classification (税收分类编码简称, printed between asterisks before every
line of a VAT invoice: *西药*, *中成药*, *医疗器械*) that a medical purchase carries."""


def tax_categories(items: Sequence[LineItem]) -> list[str]:
    """The tax classification names the lines print (`*住宿服务*住宿费` -> 住宿服务)."""
    out = []
    for item in items:
        m = re.match(r"^[*＊]([^*＊]{2,12})[*＊]", unicodedata.normalize("NFKC", item.name))
        if m:
            out.append(m.group(1))
    return out


def non_medical_purchase(items: Sequence[LineItem]) -> list[str]:
    """The categories of a VAT invoice none of whose lines is a drug or medical good (a hotel, a
    taxi): empty when any line is medical or the lines print no category."""
    cats = tax_categories(items)
    if not cats or any(w in c for c in cats for w in MEDICAL_CATEGORY_WORDS):
        return []
    return cats


def read_pharmacy_invoice(pages: Sequence[Page]) -> tuple[dict[str, Field], list[LineItem], list[Check]]:
    """Fields and drug lines of a pharmacy invoice, and the checks the page alone allows."""
    fields = pair_pages(pages, KEYS)
    for page in pages:
        for name, found in _names(page).items():
            fields.setdefault(name, found)
    if "seller" not in fields:
        found = seller_by_name(pages)
        if found is not None:
            fields["seller"] = found
    if "total_amount" not in fields:
        found = _yuan_total(pages)
        if found is not None:
            fields["total_amount"] = found
    items = drug_items(pages)
    items_total = money(sum((i.amount for i in items), Decimal(0))) if items else None
    settle_words(fields, [items_total])
    words = fields.get("total_in_words")
    if "total_amount" not in fields and words is not None:
        parsed = parse_amount_words(str(words.value))
        if parsed is not None:
            fields["total_amount"] = words.model_copy(
                update={
                    "name": "total_amount",
                    "kind": M,
                    "value": parsed,
                    "confidence": words.confidence * 0.9,
                }
            )
    return fields, items, []


def _names(page: Page) -> dict[str, Field]:
    """Buyer and seller from the `名称` lines: by the block heading left of or above them, else by order."""
    found: list[tuple[TextLine, int, str]] = []
    rows = group_rows(page.lines)
    for row in rows:
        for c, ln in enumerate(row):
            text = unicodedata.normalize("NFKC", ln.text)
            m = _NAME_LABEL.search(text) if "名称" in norm(text)[:6] or "名 称" in text else None
            if m is None:
                continue
            value = text[m.end() :].strip(" :：")
            start = m.end()
            if not value and c + 1 < len(row):
                ln, value, start = row[c + 1], unicodedata.normalize("NFKC", row[c + 1].text), 0
            value = re.split(r"\s{2,}|纳税人识别号|统一社会信用代码", value)[0].strip()
            if len(norm(value)) >= 2 and not re.fullmatch(r"[\d\W]+", value):
                found.append((ln, start, value))
    out: dict[str, Field] = {}
    marks = [(ln, norm(ln.text)) for ln in page.lines]
    for ln, start, value in found:
        role = _role(ln, marks)
        if role is not None and role not in out:
            out[role] = line_field(role, ln, page.number, value, start=start, end=start + len(value))
    unnamed = [t for t in found if _role(t[0], marks) is None]
    if unnamed and not out:  # no headings read: the buyer's block comes first (above, or to the left)
        ordered = sorted(unnamed, key=lambda t: (t[0].bbox[1] // max(1.0, page.height * 0.05), t[0].bbox[0]))
        for role, (ln, start, value) in zip(("buyer", "seller"), ordered, strict=False):
            out[role] = line_field(role, ln, page.number, value, start=start, end=start + len(value))
    return out


def _role(line: TextLine, marks: Sequence[tuple[TextLine, str]]) -> str | None:
    """The block a `名称` line sits in: the nearest heading (购买方…/销售方…) to its left on its level,
    or above it within a few lines."""
    x0, y0, _, y1 = line.bbox
    h = max(1.0, y1 - y0)
    best: tuple[float, str] | None = None
    for other, text in marks:
        role = (
            "buyer" if text.startswith(_BUYER_MARK) else "seller" if text.startswith(_SELLER_MARK) else None
        )
        if role is None or other is line or len(text) > 8:
            continue
        ox0, oy0, ox1, oy1 = other.bbox
        left = ox1 <= x0 + h and oy0 - 3 * h <= y0 <= oy1 + h
        above = oy1 <= y0 + h / 2 and y0 - oy1 < 4 * h and abs(ox0 - x0) < 12 * h
        if not (left or above):
            continue
        d = (x0 - ox1) if left else (y0 - oy1) * 3
        if best is None or d < best[0]:
            best = (d, role)
    return best[1] if best else None


def seller_by_name(pages: Sequence[Page]) -> Field | None:
    """A pharmacy or hospital name printed alone (a title, the seal's text): the seller when no label says."""
    for page in pages:
        for ln in page.lines:
            text = unicodedata.normalize("NFKC", ln.text)
            m = SELLER_VALUE.search(text)
            if m and not re.search(r"发票|名称|购买|付款", text):
                return line_field("seller", ln, page.number, m.group(1), start=m.start(1), end=m.end(1),
                                  confidence=ln.score * 0.9)  # fmt: skip
    return None


def _yuan_total(pages: Sequence[Page]) -> Field | None:
    """The last `¥` amount on the page (价税合计 sits under the items), when no label was paired."""
    best: Field | None = None
    for page in pages:
        for ln in page.lines:
            text = unicodedata.normalize("NFKC", ln.text)
            for m in re.finditer(r"[¥￥Y]\s*(\d[\d,]*\.\d{2})", text):
                v = parse_figure(m.group(1))
                if v is not None and (best is None or v >= best.value):  # type: ignore[operator]
                    best = line_field(
                        "total_amount", ln, page.number, v, kind=M, start=m.start(1), end=m.end(1)
                    )
    return best


def drug_items(pages: Sequence[Page]) -> list[LineItem]:
    """The rows under the items' header (名称 … 金额) and above the 合计 row, read column by column."""
    items: list[LineItem] = []
    for page in pages:
        rows = group_rows(page.lines)
        header = next((k for k, r in enumerate(rows) if _is_header(r)), None)
        if header is None:
            continue
        cols = _column_centres(rows[header])
        for row in rows[header + 1 :]:
            joined = norm("".join(ln.text for ln in row))
            if joined.startswith(("合计", "价税合计", "小计")) or "大写" in joined:
                break
            item = _item(row, cols, page.number)
            if item is not None:
                items.append(item)
    return items


def _is_header(row: Sequence[TextLine]) -> bool:
    text = norm("".join(ln.text for ln in row))
    return ("名称" in text or "品名" in text or "项目" in text) and "金额" in text and len(text) < 60


def _column_centres(row: Sequence[TextLine]) -> dict[str, float]:
    """The x-centre of each column header; a header line holding several labels is split by share."""
    out: dict[str, float] = {}
    for ln in row:
        text = unicodedata.normalize("NFKC", ln.text)
        for col, labels in _COLUMNS.items():
            for label in labels:
                k = text.find(label)
                if k >= 0 and col not in out:
                    box = sub_box(ln, k, k + len(label))
                    out[col] = (box[0][0] + box[1][0]) / 2
                    break
    return out


def _item(row: Sequence[TextLine], cols: dict[str, float], page: int) -> LineItem | None:
    """One drug: each cell goes to the nearest column; the amount is the 金额 cell (tax apart)."""
    cells: dict[str, str] = {}
    for ln in row:
        cx = (ln.bbox[0] + ln.bbox[2]) / 2
        col = min(cols, key=lambda c: abs(cols[c] - cx)) if cols else "name"
        if ln.bbox[0] < cols.get("name", 0) and "name" not in cells:
            col = "name"  # a long name starting left of its centred header
        cells[col] = (cells.get(col, "") + " " + unicodedata.normalize("NFKC", ln.text)).strip()
    name = cells.get("name", "")
    if not re.search(r"[\u4e00-\u9fff]", name):
        return None
    amount = _figure(cells.get("amount"), two_places=True)
    if amount is None:  # the columns did not line up: the row's first two-decimal figure after the name
        figures = [parse_figure(m) for m in re.findall(MONEY_2DP, " ".join(cells.values()))]
        figures = [f for f in figures if f is not None]
        amount = figures[-2] if len(figures) >= 3 else figures[-1] if figures else None
    if amount is None or amount <= 0:
        return None
    tax = _figure(cells.get("tax"), two_places=True)
    if tax is not None and cells.get("amount") and tax < amount:
        amount = money(amount + tax)  # what the buyer paid for the line: 价税合计 adds up the lines
    quantity = _figure(cells.get("quantity")) or Decimal(1)
    price = _figure(cells.get("unit_price"))
    x0 = min(ln.bbox[0] for ln in row)
    y0 = min(ln.bbox[1] for ln in row)
    x1 = max(ln.bbox[2] for ln in row)
    y1 = max(ln.bbox[3] for ln in row)
    return LineItem(
        name=name.split(" ")[0],
        category="药品",
        quantity=quantity,
        unit_price=money(price) if price is not None else None,
        amount=amount,
        page=page,
        box=((x0, y0), (x1, y0), (x1, y1), (x0, y1)),
    )


def _figure(text: str | None, *, two_places: bool = False) -> Decimal | None:
    if not text:
        return None
    m = re.search(MONEY_2DP if two_places else r"(\d+(?:\.\d+)?)", text.replace(" ", ""))
    if m is None:
        return None
    try:
        return money(m.group(1).replace(",", "")) if two_places else Decimal(m.group(1))
    except (ValueError, ArithmeticError):
        return None

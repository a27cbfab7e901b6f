"""Expense lists (费用清单): the header fields and the table of billed items, page by page.

The table is found by its header row (日期 项目编码 项目名称 类别 医保 单位 数量 单价 金额); its
column x-positions bound the table, and every row under it, up to the page subtotal (本页小计), is
read as one item. Cells are told apart by what they hold, in the header's left-to-right order
(a 甲/乙/丙 class, a unit, a quantity, two amounts), because OCR may glue neighbouring narrow cells
into one line and a left-aligned cell rarely sits under the centre of its header.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from ocr.elements import Page, TextLine
from ocr.layout import group_rows
from pipeline.extract.base import MONEY_2DP, WORDS_AS_READ, pair_pages, settle_words
from pipeline.extract.pairing import Key, similar
from pipeline.records import Field, FieldKind, LineItem, money

log = logging.getLogger(__name__)

M, D = FieldKind.MONEY, FieldKind.DATE

KEYS: tuple[Key, ...] = (
    Key("patient_name", ("姓名", "患者姓名")),
    Key("hospital_number", ("住院号", "门诊号", "病历号"), pattern=r"([A-Za-z]{0,3}\d{4,})"),
    Key("department", ("科室", "科别")),
    Key("admission_date", ("入院日期", "入院时间"), D),
    Key("discharge_date", ("出院日期", "出院时间"), D),
    Key("visit_date", ("就诊日期",), D),
    Key("insurance_type", ("医保类型", "医保类别")),
    Key("page_total", ("本页小计", "小计"), M, pattern=MONEY_2DP),
    Key("total_amount", ("费用合计", "合计金额", "总计", "合计"), M, pattern=MONEY_2DP),
    Key("total_in_words", ("大写",), pattern=WORDS_AS_READ),
    Key("print_date", ("打印日期",), D),
)

HEADERS = ("日期", "项目编码", "项目名称", "类别", "医保", "单位", "数量", "单价", "金额")
_END = re.compile(r"(本页)?小计|合计|总计")
_NUM = r"\d+(?:\.\d+)?"
_ROW = re.compile(
    rf"^(?:(?P<date>\d{{1,4}}[-/.]\d{{1,2}}(?:[-/.]\d{{1,2}})?)\s+)?"
    rf"(?:(?P<code>[0-9A-Za-z]{{5,}})\s+)?"
    rf"(?P<name>.+?)\s*"
    rf"(?P<category>[^\s]{{1,5}}费)\s*"
    rf"(?P<cls>[甲乙丙])类?\s*"
    rf"(?P<unit>[^\s\d]{{1,3}})?\s*"
    rf"(?P<qty>{_NUM})?\s+"
    rf"(?P<price>\d[\d,]*\.\d{{1,4}})\s+"
    rf"(?P<amount>\d[\d,]*\.\d{{2}})$"
)


def extract_expense_list(pages: Sequence[Page]) -> tuple[dict[str, Field], list[LineItem]]:
    fields = pair_pages(pages, KEYS)
    fields.pop("print_date", None)
    items: list[LineItem] = []
    for page in pages:
        items.extend(table_items(page))
    # on a one-page list the items and the page subtotal are two more readings of the total
    subtotal = fields.get("page_total")
    items_total = money(sum((i.amount for i in items), Decimal(0))) if items else None
    settle_words(fields, (items_total, subtotal.value if subtotal is not None else None))
    return fields, items


def header_row(rows: list[list[TextLine]]) -> int | None:
    """Index of the row that holds most of the table's column titles (at least four)."""
    best, best_n = None, 3
    for r, row in enumerate(rows):
        cells = [c for ln in row for c in unicodedata.normalize("NFKC", ln.text).split()]
        n = sum(1 for h in HEADERS if any(similar(c, h) >= 0.66 for c in cells))
        if n > best_n:
            best, best_n = r, n
    return best


def table_items(page: Page) -> list[LineItem]:
    rows = group_rows(page.lines)
    h = header_row(rows)
    if h is None:
        return []
    head = rows[h]
    x_min = min(ln.bbox[0] for ln in head)
    x_max = max(ln.bbox[2] for ln in head)
    width = x_max - x_min
    items: list[LineItem] = []
    for row in rows[h + 1 :]:
        text = " ".join(unicodedata.normalize("NFKC", ln.text).strip() for ln in row)
        if _END.search(text.replace(" ", "")):
            break
        cells = [
            ln for ln in row if ln.bbox[2] >= x_min - 0.05 * width and ln.bbox[0] <= x_max + 0.05 * width
        ]
        if not cells:
            continue
        item = parse_row(cells, page.number)
        if item is not None:
            items.append(item)
        else:
            log.debug("page %d: table row not read: %s", page.number, text)
    return items


def parse_row(cells: Sequence[TextLine], page: int = 1) -> LineItem | None:
    """One table row (its lines left to right) as a line item; None when it is not one."""
    text = " ".join(unicodedata.normalize("NFKC", ln.text).strip() for ln in cells)
    text = re.sub(r"\s+", " ", text).replace(",", "")
    m = _ROW.match(text)
    if m is None:
        return None
    try:
        amount = money(m.group("amount"))
        price = money(m.group("price"))
        qty = Decimal(m.group("qty")) if m.group("qty") else None
    except (InvalidOperation, ValueError):
        return None
    if qty is None or qty <= 0:
        qty = (amount / price).quantize(Decimal("0.01")).normalize() if price else Decimal(1)
    elif money(qty * price) != amount and price and money(amount / price * 1) == money(qty):
        pass
    name = m.group("name").strip()
    name_cells = [ln for ln in cells if name[:2] and name[:2] in unicodedata.normalize("NFKC", ln.text)]
    start = name_cells[0] if name_cells else cells[0]
    x0 = min(p[0] for p in start.box)
    x1 = max(p[0] for p in cells[-1].box)
    y0 = min(min(p[1] for p in ln.box) for ln in cells)
    y1 = max(max(p[1] for p in ln.box) for ln in cells)
    return LineItem(
        name=name,
        category=m.group("category"),
        insurance_class=m.group("cls"),  # type: ignore[arg-type]
        quantity=qty,
        unit_price=price,
        amount=amount,
        page=page,
        box=((x0, y0), (x1, y0), (x1, y1), (x0, y1)),
    )

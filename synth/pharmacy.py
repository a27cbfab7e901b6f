"""Pharmacy purchase invoices (购药发票) with their truth: what a claimant who bought drugs at a pharmacy
(大药房, 药店) or a hospital's pharmacy sends beside the medical bills.

Four layout families, as they arrive in real packets: the paper VAT invoice (增值税普通发票, 购买方 block
above the items, 销售方 block below, 密码区), its PDF twin (增值税电子普通发票, QR code top left), the
数电 e-invoice (电子发票（普通发票）, buyer and seller side by side, a 20-digit number and no code) and the
general machine-printed invoice (通用机打发票, narrow, 收款单位 / 付款单位). The same drawers draw any
sale, so `synth.other_docs` draws hotel, taxi and restaurant VAT invoices (not claim documents) with
them. Every value is drawn with its field name, so the truth (fields with boxes) travels with the page.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pipeline.records import FieldKind, LineItem, money
from synth.amounts import amount_in_words
from synth.catalog import ITEM_GROUPS
from synth.render import INK, PRINTER_INK, Canvas, rect_box

LAYOUTS = ("vat_paper", "vat_e", "digital", "general")
"""The layout families of a pharmacy invoice (also the families `bench.doctype` leaves out in turn)."""

PROVINCES = ("北京", "上海", "广东", "浙江", "江苏", "山东", "河南", "湖南", "四川", "福建", "安徽", "湖北")
_CITY = (
    "长沙",
    "广州",
    "深圳",
    "杭州",
    "南京",
    "济南",
    "郑州",
    "成都",
    "福州",
    "合肥",
    "武汉",
    "佛山",
    "苏州",
)
_BRAND = (
    "老百姓", "益丰", "一心堂", "大参林", "海王星辰", "国大", "同仁堂", "华润", "漱玉", "健之佳", "康佰家",
    "好药师", "仁和", "百姓缘", "众友", "养天和", "金象", "德生堂",
)  # fmt: skip
_BRANCH = ("五一", "人民路", "中山", "解放", "建设", "新华", "东风", "光明", "和平", "滨江", "高新", "万达")
_KIND = ("大药房", "大药房", "药房", "药店", "医药连锁", "大药房连锁")
_HOSPITALS = ("人民医院", "中医院", "第一人民医院", "中心医院", "妇幼保健院", "社区卫生服务中心")
_SPECS = ("0.25g*24粒", "0.5g*20片", "10ml*10支", "100ml", "5g*10袋", "0.3g*12片*2板", "24粒", "20片", "1支")
_OTC = (
    ("感冒灵颗粒", "盒", (10, 25)), ("板蓝根颗粒", "盒", (8, 20)), ("999皮炎平软膏", "支", (8, 16)),
    ("维生素C片", "瓶", (3, 12)), ("氯雷他定片", "盒", (15, 35)), ("健胃消食片", "盒", (8, 18)),
    ("六味地黄丸", "盒", (15, 40)), ("医用外科口罩", "包", (5, 20)), ("碘伏消毒液", "瓶", (5, 15)),
    ("葡萄糖酸钙口服溶液", "盒", (20, 45)), ("红霉素软膏", "支", (3, 8)), ("藿香正气水", "盒", (6, 16)),
    ("电子血压计", "台", (150, 400)), ("医用棉签", "包", (2, 8)), ("金银花露", "瓶", (5, 12)),
)  # fmt: skip
_RATES = ("13%", "13%", "9%", "免税", "3%", "1%")


@dataclass
class SaleLine:
    """One line of a VAT invoice: what was sold, how much of it, and the tax in the price."""

    name: str
    spec: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    rate: str
    tax: Decimal

    @property
    def paid(self) -> Decimal:
        return money(self.amount + self.tax)


@dataclass
class Sale:
    """What an invoice records: who sold to whom, when, under which numbers, the lines and the total."""

    seller: str
    seller_tax_id: str
    buyer: str
    buyer_tax_id: str
    issue_date: dt.date
    invoice_code: str
    invoice_number: str
    check_code: str
    lines: list[SaleLine] = field(default_factory=list)
    province: str = "广东"

    @property
    def total(self) -> Decimal:
        return money(sum((ln.paid for ln in self.lines), Decimal(0)))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def tax_id(rng: random.Random) -> str:
    """A 统一社会信用代码-shaped seller or buyer number (18 characters)."""
    return "91" + _digits(rng, 6) + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(10))


def pharmacy_name(rng: random.Random) -> str:
    """A pharmacy (大药房 with its branch) or, one time in four, a hospital selling drugs."""
    city = rng.choice(_CITY)
    if rng.random() < 0.25:
        return f"{city}市{rng.choice(_HOSPITALS)}"
    shop = f"{rng.choice(_BRAND)}{rng.choice(_KIND)}"
    form = rng.random()
    if form < 0.4:
        return f"{city}{shop}有限公司{rng.choice(_BRANCH)}分店"
    if form < 0.7:
        return f"{shop}（{city}{rng.choice(_BRANCH)}店）"
    return f"{city}市{shop}股份有限公司"


def sale_line(rng: random.Random, name: str, unit: str, price: tuple[float, float], rate: str) -> SaleLine:
    """A line whose tax is inside the price, as shop tills issue them: amount + tax = what was paid."""
    qty = Decimal(rng.choice((1, 1, 1, 2, 2, 3, 5)))
    paid_each = money(Decimal(str(round(rng.uniform(*price), 1))))
    paid = money(paid_each * qty)
    pct = Decimal(rate.rstrip("%")) / 100 if rate.endswith("%") else Decimal(0)
    amount = money(paid / (1 + pct))
    unit_price = (amount / qty).quantize(Decimal("0.000001")).normalize()
    return SaleLine(name, rng.choice(_SPECS), unit, qty, unit_price, amount, rate, money(paid - amount))


def drug_sale(rng: random.Random, buyer: str, on: dt.date, *, seller: str | None = None) -> Sale:
    """A purchase of one to six drugs (prescription drugs of the catalogue and over-the-counter ones)."""
    drugs = [it for key, group in ITEM_GROUPS.items() if key.endswith("_drugs") for it in group]
    rate = rng.choice(_RATES[:4])
    lines = []
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.5:
            it = rng.choice(drugs)
            name, unit, price = it.name, it.unit, it.price
        else:
            name, unit, price = rng.choice(_OTC)
        cat = (
            "中成药"
            if any(w in name for w in ("颗粒", "丸", "胶囊", "口服液")) and rng.random() < 0.5
            else "西药"
        )
        if rng.random() < 0.4:
            cat = rng.choice(("化学药品制剂", "中成药", "医疗器械", "卫生用品"))
        lines.append(sale_line(rng, f"*{cat}*{name}", unit, price, rate))
    return new_sale(rng, seller or pharmacy_name(rng), buyer, on, lines)


def new_sale(rng: random.Random, seller: str, buyer: str, on: dt.date, lines: list[SaleLine]) -> Sale:
    """A sale with fresh numbers: a 12-digit code and 8-digit number (paper), 20 digits (数电)."""
    province = rng.choice(PROVINCES)
    return Sale(
        seller=seller,
        seller_tax_id=tax_id(rng),
        buyer=buyer,
        buyer_tax_id=tax_id(rng) if rng.random() < 0.3 else "",
        issue_date=on,
        invoice_code="0" + _digits(rng, 11),
        invoice_number=_digits(rng, 8),
        check_code=" ".join(_digits(rng, 5) for _ in range(4)),
        lines=lines,
        province=province,
    )


# --- drawing --------------------------------------------------------------------------------------


def draw_invoice(
    sale: Sale, layout: str, rng: random.Random, *, fields: bool = True
) -> tuple[Canvas, list[LineItem]]:
    """One invoice page in `layout` (one of LAYOUTS) and its lines as items with their boxes.
    Without `fields` nothing is recorded as truth (an `other` document has no fields of ours)."""
    draw = {"vat_paper": _vat, "vat_e": _vat, "digital": _digital, "general": _general}[layout]
    return draw(sale, layout, rng, _Pen(sale, fields))


@dataclass
class _Pen:
    """The truth's field names only when the document is one of ours."""

    sale: Sale
    record: bool

    def name(self, name: str) -> str | None:
        return name if self.record else None


def _date_text(d: dt.date, rng: random.Random) -> str:
    return rng.choice((f"{d:%Y}年{d:%m}月{d:%d}日", f"{d:%Y}年{d:%m}月{d:%d}日", f"{d:%Y-%m-%d}"))


def _vat(sale: Sale, layout: str, rng: random.Random, pen: _Pen) -> tuple[Canvas, list[LineItem]]:
    """增值税(电子)普通发票: header numbers right, 购买方 block, items grid, 价税合计, 销售方 block."""
    e = layout == "vat_e"
    c = Canvas(1600, 1040, paper=(255, 255, 255) if e else (250, 248, 240))
    ink = (120, 60, 40) if not e else (150, 90, 50)  # the form's brown print
    val = PRINTER_INK
    title = f"{sale.province}增值税{'电子' if e else ''}普通发票"
    c.text(800, 40, title, 44, face="serif", fill=ink, anchor="ma")
    c.hline(560, 1040, 100, fill=ink, width=3)
    if e:
        c.qr(60, 30, 130, rng)
    else:
        c.text(60, 50, sale.invoice_code[:10], 30, fill=val)
        c.text(800, 110, "发票联" if rng.random() < 0.5 else "", 26, fill=ink, anchor="ma")
    x, y = 1130, 40
    for label, name, value, kind in (
        ("发票代码：", "invoice_code", sale.invoice_code, FieldKind.TEXT),
        ("发票号码：", "invoice_number", sale.invoice_number, FieldKind.TEXT),
        ("开票日期：", "issue_date", _date_text(sale.issue_date, rng), FieldKind.DATE),
        ("校 验 码：", "check_code", sale.check_code, FieldKind.TEXT),
    ):
        lb = c.text(x, y, label, 22, fill=ink)
        value_of = sale.issue_date.isoformat() if kind is FieldKind.DATE else value.replace(" ", "")
        c.text(lb[2] + 6, y, value, 22, fill=val, name=pen.name(name), kind=kind, value=value_of)
        y += 34
    top = 190
    c.rect(40, top, 1560, 960, outline=ink)
    _party_block(c, pen, "购买方", sale.buyer, sale.buyer_tax_id, "buyer", 40, top, 1000, ink, vertical=True)
    c.vline(1000, top, top + 150, fill=ink)
    c.text(1020, top + 10, "密码区", 22, fill=ink)
    for k in range(4):
        c.text(
            1100, top + 12 + k * 32, "".join(rng.choice("0123456789+-*/<>") for _ in range(28)), 20, fill=val
        )
    c.hline(40, 1560, top + 150, fill=ink)
    items, y = _items_grid(c, sale, pen, 40, top + 150, 1560, ink, tax=True)
    c.hline(40, 1560, y, fill=ink)
    words = amount_in_words(sale.total)
    c.text(60, y + 14, "价税合计（大写）", 24, fill=ink)
    c.text(330, y + 14, "⊗" + words if rng.random() < 0.5 else words, 24, fill=val,
           name=pen.name("total_in_words"), value=words)  # fmt: skip
    lb = c.text(1100, y + 14, "（小写）", 24, fill=ink)
    c.text(lb[2] + 8, y + 14, f"¥{sale.total}", 24, fill=val, name=pen.name("total_amount"),
           kind=FieldKind.MONEY, value=str(sale.total))  # fmt: skip
    y += 56
    c.hline(40, 1560, y, fill=ink)
    _party_block(c, pen, "销售方", sale.seller, sale.seller_tax_id, "seller", 40, y, 1000, ink, vertical=True)
    c.vline(1000, y, 960, fill=ink)
    c.text(1020, y + 10, "备注", 22, fill=ink)
    c.text(100, 975, "收款人：", 22, fill=ink)
    c.text(500, 975, "复核：", 22, fill=ink)
    c.text(900, 975, "开票人：" + rng.choice(("管理员", "收银员", "张敏", "李娜")), 22, fill=ink)
    c.text(1250, 975, "销售方：（章）", 22, fill=ink)
    c.seal(1250, 870, 70, sale.seller[:12], "发票专用章", rng=rng, oval=True)
    return c, items


def _party_block(
    c: Canvas, pen: _Pen, role: str, name: str, number: str, field_name: str,
    x0: float, y0: float, x1: float, ink: tuple[int, int, int], *, vertical: bool,
) -> None:  # fmt: skip
    """名称 / 纳税人识别号 / 地址、电话 / 开户行及账号 under a role written top to bottom on the left."""
    if vertical:
        for k, ch in enumerate(role):
            c.text(x0 + 14, y0 + 14 + k * 40, ch, 26, fill=ink)
    else:
        c.text(x0 + 14, y0 + 10, role + "信息", 24, fill=ink)
    lx = x0 + 60
    y = y0 + (12 if vertical else 46)
    for label, value, nm in (
        ("名        称：", name, field_name),
        ("纳税人识别号：", number, None),
        ("地 址、电 话：", "", None),
        ("开户行及账号：", "", None),
    ):
        lb = c.text(lx, y, label if vertical else label.replace(" ", ""), 22, fill=ink)
        c.text(lb[2] + 8, y, value, 22, fill=PRINTER_INK, name=pen.name(nm) if nm else None)
        y += 34


def _items_grid(
    c: Canvas, sale: Sale, pen: _Pen, x0: float, y0: float, x1: float, ink: tuple[int, int, int], *, tax: bool
) -> tuple[list[LineItem], float]:
    """Header, one row per line, the 合计 row, every value in its column; the items and the y below."""
    heads = ["货物或应税劳务、服务名称", "规格型号", "单位", "数量", "单价", "金额"]
    widths = [0.34, 0.13, 0.07, 0.08, 0.13, 0.12]
    if tax:
        heads += ["税率", "税额"]
        widths += [0.06, 0.07]
    if not tax or _short_name_head(sale):
        heads[0] = "项目名称"
    scale = (x1 - x0) / sum(widths)
    xs = [x0]
    for w in widths:
        xs.append(xs[-1] + w * scale)
    y = y0 + 8
    for k, h in enumerate(heads):
        c.text((xs[k] + xs[k + 1]) / 2, y, h, 20, fill=ink, anchor="ma")
    y += 36
    items: list[LineItem] = []
    for ln in sale.lines:
        cells = [ln.name, ln.spec, ln.unit, str(ln.quantity), f"{ln.unit_price}", f"{ln.amount}"]
        if tax:
            cells += [ln.rate, f"{ln.tax}" if ln.rate != "免税" else "***"]
        boxes = []
        for k, text in enumerate(cells):
            size = c.fit_size(text, 20, xs[k + 1] - xs[k] - 8)
            if k == 0:
                boxes.append(c.text(xs[0] + 8, y, text, size, fill=PRINTER_INK))
            else:
                boxes.append(c.text(xs[k + 1] - 6, y, text, size, fill=PRINTER_INK, anchor="ra"))
        bx0, by0 = boxes[0][0], min(b[1] for b in boxes)
        bx1, by1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        paid = ln.paid if tax else ln.amount
        items.append(LineItem(name=ln.name, category="药品", quantity=ln.quantity, unit_price=None,
                              amount=paid, box=rect_box(bx0, by0, bx1, by1)))  # fmt: skip
        y += 32
    y = max(y + 10, y0 + 190)
    c.text(xs[0] + 60, y, "合    计", 22, fill=ink)
    c.text(xs[6] - 6, y, f"¥{money(sum((ln.amount for ln in sale.lines), Decimal(0)))}", 20,
           fill=PRINTER_INK, anchor="ra")  # fmt: skip
    if tax:
        c.text(xs[8] - 6, y, f"¥{money(sum((ln.tax for ln in sale.lines), Decimal(0)))}", 20,
               fill=PRINTER_INK, anchor="ra")  # fmt: skip
    return items, y + 40


def _short_name_head(sale: Sale) -> bool:
    """数电 invoices and half the others head the name column 项目名称 (by the invoice number: stable)."""
    return len(sale.invoice_number) == 20 or int(sale.invoice_number[-1]) % 2 == 0


def _digital(sale: Sale, layout: str, rng: random.Random, pen: _Pen) -> tuple[Canvas, list[LineItem]]:
    """电子发票（普通发票）, 数电: red title, 20-digit number, buyer and seller side by side, no code."""
    sale.invoice_number = sale.issue_date.strftime("%y") + _digits(rng, 18)
    sale.invoice_code, sale.check_code = "", ""
    c = Canvas(1600, 980)
    red = (170, 40, 40)
    c.text(800, 36, "电子发票（普通发票）", 44, face="serif", fill=red, anchor="ma")
    c.hline(600, 1000, 96, fill=red, width=3)
    c.hline(600, 1000, 102, fill=red, width=2)
    c.qr(50, 30, 120, rng)
    y = 50
    lb = c.text(1150, y, "发票号码：", 22, fill=INK)
    c.text(lb[2] + 6, y, sale.invoice_number, 22, fill=INK, name=pen.name("invoice_number"))
    lb = c.text(1150, y + 36, "开票日期：", 22, fill=INK)
    text = f"{sale.issue_date:%Y}年{sale.issue_date:%m}月{sale.issue_date:%d}日"
    c.text(lb[2] + 6, y + 36, text, 22, fill=INK, name=pen.name("issue_date"), kind=FieldKind.DATE,
           value=sale.issue_date.isoformat())  # fmt: skip
    top = 170
    c.rect(40, top, 1560, 900, outline=red)
    c.vline(800, top, top + 150, fill=red)
    for role, name, number, fname, x in (
        ("购买方", sale.buyer, sale.buyer_tax_id, "buyer", 40),
        ("销售方", sale.seller, sale.seller_tax_id, "seller", 800),
    ):
        for k, ch in enumerate(role + "信息"):
            c.text(x + 12, top + 8 + k * 23, ch, 20, fill=red)
        lb = c.text(x + 60, top + 30, "名称：", 22, fill=red)
        c.text(lb[2] + 6, top + 30, name, 22, fill=INK, name=pen.name(fname))
        lb = c.text(x + 60, top + 80, "统一社会信用代码/纳税人识别号：", 20, fill=red)
        c.text(lb[2] + 6, top + 80, number, 20, fill=INK)
    c.hline(40, 1560, top + 150, fill=red)
    items, y = _items_grid(c, sale, pen, 40, top + 150, 1560, red, tax=True)
    c.hline(40, 1560, y, fill=red)
    words = amount_in_words(sale.total)
    c.text(60, y + 14, "价税合计（大写）", 24, fill=red)
    c.text(330, y + 14, "⊗" + words, 24, fill=INK, name=pen.name("total_in_words"), value=words)
    lb = c.text(1100, y + 14, "（小写）", 24, fill=red)
    c.text(lb[2] + 8, y + 14, f"¥{sale.total}", 24, fill=INK, name=pen.name("total_amount"),
           kind=FieldKind.MONEY, value=str(sale.total))  # fmt: skip
    c.hline(40, 1560, y + 56, fill=red)
    c.text(60, y + 70, "备注", 22, fill=red)
    c.text(100, 915, "开票人：" + rng.choice(("管理员", "收银员", "王芳")), 22, fill=red)
    c.seal(800, 60, 60, f"全国统一发票监制章 国家税务总局{sale.province}省税务局", rng=rng, oval=True)
    return c, items


def _general(sale: Sale, layout: str, rng: random.Random, pen: _Pen) -> tuple[Canvas, list[LineItem]]:
    """通用机打发票: a narrow till-printed form, 付款单位 / 收款单位, items without tax, 合计 in words."""
    c = Canvas(1000, 1300, paper=(252, 250, 246))
    ink = (60, 60, 140) if rng.random() < 0.5 else (150, 60, 60)
    c.text(500, 36, f"{sale.province}省通用机打发票", 40, face="serif", fill=ink, anchor="ma")
    c.text(500, 96, "发  票  联", 26, fill=ink, anchor="ma")
    y = 150
    for label, name, value in (
        ("发票代码", "invoice_code", sale.invoice_code),
        ("发票号码", "invoice_number", sale.invoice_number),
        ("机打号码", None, sale.invoice_number),
        ("机器编号", None, _digits(rng, 12)),
        ("收款单位名称", "seller", sale.seller),
        ("付款单位（个人）", "buyer", sale.buyer),
        ("开票日期", "issue_date", f"{sale.issue_date:%Y-%m-%d}"),
    ):
        lb = c.text(60, y, label + rng.choice(("：", ":", " ")), 24, fill=ink)
        kind = FieldKind.DATE if name == "issue_date" else FieldKind.TEXT
        truth = sale.issue_date.isoformat() if name == "issue_date" else value
        c.text(lb[2] + 10, y, value, 24, fill=PRINTER_INK, name=pen.name(name) if name else None,
               kind=kind, value=truth)  # fmt: skip
        y += 42
    c.hline(40, 960, y + 4, fill=ink)
    heads, xs = ("项目", "规格", "单位", "数量", "单价", "金额"), (60, 420, 590, 680, 790, 940)
    y += 16
    for k, h in enumerate(heads):
        c.text(xs[k] if k == 0 else xs[k] - 10, y, h, 22, fill=ink, anchor="la" if k == 0 else "ra")
    y += 40
    items = []
    for ln in sale.lines:
        paid = ln.paid
        price = money(paid / ln.quantity)
        cells = (ln.name.split("*")[-1], ln.spec, ln.unit, str(ln.quantity), str(price), str(paid))
        boxes = [
            c.text(xs[k] if k == 0 else xs[k] - 10, y, c_text, c.fit_size(c_text, 22, 340 if k == 0 else 160),
                   fill=PRINTER_INK, anchor="la" if k == 0 else "ra")
            for k, c_text in enumerate(cells)
        ]  # fmt: skip
        box = rect_box(
            boxes[0][0], min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)
        )
        items.append(LineItem(name=cells[0], category="药品", quantity=ln.quantity, unit_price=price,
                              amount=paid, box=box))  # fmt: skip
        y += 36
    y = max(y + 20, 760)
    c.hline(40, 960, y, fill=ink)
    words = amount_in_words(sale.total)
    lb = c.text(60, y + 16, "合计金额（大写）", 24, fill=ink)
    c.text(lb[2] + 10, y + 16, words, 24, fill=PRINTER_INK, name=pen.name("total_in_words"))
    lb = c.text(60, y + 60, "合计金额（小写）", 24, fill=ink)
    c.text(lb[2] + 10, y + 60, f"¥{sale.total}", 24, fill=PRINTER_INK, name=pen.name("total_amount"),
           kind=FieldKind.MONEY, value=str(sale.total))  # fmt: skip
    c.text(60, y + 120, "收款单位（盖章）", 22, fill=ink)
    c.text(560, y + 120, "开票人：" + rng.choice(("001", "收银01", "刘洋")), 22, fill=ink)
    c.text(60, y + 170, "手写无效  查询网址：www.etax.gov.cn", 18, fill=ink)
    c.seal(300, y + 110, 70, sale.seller[:12], "发票专用章", rng=rng, oval=True)
    c.crop_height(int(y + 220))
    return c, items


def pick_layout(rng: random.Random, layouts: Sequence[str] = LAYOUTS) -> str:
    return rng.choice(list(layouts))

"""The national medical e-bill (医疗门诊/住院收费票据（电子）) as most regions issue it since 2019-2020.

One layout family with the variety real bills show, not one template: the region's title with the
财政部监制 oval seal over it and the QR code top right; 票据代码 / 票据号码 / 校验码 / 开票日期 and
交款人 with its 统一社会信用代码 (some regions print 电子票据代码 and a 票据名称 line); a grid of fee
categories in two or three column groups, with or without 数量/单位; 金额合计 in words and figures; the
其他信息 block in one of two arrangements: the national one (业务流水号, 门诊号/住院号, 就诊日期 or 住院时间,
医疗机构类型, 医保类型, 医保编号, 性别, 医保统筹基金支付, 其他支付, 个人账户支付, 个人现金支付, 个人自付, 个人
自费, with 预缴/补缴/退费 on inpatient bills and sometimes a line of 住院天数 and the other funds), or the
settlement one some regions print (起付标准, 乙类首自付, 按比例自付, 大额(病)保险报销, 公务员补助, 医疗救助,
其他医保支付 ...); 收款单位（章） with the hospital's seal, 复核人, 收款人; sometimes a line telling where to
verify it. Label wording, font sizes, colours, the shape of dates and amounts and which optional
lines appear all vary. The QR code encodes the bill's five elements (`pipeline.extract.qr.payload`).
A bill arrives as its PDF or printed on A4 and photographed or scanned (`BillTruth.printed`).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from pipeline.extract.qr import payload
from pipeline.records import ClaimType, DocType, FieldKind, LineItem, money
from synth import catalog
from synth.render import INK, SEAL_RED, Canvas, font, rect_box
from synth.truth import BillTruth, ClaimTruth, DocumentTruth

M, D, T = FieldKind.MONEY, FieldKind.DATE, FieldKind.TEXT
E_BILL_LAYOUTS = ("ebill", "e_invoice")
"""The regional e-bill drawn here, and the older nationwide page (bills.e_invoice) kept as a variant."""
E_BILL_SHARE = 0.45
"""Bills issued as the national e-bill (财政电子票据): most regions since 2020."""
FISCAL_SHARE = 0.75
"""Of the e-bills, the share drawn in the regional layouts here (the rest as bills.e_invoice)."""
PRINTED_SHARE = 0.5
"""Of those, the share that arrives printed and photographed or scanned rather than as the PDF."""
WIDTH, A4 = 1366, (1684, 1190)
"""The bill at 2 px per PDF point (241 mm wide), and an A4 sheet in landscape it is printed on."""
BILL_NAMES = {"材料费": ("卫生材料费", "材料费", "卫生材料费")}
"""Fee categories some bills print under another name."""


def bill_layout(rng: random.Random, paper: str) -> str:
    """The layout of a claim's bill: an e-bill (regional or the older page) or the hospital's paper."""
    if rng.random() >= E_BILL_SHARE:
        return paper
    return "ebill" if rng.random() < FISCAL_SHARE else "e_invoice"


def fiscal_ebill(rng: random.Random, bill: BillTruth, social: bool, claim_type: ClaimType) -> BillTruth:
    """A bill as a regional e-bill: issuing region, 票据代码 (region, 06, 01/02, year), 校验码, PDF or
    printout, and the funds beside 统筹 an insured inpatient's bill may show (大额(病)保险 ...)."""
    if bill.layout != "ebill":
        return bill
    sub = random.Random(rng.getrandbits(64))  # one draw of the claim's stream, whatever is drawn here
    region, code = sub.choice(catalog.FISCAL_REGIONS)
    kind = "02" if claim_type is ClaimType.INPATIENT else "01"
    hexa = sub.random() < 0.7
    alphabet = "0123456789abcdef" if hexa else "0123456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
    funds: dict[str, Decimal] = {}
    left = bill.items_total - bill.fund_paid - bill.account_paid
    if social and kind == "02" and left > 1000 and sub.random() < 0.45:
        names = ("serious_illness_paid", "serious_illness_paid", "civil_servant_paid", "medical_aid_paid")
        funds[sub.choice(names)] = money(left * Decimal(str(round(sub.uniform(0.05, 0.35), 2))))
    return bill.model_copy(
        update={
            "issuer": region,
            "invoice_code": f"{code}06{kind}{bill.issue_date:%y}",
            "check_code": "".join(sub.choice(alphabet) for _ in range(6)),
            "printed": sub.random() < PRINTED_SHARE,
            "funds": funds,
            "cash_paid": money(left - sum(funds.values(), Decimal(0))),
        }
    )


@dataclass(frozen=True)
class Style:
    """What varies from one region's (or one printer's) e-bill to another's."""

    groups: int
    quantity: bool
    settlement: bool
    ink: tuple[int, int, int]
    size: int
    thousands: bool
    by_column: bool
    e_prefix: bool
    name_line: bool
    verify_line: bool
    funds_line: bool
    zero: str
    date_shape: int
    title_face: str


def pick_style(rng: random.Random, inpatient: bool) -> Style:
    style = Style(
        groups=rng.choice((2, 3, 3)) if inpatient else rng.choice((2, 2, 3)),
        quantity=rng.random() < (0.25 if inpatient else 0.6),
        settlement=rng.random() < 0.35,
        ink=rng.choice(((190, 60, 40), (200, 40, 40), (150, 75, 40), (120, 70, 30), (60, 60, 60))),
        size=rng.choice((18, 19, 20, 21)),
        thousands=rng.random() < 0.4,
        by_column=rng.random() < 0.5,
        e_prefix=rng.random() < 0.2,
        name_line=rng.random() < 0.15,
        verify_line=rng.random() < 0.4,
        funds_line=rng.random() < 0.5,
        zero=rng.choice(("0", "0.00", "0.00")),
        date_shape=rng.randrange(5),
        title_face=rng.choice(("serif", "serif", "sans")),
    )
    if style.groups == 3 and style.quantity:  # four columns a group do not fit three times across
        style = Style(**{**style.__dict__, "quantity": False})
    return style


def _amount(v: Decimal, style: Style, *, zero: str | None = None) -> str:
    if v == 0:
        return style.zero if zero is None else zero
    return f"{v:,.2f}" if style.thousands else f"{v:.2f}"


def _stay_text(a: object, b: object, shape: int) -> tuple[str, str, str]:
    """The two dates of a stay and what is printed between them, in one of the shapes bills use."""
    if shape == 0:
        return f"{a:%Y%m%d}", "|", f"{b:%Y%m%d}"
    if shape == 1:
        return f"{a:%Y-%m-%d}", "~", f"{b:%Y-%m-%d}"
    if shape == 2:
        return f"{a:%Y-%m-%d}", "-", f"{b:%Y-%m-%d}"
    if shape == 3:
        return f"{a:%Y-%m-%d}", "至", f"{b:%Y-%m-%d}"
    return f"{a:%Y年%m月%d日}", "到", f"{b:%Y年%m月%d日}"


def _visit_text(d: object, shape: int) -> str:
    return (f"{d:%Y%m%d}", f"{d:%Y-%m-%d}", f"{d:%Y年%m月%d日}")[shape % 3]


class _Page:
    """The canvas and where the bill sits on it (at the origin for the PDF, on an A4 sheet printed)."""

    def __init__(self, height: int, printed: bool, rng: random.Random) -> None:
        if printed:
            self.c = Canvas(*A4, paper=(250, 250, 247))
            self.x0 = (A4[0] - WIDTH) / 2 + rng.uniform(-40, 40)
            self.y0 = rng.uniform(50, 160)
        else:
            self.c = Canvas(WIDTH, height)
            self.x0 = self.y0 = 0.0

    def text(
        self, x: float, y: float, text: str, size: int, **kw: object
    ) -> tuple[float, float, float, float]:
        """Draw at (x, y) on the bill; the box returned is on the bill too (fields keep the canvas')."""
        x0, y0, x1, y1 = self.c.text(self.x0 + x, self.y0 + y, text, size, **kw)  # type: ignore[arg-type]
        return x0 - self.x0, y0 - self.y0, x1 - self.x0, y1 - self.y0

    def box(self, x0: float, y0: float, x1: float, y1: float, ink: tuple[int, int, int]) -> None:
        self.c.rect(self.x0 + x0, self.y0 + y0, self.x0 + x1, self.y0 + y1, outline=ink, width=2)

    def pair(
        self,
        x: float,
        y: float,
        label: str,
        value: str,
        size: int,
        ink: tuple[int, int, int],
        name: str | None = None,
        kind: FieldKind = T,
        truth: str | None = None,
        width: float = 0,
    ) -> float:
        """`label：value` at (x, y), within `width` if given (the value shrinks to fit); the value is
        field `name` when given. Returns the x after it."""
        bb = self.text(x, y, label + "：", size, fill=ink)
        if not value:
            return bb[2]
        room = width - (bb[2] - x) - 10 if width else 0
        vsize = self.c.fit_size(value, size, room) if room > 0 else size
        vb = self.text(bb[2] + 2, y, value, vsize, fill=INK, name=name, kind=kind, value=truth)
        return vb[2]


def ebill(
    claim: ClaimTruth, bill: BillTruth, doc: DocumentTruth, rng: random.Random
) -> tuple[Canvas, list[LineItem], list[str]]:
    """One regional e-bill page, its fee lines and what was altered on it."""
    inpatient = doc.doc_type is DocType.INPATIENT_INVOICE
    style = pick_style(rng, inpatient)
    ink = style.ink
    page = _Page(1100, bill.printed, rng)
    kind_word = "住院" if inpatient else "门诊"
    region = bill.issuer or "北京市"
    title = f"{region}医疗{kind_word}收费票据{rng.choice(('（电子）', '（电子）', '(电子)'))}"
    page.text(WIDTH / 2, 28, title, 38, face=style.title_face, fill=ink, anchor="ma", name="title")
    _qr(page, bill, rng)
    y = _header(page, claim, bill, style, title, rng)
    items, y = _grid(page, bill, style, y, rng)
    tampered = ["total_amount"] if bill.printed_total != bill.items_total else []
    y = _totals(page, bill, style, y)
    y = _other_info(page, claim, bill, style, inpatient, y, rng)
    _footer(page, claim, style, kind_word, y, rng)
    _supervision_seal(page, region, rng)
    if not bill.printed:
        page.c.crop_height(int(y + 90 + (34 if style.verify_line else 0)))
    return page.c, items, tampered


def _qr(page: _Page, bill: BillTruth, rng: random.Random) -> None:
    """The bill's QR code top right, crisp at four or five pixels a module."""
    data = payload(bill.invoice_code, bill.invoice_number, bill.items_total, bill.issue_date, bill.check_code)
    side = rng.choice((148, 148, 185))
    x = page.x0 + WIDTH - 40 - side + rng.uniform(-10, 10)
    page.c.qr(x, page.y0 + 22 + rng.uniform(-6, 6), side, rng, data=data)


def _header(
    page: _Page, claim: ClaimTruth, bill: BillTruth, style: Style, title: str, rng: random.Random
) -> float:
    s, ink = style.size, style.ink
    prefix = "电子" if style.e_prefix else ""
    left, right, y = 50.0, 790.0, 118.0
    step = s + 12
    page.pair(left, y, f"{prefix}票据代码", bill.invoice_code, s, ink, "invoice_code")
    page.pair(right, y, f"{prefix}票据号码", bill.invoice_number, s, ink, "invoice_number")
    y += step
    if style.name_line:
        page.pair(left, y, "票据名称", title, s, ink)
    else:
        ident = claim.insured.id_number
        shown = rng.random()
        if shown < 0.35:
            page.pair(left, y, "交款人统一社会信用代码", ident, s, ink, "payer_id_number")
        elif shown < 0.7:
            page.pair(left, y, "交款人统一社会信用代码", ident[:4] + "*" * 11 + ident[-3:], s, ink)
        else:
            page.pair(left, y, "交款人统一社会信用代码", "", s, ink)
    page.pair(right, y, "校验码", bill.check_code, s, ink, "check_code")
    y += step
    page.pair(left, y, "交款人", claim.insured.name, s, ink, "payer_name")
    page.pair(right, y, "开票日期", bill.issue_date.isoformat(), s, ink, "issue_date", D)
    return y + step + 4


def _grid(
    page: _Page, bill: BillTruth, style: Style, top: float, rng: random.Random
) -> tuple[list[LineItem], float]:
    """The fee categories in column groups (项目名称 | [数量/单位] | 金额（元） | 备注)."""
    s, ink = style.size, style.ink
    cats: dict[str, Decimal] = defaultdict(Decimal)
    for item in bill.items:
        cats[item.category] += item.amount
    order = [c for c in catalog.INVOICE_CATEGORIES if cats.get(c)]
    rows = max(4, math.ceil(len(order) / style.groups))
    row_h = s + rng.choice((10, 14, 18))
    height = max(300, 46 + rows * row_h + 60)
    x0, x1 = 50.0, WIDTH - 50.0
    page.box(x0, top, x1, top + height, ink)
    group_w = (x1 - x0) / style.groups
    heads = (
        ["项目名称", "数量/单位", "金额（元）", "备注"]
        if style.quantity
        else ["项目名称", "金额（元）", "备注"]
    )
    shares = [0.36, 0.2, 0.26, 0.18] if style.quantity else [0.42, 0.36, 0.22]
    for g in range(style.groups):
        gx = x0 + g * group_w
        cx = gx
        for head, share in zip(heads, shares, strict=True):
            page.text(cx + share * group_w / 2, top + 10, head, s, fill=ink, anchor="ma")
            cx += share * group_w
    page.c.hline(page.x0 + x0, page.x0 + x1, page.y0 + top + 40, ink, 1)
    items: list[LineItem] = []
    for k, cat in enumerate(order):
        r, g = (k % rows, k // rows) if style.by_column else (k // style.groups, k % style.groups)
        gx = x0 + g * group_w
        y = top + 50 + r * row_h
        name = rng.choice(BILL_NAMES[cat]) if cat in BILL_NAMES else cat
        bb0 = page.text(gx + 8, y, name, s)
        amount_x = gx + (shares[0] + shares[1]) * group_w if style.quantity else gx + shares[0] * group_w
        if style.quantity:
            page.text(gx + shares[0] * group_w + 20, y, rng.choice(("1", "1项", "1.0")), s)
        bb = page.text(amount_x + 10, y, _amount(cats[cat], style), s)
        items.append(
            LineItem(
                name=name,
                category=cat,
                amount=money(cats[cat]),
                box=rect_box(
                    page.x0 + bb0[0],
                    page.y0 + min(bb0[1], bb[1]),
                    page.x0 + bb[2],
                    page.y0 + max(bb0[3], bb[3]),
                ),
            )
        )
    return items, top + height


def _totals(page: _Page, bill: BillTruth, style: Style, top: float) -> float:
    s, ink = style.size, style.ink
    x0, x1 = 50.0, WIDTH - 50.0
    page.box(x0, top, x1, top + s + 22, ink)
    y = top + 10
    bb = page.text(x0 + 10, y, "金额合计（大写）", s, fill=ink)
    page.text(bb[2] + 6, y, bill.printed_words, s, name="total_in_words")
    bb = page.text(820, y, "（小写）", s, fill=ink)
    shown = _amount(bill.printed_total, style)
    page.text(bb[2] + 4, y, shown, s, name="total_amount", kind=M, value=f"{bill.printed_total:.2f}")
    return top + s + 22


def _shares(bill: BillTruth, inpatient: bool, rng: random.Random) -> dict[str, Decimal]:
    """The settlement amounts printed besides the split, consistent with it: what the patient owed of
    the covered items (个人自付: 起付标准 + 乙类首自付 + 按比例自付), and the deposit and its settling."""
    patient = bill.cash_paid + bill.account_paid
    copay = max(Decimal(0), patient - bill.self_pay) if bill.fund_paid else Decimal(0)
    deductible = min(copay, Decimal(rng.choice((0, 300, 500, 800, 1000, 1200))))
    class_b = money((copay - deductible) * Decimal(str(round(rng.uniform(0, 0.4), 2))))
    cash = bill.cash_paid
    deposit = Decimal(0)
    if inpatient and cash:  # paid on admission, settled at discharge by 补缴 or 退费
        deposit = money(Decimal(math.ceil(cash / 1000) * 1000 + rng.choice((0, 1000, 5000))))
        if rng.random() < 0.25:
            deposit = money(cash * Decimal(str(round(rng.uniform(0.5, 0.9), 2))))
    return {
        "copay": money(copay),
        "deductible": money(deductible),
        "class_b_copay": class_b,
        "ratio_copay": money(copay - deductible - class_b),
        "prepaid": deposit,
        "supplementary_paid": money(max(Decimal(0), cash - deposit)),
        "refund": money(max(Decimal(0), deposit - cash)),
        "other_paid": money(sum(bill.funds.values(), Decimal(0))),
    }


INSURANCE = ("城镇职工基本医疗保险", "职工医保", "城乡居民医保", "居民医保", "省内异地医保", "新农合")
INSTITUTIONS = ("综合医院", "三级甲等综合医院", "专科医院", "三级甲等综合性医疗机构", "二级综合医院")


def _other_info(
    page: _Page,
    claim: ClaimTruth,
    bill: BillTruth,
    style: Style,
    inpatient: bool,
    top: float,
    rng: random.Random,
) -> float:
    """The 其他信息 block: label：value pairs in four columns, in the national or the settlement order."""
    s, ink = style.size - 1, style.ink
    inc = claim.incident
    amounts = _shares(bill, inpatient, rng)
    drawn = rng.choice(INSURANCE) if claim.policy.social_insurance else "自费"  # drawn whatever is printed
    insurance = bill.insurance_type or drawn
    no_label = "住院号" if inpatient else "门诊号"
    pairs: list[tuple[str, str, str | None, FieldKind, str | None]] = []

    def money_pair(label: str, name: str, v: Decimal, zero: str | None = None) -> None:
        pairs.append((label, _amount(v, style, zero=zero), name, M, f"{v:.2f}"))

    def blank(label: str) -> None:
        pairs.append((label, "", None, T, None))

    stay: tuple[str, str, str] | None = None
    if inpatient and inc.admission_date and inc.discharge_date:
        stay = _stay_text(inc.admission_date, inc.discharge_date, style.date_shape)
    visit = (no_label, inc.hospital_number, "hospital_number", T, None)
    sex = ("性别", claim.insured.sex, "sex", T, None)
    if not style.settlement:
        pairs.append(("业务流水号", f"{bill.invoice_number[-6:]}{rng.randrange(10**4):04d}", None, T, None))
        blank("病历号") if rng.random() < 0.5 else None
        pairs.append(visit)
        if inpatient:
            blank("住院科别")
            pairs.append(("住院时间", "", "stay", T, None))
            money_pair("预缴金额", "prepaid", amounts["prepaid"])
            money_pair("补缴金额", "supplementary_paid", amounts["supplementary_paid"])
            money_pair("退费金额", "refund", amounts["refund"])
        else:
            d = inc.incident_date
            pairs.append(("就诊日期", _visit_text(d, style.date_shape), "visit_date", D, d.isoformat()))
        pairs.append(("医疗机构类型", rng.choice(INSTITUTIONS), None, T, None))
        pairs.append(("医保类型", insurance, "insurance_type", T, None))
        blank("医保编号")
        pairs.append(sex)
        money_pair("医保统筹基金支付", "fund_paid", bill.fund_paid)
        money_pair("其他支付", "other_paid", amounts["other_paid"])
        money_pair("个人账户支付", "account_paid", bill.account_paid)
        money_pair("个人现金支付", "cash_paid", bill.cash_paid)
        money_pair("个人自付", "copay", amounts["copay"])
        money_pair("个人自费", "self_pay", bill.self_pay)
    else:
        pairs.append(("医保类型", insurance, "insurance_type", T, None))
        blank("住院科室" if inpatient else "就诊科室")
        blank("病历号")
        blank("社会保障卡号")
        blank("姓名")
        pairs.append(sex)
        pairs.append(visit)
        if stay:
            pairs.append(("住院时间", "", "stay", T, None))
        else:
            d = inc.incident_date
            pairs.append(("就诊日期", _visit_text(d, style.date_shape), "visit_date", D, d.isoformat()))
        money_pair("预缴金额", "prepaid", amounts["prepaid"], "0")
        money_pair("补缴金额", "supplementary_paid", amounts["supplementary_paid"], "0")
        money_pair("退费金额", "refund", amounts["refund"], "0")
        money_pair("起付标准", "deductible", amounts["deductible"], "0")
        money_pair("自费", "self_pay", bill.self_pay)
        money_pair("乙类首自付", "class_b_copay", amounts["class_b_copay"])
        money_pair("按比例自付", "ratio_copay", amounts["ratio_copay"])
        money_pair("现金支付", "cash_paid", bill.cash_paid)
        money_pair("个人账户支付", "account_paid", bill.account_paid)
        money_pair("医保统筹基金支付", "fund_paid", bill.fund_paid)
        money_pair("公务员补助", "civil_servant_paid", bill.funds.get("civil_servant_paid", Decimal(0)))
        money_pair(
            "大额（病）保险报销", "serious_illness_paid", bill.funds.get("serious_illness_paid", Decimal(0))
        )
        money_pair("医疗救助", "medical_aid_paid", bill.funds.get("medical_aid_paid", Decimal(0)))
        money_pair("其他医保支付", "other_insurance_paid", Decimal(0))
    columns = 4
    col_w = (WIDTH - 100 - 60) / columns
    row_h = s + 16
    rows = math.ceil(len(pairs) / columns)
    funds_line = inpatient and not style.settlement and style.funds_line
    height = 18 + (rows + (2 if funds_line else 0)) * row_h + 10
    page.box(50, top, WIDTH - 50, top + height, ink)
    for k, ch in enumerate("其他信息"):
        page.text(62, top + 16 + k * (height - 30) / 4, ch, s + 2, fill=ink)
    for k, (label, value, name, kind, truth) in enumerate(pairs):
        r, col = divmod(k, columns)
        x, y = 100 + col * col_w, top + 14 + r * row_h
        if name == "stay" and stay:
            end = x + col_w if col < columns - 1 else WIDTH - 56
            x = page.pair(x, y, label, "", s, ink)
            size = page.c.fit_size("".join(stay), s, end - x - 6)
            for part, (piece, field) in enumerate(
                zip(stay, ("admission_date", None, "discharge_date"), strict=True)
            ):
                date = inc.admission_date if part == 0 else inc.discharge_date
                bb = page.text(
                    x + 2,
                    y,
                    piece,
                    size,
                    name=field,
                    kind=D,
                    value=date.isoformat() if field and date else None,
                )
                x = bb[2]
            continue
        page.pair(x, y, label, value, s, ink, name, kind, truth, width=col_w)
    if funds_line:
        _funds_line(page, claim, bill, top + 14 + rows * row_h, s, ink, rng)
    return top + height


def _funds_line(
    page: _Page,
    claim: ClaimTruth,
    bill: BillTruth,
    y: float,
    s: int,
    ink: tuple[int, int, int],
    rng: random.Random,
) -> None:
    """The free line some regions print under the block: 住院天数 and each fund beside 统筹, run on
    with commas and wrapped only between two of them (a label is never cut)."""
    inc = claim.incident
    pieces: list[tuple[str, str, str | None, FieldKind, str | None]] = []
    if inc.admission_date and inc.discharge_date and rng.random() < 0.8:
        days = (inc.discharge_date - inc.admission_date).days
        pieces.append(("住院天数", f"{days}.0天", "days_in_hospital", FieldKind.INT, str(days)))
    for label, name in (
        ("公务员报销金额", "civil_servant_paid"),
        ("大额补助", "serious_illness_paid"),
        ("医疗救助金额", "medical_aid_paid"),
        ("其他基金", "other_insurance_paid"),
    ):
        v = bill.funds.get(name, Decimal(0))
        pieces.append((label, f"{v:.2f}", name, M, f"{v:.2f}"))
    x = 100.0
    for label, value, name, kind, truth in pieces:
        if x + page.c.text_width(f"{label}：{value}，", s) > WIDTH - 90:
            x, y = 100.0, y + s + 16
        x = page.pair(x, y, label, value, s, ink, name, kind, truth)
        x = page.text(x, y, "，", s)[2]


def _footer(
    page: _Page, claim: ClaimTruth, style: Style, kind_word: str, top: float, rng: random.Random
) -> None:
    s, ink = style.size, style.ink
    y = top + 18
    inc = claim.incident
    bb = page.text(50, y, "收款单位（章）：", s, fill=ink)
    hb = page.text(bb[2] + 2, y, inc.hospital, s, name="hospital")
    reviewer = rng.choice(("", "", "线上", rng.choice(("张敏", "李娜", "唐柏辉"))))
    page.pair(700, y, "复核人", reviewer, s, ink)
    cashier = rng.choice(("王芳", "刘洁", "柴燕", "自助机", "兰岚"))
    page.pair(1040, y, "收款人", cashier, s, ink, "cashier")
    if style.verify_line:
        site = rng.choice(
            ("查验网站地址：http://pj.czt.gov.cn/billcheck", "查验：可登陆财政部门官网或微信公众号查验票据")
        )
        page.text(50, y + s + 16, site, s - 2, fill=ink)
    center = rng.choice(("收费专用章（电子）", "电子票据专用章", f"{kind_word}收费专用章"))
    page.c.seal(
        page.x0 + (hb[0] + hb[2]) / 2 + rng.uniform(-60, 60),
        page.y0 + (hb[1] + hb[3]) / 2 + rng.uniform(-40, 5),
        62,
        inc.hospital,
        center,
        rng=rng,
        color=SEAL_RED,
    )


def _supervision_seal(page: _Page, region: str, rng: random.Random) -> None:
    """The oval 财政部监制 seal over the title: 票据监制章 along the top, the region and 财政部监制 inside."""
    rx, ry = 92, 60
    size = (2 * rx + 24, 2 * ry + 24)
    layer = Image.new("L", size, 0)
    d = ImageDraw.Draw(layer)
    cx, cy = size[0] / 2, size[1] / 2
    d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], outline=255, width=4)
    d.ellipse([cx - rx + 7, cy - ry + 7, cx + rx - 7, cy + ry - 7], outline=255, width=1)
    ring = "票据监制章"
    glyph = 17
    for i, ch in enumerate(ring):
        ang = math.radians(-90 - 50 + 100 * (i + 0.5) / len(ring))
        gx, gy = cx + (rx - 22) * math.cos(ang), cy + (ry - 20) * math.sin(ang)
        tile = Image.new("L", (glyph * 2, glyph * 2), 0)
        ImageDraw.Draw(tile).text((glyph, glyph), ch, font=font(glyph), fill=255, anchor="mm")
        tile = tile.rotate(-math.degrees(ang) - 90, resample=Image.BICUBIC)
        layer.paste(255, (int(gx - glyph), int(gy - glyph)), tile)
    d.text((cx, cy + 2), region, font=font(20, "serif"), fill=255, anchor="mm")
    d.text((cx, cy + 30), "财政部监制", font=font(19, "serif"), fill=255, anchor="mm")
    noise = np.random.default_rng(rng.getrandbits(32)).normal(128, 50, (size[1], size[0]))
    layer = ImageChops.multiply(layer, Image.fromarray(np.where(noise > 60, 255, 0).astype(np.uint8), "L"))
    alpha = layer.point(lambda v: int(v * rng.uniform(0.7, 0.9)))
    x = int(page.x0 + WIDTH / 2 - size[0] / 2 + rng.uniform(-40, 40))
    y = int(page.y0 + 8 + rng.uniform(-6, 10))
    below = page.c.image.crop((x, y, x + size[0], y + size[1]))
    stamped = ImageChops.multiply(below, Image.new("RGB", size, (205, 60, 55)))
    below.paste(stamped, (0, 0), alpha)
    page.c.image.paste(below, (x, y))

"""Provincial paper bills drawn for inpatients first (they serve outpatients too): what a stay adds
to a bill, the money paid on admission and settled at discharge (预缴 / 预收款, 补缴 / 应补交, 退费 /
应退款) and the funds beside 统筹 (大额(病)保险报销, 公务员补助, 医疗救助, 其他医保支付, 公医记帐).

A 黑龙江-style pin-feed form with its fund column (统筹合计, 其中 个人帐户 / 统筹金 / the funds), a
广西-style form with 交款人统一社会信用代码 and the 其他信息 block, and a 重庆-style laser print with
电子票据代码 and 住院时间 A 到 B. Layouts only: see `synth.provincial` for the registry.
"""

from __future__ import annotations

import random
from decimal import Decimal

from pipeline.records import DocType, LineItem
from synth.forms import cn_date
from synth.paper_kit import (
    FUND_LABELS,
    D,
    T,
    categories,
    category_items,
    deposit_lines,
    insurance_type,
    money_value,
    pin_feed,
    printed_total,
    put,
)
from synth.render import SEAL_RED, Canvas
from synth.truth import BillTruth, ClaimTruth, DocumentTruth

Drawn = tuple[Canvas, list[LineItem], list[str]]
ZERO = Decimal("0.00")


def _kind(doc: DocumentTruth) -> str:
    return "住院" if doc.doc_type is DocType.INPATIENT_INVOICE else "门诊"


def _fund(bill: BillTruth, rng: random.Random) -> tuple[str, str, Decimal] | None:
    """The one fund beside 统筹 paying on this bill: field name, label as printed, amount."""
    if not bill.funds:
        return None
    name, v = next(iter(bill.funds.items()))
    return name, rng.choice(FUND_LABELS[name]), v


def _stay_pair(c: Canvas, dot: bool, x: float, y: float, claim: ClaimTruth, word: str, fmt: str, ink) -> None:
    """住院时间 A 到 B: the two dates as two values either side of the word."""
    inc = claim.incident
    if inc.admission_date is None or inc.discharge_date is None:
        return
    c.text(x, y, "住院时间：", 21, fill=ink)
    bb = put(
        c,
        dot,
        x + 110,
        y,
        format(inc.admission_date, fmt),
        21,
        name="admission_date",
        kind=D,
        value=inc.admission_date.isoformat(),
    )
    w = c.text(bb[2] + 10, y, word, 21, fill=ink)
    put(
        c,
        dot,
        w[2] + 10,
        y,
        format(inc.discharge_date, fmt),
        21,
        name="discharge_date",
        kind=D,
        value=inc.discharge_date.isoformat(),
    )


def heilongjiang(claim: ClaimTruth, bill: BillTruth, doc: DocumentTruth, rng: random.Random) -> Drawn:
    """黑龙江-style 医疗住院收费票据 on pin-feed stationery: the date and the red № at the top, a grid of
    every category (zeros printed), then 统筹合计 with 其中 个人帐户 / 统筹金 / the funds, 个人支付,
    and how the stay was paid (预收款 / 应补交 / 应退款)."""
    inpatient = doc.doc_type is DocType.INPATIENT_INVOICE
    ink = (45, 70, 170)
    c = Canvas(1600, 1060, paper=(250, 250, 250))
    dot = rng.random() < 0.7
    c.offset = (rng.uniform(-14, 14), rng.uniform(-8, 8))
    inc = claim.incident
    c.text(
        800, 30, f"黑龙江省医疗{_kind(doc)}收费票据", 46, face="serif", fill=ink, anchor="ma", name="title"
    )
    c.text(560, 110, "日期：", 21, fill=ink)
    put(
        c,
        dot,
        630,
        108,
        cn_date(bill.issue_date),
        22,
        name="issue_date",
        kind=D,
        value=bill.issue_date.isoformat(),
    )
    c.text(1120, 108, "No", 24, fill=ink)
    c.text(1170, 100, bill.invoice_number, 32, face="serif", fill=SEAL_RED, name="invoice_number")
    xs, ys = c.grid(60, 160, [150, 430, 130, 300, 150, 320], [52, 52], fill=ink)
    head = [
        (
            "保险编号",
            claim.insured.id_number if claim.policy.social_insurance else "",
            "social_security_number",
            T,
        ),
        ("姓名", claim.insured.name, "payer_name", T),
        ("人员类别", rng.choice(("在职", "退休", "居民")), "", T),
        ("住院号" if inpatient else "门诊号", inc.hospital_number, "hospital_number", T),
        ("科别", inc.department, "department", T),
        ("医保类别", insurance_type(claim, bill, rng), "insurance_type", T),
    ]
    for k, (label, value, name, kind) in enumerate(head):
        r, col = divmod(k, 3)
        c.text(xs[col * 2] + 10, ys[r] + 14, label, 21, fill=ink)
        size = c.fit_size(value, 21, xs[col * 2 + 2] - xs[col * 2 + 1] - 20) if value else 21
        put(c, dot, xs[col * 2 + 1] + 12, ys[r] + 14, value, size, name=name or None, kind=kind)
    top = ys[-1]
    c.rect(60, top, 1540, top + 190, outline=ink)
    cells = [(80 + (k % 4) * 370, 210 + (k % 4) * 370, top + 14 + (k // 4) * 44) for k in range(16)]
    items = category_items(c, dot, cells, categories(bill), 20, ink, zeros=True)
    y = top + 190
    c.rect(60, y, 1540, y + 56, outline=ink)
    c.text(80, y + 16, "合计金额（大写）：", 22, fill=ink)
    put(c, dot, 290, y + 16, bill.printed_words, 23, name="total_in_words")
    tampered = printed_total(c, dot, 1150, y + 14, bill, 24, rng, prefix="¥")
    y += 76
    fund = _fund(bill, rng)
    pooled = bill.fund_paid + bill.account_paid + (fund[2] if fund else ZERO)
    col = [
        ("统筹合计", pooled, ""),
        ("其中：个人帐户", bill.account_paid, "account_paid"),
        ("统筹金", bill.fund_paid, "fund_paid"),
    ]
    if fund:
        col.append((fund[1], fund[2], fund[0]))
    col += [(x, ZERO, "") for x in ("公务员补助", "医疗救助") if not fund or x != fund[1]]
    for k, (label, v, name) in enumerate(col):
        c.text(300 - 24 * len(label), y + k * 40, label, 21, fill=ink)
        if name:
            money_value(c, dot, 330, y + k * 40, v, name)
        else:
            put(c, dot, 330, y + k * 40, f"{v:.2f}", 21)
    right = [("个人支付", bill.cash_paid, "cash_paid")]
    if inpatient:
        right += deposit_lines(
            bill.cash_paid, rng, {"prepaid": "预收款", "supplementary_paid": "应补交", "refund": "应退款"}
        )
    for k, (label, v, name) in enumerate(right):
        c.text(680, y + k * 40, label + "：", 21, fill=ink)
        money_value(c, dot, 800, y + k * 40, v, name)
    foot = y + len(col) * 40 + 30
    c.text(80, foot, "收款单位（盖章）：", 22, fill=ink)
    bb = put(c, dot, 120, foot + 40, inc.hospital, 23, name="hospital")
    c.text(600, foot, "收款人：", 22, fill=ink)
    c.seal((bb[0] + bb[2]) / 2 + 300, foot, 78, inc.hospital, f"{_kind(doc)}收费专用章", rng=rng, oval=False)
    c.crop_height(int(foot + 100))
    return (*pin_feed(c, items, rng), tampered)


def guangxi(claim: ClaimTruth, bill: BillTruth, doc: DocumentTruth, rng: random.Random) -> Drawn:
    """广西-style bill: 票据代码 / 票据号码, 交款人 with 交款人统一社会信用代码, 住院时间 A 至 B, three
    columns of categories, and the 其他信息 block (医保统筹基金支付, 其他支付, 个人账户支付, 个人现金支付,
    预缴金额 / 补缴金额 / 退费金额 and the fund that paid)."""
    inpatient = doc.doc_type is DocType.INPATIENT_INVOICE
    ink = rng.choice(((170, 70, 50), (120, 80, 40)))
    c = Canvas(1600, 1120, paper=(252, 250, 244))
    dot = rng.random() < 0.5
    c.offset = (rng.uniform(-10, 10), rng.uniform(-6, 6))
    inc = claim.incident
    c.text(
        800,
        30,
        f"广西壮族自治区医疗{_kind(doc)}收费票据",
        42,
        face="serif",
        fill=ink,
        anchor="ma",
        name="title",
    )
    for k, (label, value, name) in enumerate(
        (
            ("票据代码：", bill.invoice_code, "invoice_code"),
            ("票据号码：", bill.invoice_number, "invoice_number"),
        )
    ):
        c.text(70, 96 + k * 38, label, 21, fill=ink)
        put(c, dot, 190, 94 + k * 38, value, 22, name=name)
    c.text(900, 96, "交款人统一社会信用代码：", 21, fill=ink)
    put(c, dot, 1150, 94, claim.insured.id_number, 21, name="payer_id_number")
    c.text(900, 134, "交款人：", 21, fill=ink)
    put(c, dot, 990, 132, claim.insured.name, 22, name="payer_name")
    c.hline(50, 1550, 180, ink, 2)
    c.text(70, 196, "住院号：" if inpatient else "门诊号：", 21, fill=ink)
    put(c, dot, 170, 196, inc.hospital_number, 21, name="hospital_number")
    c.text(480, 196, "科别：", 21, fill=ink)
    put(c, dot, 550, 196, inc.department, 21, name="department")
    if inpatient:
        _stay_pair(c, dot, 860, 196, claim, "至", "%Y-%m-%d", ink)
    else:
        c.text(860, 196, "就诊日期：", 21, fill=ink)
        put(
            c,
            dot,
            980,
            196,
            f"{inc.incident_date:%Y-%m-%d}",
            21,
            name="visit_date",
            kind=D,
            value=inc.incident_date.isoformat(),
        )
    top = 240
    xs, ys = c.grid(50, top, [250, 250] * 3, [42] * 6, fill=ink, width=1)
    for k in range(3):
        c.text(xs[2 * k] + 20, top + 10, "项目名称", 20, fill=ink)
        c.text(xs[2 * k + 1] + 20, top + 10, "金额（元）", 20, fill=ink)
    cells = [(xs[(k // 5) * 2] + 20, xs[(k // 5) * 2 + 1] + 20, ys[k % 5 + 1] + 10) for k in range(15)]
    items = category_items(c, dot, cells, categories(bill), 20, ink)
    y = ys[-1] + 16
    c.text(70, y, "合计（大写）", 22, fill=ink)
    put(c, dot, 230, y, bill.printed_words, 23, name="total_in_words")
    c.text(1000, y, "（小写）", 22, fill=ink)
    tampered = printed_total(c, dot, 1100, y, bill, 24, rng)
    y += 50
    c.rect(50, y, 1550, y + 190, outline=ink)
    c.text(62, y + 14, "其他信息", 20, fill=ink)
    fund = _fund(bill, rng)
    block = [
        ("医保统筹基金支付", bill.fund_paid, "fund_paid"),
        ("其他支付", fund[2] if fund else ZERO, "other_paid"),
        ("个人账户支付", bill.account_paid, "account_paid"),
        ("个人现金支付", bill.cash_paid, "cash_paid"),
        ("医保类型", None, insurance_type(claim, bill, rng)),
    ]
    if fund:
        block.append((fund[1], fund[2], fund[0]))
    if inpatient:
        block += deposit_lines(bill.cash_paid, rng)
    for k, (label, v, name) in enumerate(block):
        x, yy = 180 + (k % 3) * 460, y + 14 + (k // 3) * 56
        c.text(x, yy, label + "：", 20, fill=ink)
        if v is None:
            put(c, dot, x + 22 * len(label) + 26, yy, name, 20, name="insurance_type")
        else:
            money_value(c, dot, x + 22 * len(label) + 26, yy, v, name, 20)
    foot = y + 220
    c.text(80, foot, "收款单位（章）：", 22, fill=ink)
    bb = put(c, dot, 260, foot, inc.hospital, 23, name="hospital")
    c.text(860, foot, "复核人：", 21, fill=ink)
    c.text(1130, foot, "开票日期：", 21, fill=ink)
    put(
        c,
        dot,
        1250,
        foot,
        cn_date(bill.issue_date),
        21,
        name="issue_date",
        kind=D,
        value=bill.issue_date.isoformat(),
    )
    c.seal((bb[0] + bb[2]) / 2, foot, 80, inc.hospital, f"{_kind(doc)}收费专用章", rng=rng)
    c.crop_height(int(foot + 110))
    if rng.random() < 0.6:
        c, items = pin_feed(c, items, rng)
    return c, items, tampered


def chongqing(claim: ClaimTruth, bill: BillTruth, doc: DocumentTruth, rng: random.Random) -> Drawn:
    """重庆-style laser print on a pre-printed form: 电子票据代码 / 电子票据号码, 交款人, 住院时间 A 到 B,
    two columns of categories, 统筹支付 / 个人账户支付 / 个人缴费, the funds by name (公医记帐 ...),
    预缴 / 退费 / 补缴 and 收费日期."""
    inpatient = doc.doc_type is DocType.INPATIENT_INVOICE
    ink = (70, 70, 70)
    c = Canvas(1600, 1080, paper=(250, 249, 245))
    c.offset = (rng.uniform(-6, 6), rng.uniform(-4, 4))
    inc = claim.incident
    c.text(800, 30, f"重庆市医疗{_kind(doc)}收费票据", 44, face="serif", fill=ink, anchor="ma", name="title")
    for k, (label, value, name) in enumerate(
        (
            ("电子票据代码：", bill.invoice_code, "invoice_code"),
            ("电子票据号码：", bill.invoice_number, "invoice_number"),
        )
    ):
        c.text(1050, 96 + k * 36, label, 20, fill=ink)
        c.value_text(1200, 95 + k * 36, value, 21, name=name)
    c.text(70, 110, "交款人：", 21, fill=ink)
    c.value_text(160, 108, claim.insured.name, 22, name="payer_name")
    c.text(70, 150, "住院号：" if inpatient else "门诊号：", 21, fill=ink)
    c.value_text(170, 150, inc.hospital_number, 21, name="hospital_number")
    if inpatient:
        _stay_pair(c, False, 480, 150, claim, "到", "%Y年%m月%d日", ink)
        days = (
            (inc.discharge_date - inc.admission_date).days if inc.discharge_date and inc.admission_date else 0
        )
        c.text(1120, 170, f"住院天数：{days}天", 20, fill=ink)
    else:
        c.text(480, 150, "就诊日期：", 21, fill=ink)
        c.value_text(
            590,
            150,
            cn_date(inc.incident_date),
            21,
            name="visit_date",
            kind=D,
            value=inc.incident_date.isoformat(),
        )
    top = 210
    xs, ys = c.grid(50, top, [360, 390, 360, 390], [42] * 7, fill=ink, width=1)
    cells = [(xs[(k // 6) * 2] + 20, xs[(k // 6) * 2 + 1] + 30, ys[k % 6 + 1] + 10) for k in range(12)]
    for k in range(2):
        c.text(xs[2 * k] + 20, top + 10, "项目", 20, fill=ink)
        c.text(xs[2 * k + 1] + 30, top + 10, "金额", 20, fill=ink)
    items = category_items(c, False, cells, categories(bill), 20, ink)
    y = ys[-1] + 16
    c.text(70, y, "金额合计（大写）", 22, fill=ink)
    c.value_text(270, y, bill.printed_words, 23, name="total_in_words")
    c.text(1050, y, "¥", 22, fill=ink)
    tampered = printed_total(c, False, 1080, y, bill, 24, rng)
    y += 52
    fund = _fund(bill, rng)
    block = [
        ("统筹支付", bill.fund_paid, "fund_paid"),
        ("个人账户支付", bill.account_paid, "account_paid"),
        ("个人缴费", bill.cash_paid, "cash_paid"),
    ]
    if fund:
        block.append((fund[1], fund[2], fund[0]))
    if inpatient:
        block += deposit_lines(
            bill.cash_paid,
            rng,
            {"prepaid": "预缴金额", "refund": "退费金额", "supplementary_paid": "补缴金额"},
        )
    for k, (label, v, name) in enumerate(block):
        x, yy = 70 + (k % 3) * 500, y + (k // 3) * 48
        c.text(x, yy, label + "：", 21, fill=ink)
        money_value(c, False, x + 22 * len(label) + 34, yy, v, name)
    foot = y + ((len(block) + 2) // 3) * 48 + 40
    c.text(80, foot, "收款单位（章）：", 22, fill=ink)
    bb = c.value_text(260, foot, inc.hospital, 23, name="hospital")
    c.text(1100, foot, "收费日期：", 22, fill=ink)
    c.value_text(
        1220,
        foot,
        f"{bill.issue_date:%Y-%m-%d}",
        22,
        name="issue_date",
        kind=D,
        value=bill.issue_date.isoformat(),
    )
    c.seal((bb[0] + bb[2]) / 2, foot, 80, inc.hospital, "收费专用章", rng=rng)
    c.crop_height(int(foot + 110))
    return c, items, tampered

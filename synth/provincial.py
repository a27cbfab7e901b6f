"""Provincial paper medical bills (医疗门诊/住院收费票据) beside the three of `synth.forms`: the 上海
门(急)诊 form (detail lines with 项目编码, the 现金支付中 分类自负 / 自负 / 自费 block, 应收 / 实收 / 找零),
a 湖南 grid printing every category (zeros too) with 个人缴费 and 收费日期, a 山东 form struck by a
dot-matrix printer well off its grid, and (in `synth.provincial_stay`) three inpatient forms with
预缴 / 补缴 / 退费 and the funds beside 统筹. Each draws generically from the claim, never a copy of
one real bill; the truth (fields with boxes) is recorded as it is drawn.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from pipeline.records import ClaimType, DocType, LineItem, money
from synth import provincial_stay as stay
from synth.ebill import bill_layout, fiscal_ebill
from synth.forms import cn_date
from synth.paper_kit import (
    D,
    T,
    cash_shares,
    categories,
    category_items,
    insurance_type,
    money_value,
    pin_feed,
    printed_total,
    put,
    with_funds,
    yuan,
)
from synth.render import SEAL_RED, Canvas
from synth.truth import BillTruth, ClaimTruth, DocumentTruth

Drawn = tuple[Canvas, list[LineItem], list[str]]
CASHIERS = ("张敏", "李娜", "王芳", "刘洁", "陈红", "周丽")


def _misregistration(rng: random.Random, big: bool) -> tuple[float, float]:
    if big:
        return rng.uniform(-30, 30), rng.uniform(-16, 16)
    return rng.uniform(-10, 10), rng.uniform(-6, 6)


def shanghai_clinic(claim: ClaimTruth, bill: BillTruth, doc: DocumentTruth, rng: random.Random) -> Drawn:
    """上海市医疗门(急)诊收费票据: label-value lines, fee categories, detail lines with 项目编码, the cash
    block (现金支付中 分类自负 / 自负 / 自费) and what the cashier took (应收 / 实收 / 找零)."""
    ink = rng.choice(((185, 50, 60), (160, 60, 50)))
    c = Canvas(1600, 1180, paper=(252, 247, 240))
    dot = rng.random() < 0.5
    c.offset = _misregistration(rng, rng.random() < 0.3)
    inc = claim.incident
    c.text(800, 36, "上海市医疗门（急）诊收费票据", 44, face="serif", fill=ink, anchor="ma", name="title")
    c.text(1180, 110, "No", 24, fill=ink)
    c.text(1230, 104, bill.invoice_number, 30, face="serif", fill=SEAL_RED, name="invoice_number")
    c.text(70, 110, "票据代码", 21, fill=ink)
    put(c, dot, 180, 108, bill.invoice_code, 22, name="invoice_code")
    head = [
        ("姓名", claim.insured.name, "payer_name", T, None),
        ("门诊号", inc.hospital_number, "hospital_number", T, None),
        ("就诊日期", f"{inc.incident_date:%Y-%m-%d}", "visit_date", D, inc.incident_date.isoformat()),
        ("性别", claim.insured.sex, "sex", T, None),
        ("医保类型", insurance_type(claim, bill, rng), "insurance_type", T, None),
    ]
    for k, (label, value, name, kind, v) in enumerate(head):
        x, y = 70 + (k % 3) * 510, 160 + (k // 3) * 46
        c.text(x, y, label + "：", 21, fill=ink)
        put(c, dot, x + 25 * len(label) + 30, y, value, 21, name=name, kind=kind, value=v)
    c.hline(60, 1540, 252, ink, 2)
    items = category_items(
        c,
        dot,
        [(80 + (k // 4) * 380, 250 + (k // 4) * 380, 268 + (k % 4) * 40) for k in range(16)],
        categories(bill),
        21,
        ink,
    )
    y = 268 + 4 * 40 + 12
    c.hline(60, 1540, y, ink, 1)
    for x, head_text in ((80, "项目编码"), (330, "项目名称"), (900, "数量"), (1100, "金额")):
        c.text(x, y + 10, head_text, 20, fill=ink)
    y += 46
    for item in bill.items[:6]:  # detail lines: code, name, quantity, amount
        put(c, dot, 80, y, item.code, 19)
        put(c, dot, 330, y, item.name[:16], 19)
        put(c, dot, 900, y, f"{item.quantity}", 19)
        put(c, dot, 1100, y, yuan(item.amount), 19)
        y += 34
    y += 10
    c.hline(60, 1540, y, ink, 2)
    c.text(80, y + 16, "合计（大写）", 22, fill=ink)
    put(c, dot, 250, y + 16, bill.printed_words, 23, name="total_in_words")
    c.text(1050, y + 16, "（小写）¥", 22, fill=ink)
    tampered = printed_total(c, dot, 1180, y + 14, bill, 24, rng)
    y += 64
    pays = (
        ("统筹支付", bill.fund_paid, "fund_paid"),
        ("个人账户支付", bill.account_paid, "account_paid"),
        ("现金支付", bill.cash_paid, "cash_paid"),
    )
    for k, (label, v, name) in enumerate(pays):
        c.text(80 + k * 500, y, label + "：", 21, fill=ink)
        money_value(c, dot, 80 + k * 500 + 25 * len(label) + 30, y, v, name)
    y += 48
    self_pay, class_b, copay = cash_shares(bill, rng)
    c.text(80, y, "现金支付中", 21, fill=ink)
    shares = (
        ("分类自负", class_b, "class_b_copay"),
        ("自负", copay, "copay"),
        ("自费", self_pay, "self_pay"),
    )
    for k, (label, v, name) in enumerate(shares):
        c.text(330 + k * 420, y, label + "：", 21, fill=ink)
        money_value(c, dot, 330 + k * 420 + 25 * len(label) + 30, y, v, name)
    y += 48
    taken = bill.cash_paid if rng.random() < 0.5 else money(Decimal(10) * (int(bill.cash_paid // 10) + 1))
    for k, (label, v) in enumerate(
        (("应收", bill.cash_paid), ("实收", taken), ("找零", taken - bill.cash_paid))
    ):
        c.text(80 + k * 420, y, label + "：", 21, fill=ink)
        put(c, dot, 160 + k * 420, y, yuan(v), 21)
    foot = y + 70
    return _footer(c, claim, bill, rng, foot, ink, dot, "收费日期", "门诊收费专用章"), items, tampered


def _footer(
    c: Canvas,
    claim: ClaimTruth,
    bill: BillTruth,
    rng: random.Random,
    foot: float,
    ink: tuple[int, int, int],
    dot: bool,
    date_label: str,
    seal: str,
) -> Canvas:
    """收款单位（章） with the hospital's seal over it, 收款人, and the date the bill was printed."""
    c.text(80, foot, "收款单位（章）：", 22, fill=ink)
    bb = put(c, dot, 260, foot, claim.incident.hospital, 23, name="hospital")
    c.text(880, foot, "收款人：", 22, fill=ink)
    put(c, dot, 970, foot, rng.choice(CASHIERS), 22, name="cashier")
    c.text(1140, foot, f"{date_label}：", 22, fill=ink)
    put(
        c,
        dot,
        1260,
        foot,
        cn_date(bill.issue_date),
        22,
        name="issue_date",
        kind=D,
        value=bill.issue_date.isoformat(),
    )
    c.seal(
        (bb[0] + bb[2]) / 2 + rng.uniform(-40, 40),
        foot + rng.uniform(-10, 20),
        80,
        claim.incident.hospital,
        seal,
        rng=rng,
        oval=rng.random() < 0.6,
    )
    c.crop_height(int(foot + 120))
    return c


def hunan(claim: ClaimTruth, bill: BillTruth, doc: DocumentTruth, rng: random.Random) -> Drawn:
    """湖南-style 医疗门诊收费票据: a ruled grid printing every fee category (zeros too), 交款人, the
    payments as 医保统筹支付 / 个人账户支付 / 个人缴费, 收费日期; sometimes on pin-feed stationery."""
    inpatient = doc.doc_type is DocType.INPATIENT_INVOICE
    ink = rng.choice(((30, 110, 90), (40, 90, 150)))
    c = Canvas(1600, 1000, paper=(246, 250, 246))
    dot = rng.random() < 0.6
    c.offset = _misregistration(rng, dot and rng.random() < 0.4)
    inc = claim.incident
    c.text(
        800,
        34,
        f"湖南省医疗{'住院' if inpatient else '门诊'}收费票据",
        44,
        face="serif",
        fill=ink,
        anchor="ma",
        name="title",
    )
    c.text(70, 104, "票据代码：", 21, fill=ink)
    put(c, dot, 180, 102, bill.invoice_code, 22, name="invoice_code")
    c.text(1120, 104, "票据号码：", 21, fill=ink)
    c.text(1230, 98, bill.invoice_number, 28, face="serif", fill=SEAL_RED, name="invoice_number")
    xs, ys = c.grid(50, 150, [120, 260, 110, 250, 120, 260, 140, 240], [52, 52], fill=ink)
    head = [
        ("交款人", claim.insured.name, "payer_name", T, None),
        ("性别", claim.insured.sex, "sex", T, None),
        ("住院号" if inpatient else "门诊号", inc.hospital_number, "hospital_number", T, None),
        ("医保类型", insurance_type(claim, bill, rng), "insurance_type", T, None),
        ("就诊日期", cn_date(inc.incident_date), "visit_date", D, inc.incident_date.isoformat()),
        ("科室", inc.department, "department", T, None),
    ]
    for k, (label, value, name, kind, v) in enumerate(head):
        r, col = divmod(k, 4)
        c.text(xs[col * 2] + 10, ys[r] + 14, label, 21, fill=ink)
        size = c.fit_size(value, 21, xs[col * 2 + 2] - xs[col * 2 + 1] - 16)
        put(c, dot, xs[col * 2 + 1] + 10, ys[r] + 14, value, size, name=name, kind=kind, value=v)
    top = ys[-1] + 10
    gx, gy = c.grid(50, top, [160, 200] * 4, [44] * 4, fill=ink, width=1)
    cells = [(gx[(k // 4) * 2] + 12, gx[(k // 4) * 2 + 1] + 16, gy[k % 4] + 11) for k in range(16)]
    items = category_items(c, dot, cells, categories(bill), 20, ink, zeros=True)
    y = gy[-1] + 18
    c.text(70, y, "合计（大写）", 22, fill=ink)
    put(c, dot, 230, y, bill.printed_words, 23, name="total_in_words")
    c.text(1060, y, "合计（小写）", 22, fill=ink)
    tampered = printed_total(c, dot, 1200, y - 2, bill, 24, rng, prefix="¥")
    y += 56
    pays = (
        ("医保统筹支付", bill.fund_paid, "fund_paid"),
        ("个人账户支付", bill.account_paid, "account_paid"),
        ("个人缴费", bill.cash_paid, "cash_paid"),
        ("自费", bill.self_pay, "self_pay"),
    )
    for k, (label, v, name) in enumerate(pays):
        c.text(70 + k * 380, y, label + "：", 21, fill=ink)
        money_value(c, dot, 70 + k * 380 + 25 * len(label) + 28, y, v, name)
    c = _footer(
        c, claim, bill, rng, y + 70, ink, dot, "收费日期", f"{'住院' if inpatient else '门诊'}收费专用章"
    )
    if rng.random() < 0.5:
        c, items = pin_feed(c, items, rng)
    return c, items, tampered


def shandong(claim: ClaimTruth, bill: BillTruth, doc: DocumentTruth, rng: random.Random) -> Drawn:
    """山东-style bill struck by a dot-matrix printer: every value in dots and far off its box (the
    paper fed askew), 统筹支付 / 个人账户 / 个人现金支付, 开票日期 at the top."""
    inpatient = doc.doc_type is DocType.INPATIENT_INVOICE
    ink = (50, 80, 160)
    c = Canvas(1600, 1000, paper=(250, 250, 252))
    c.offset = _misregistration(rng, True)
    inc = claim.incident
    c.text(
        800,
        30,
        f"山东省医疗{'住院' if inpatient else '门诊'}收费票据",
        42,
        face="serif",
        fill=ink,
        anchor="ma",
        name="title",
    )
    c.text(1180, 96, "No", 22, fill=ink)
    c.text(1230, 90, bill.invoice_number, 28, face="serif", fill=SEAL_RED, name="invoice_number")
    c.text(70, 100, "开票日期：", 21, fill=ink)
    put(
        c,
        True,
        190,
        100,
        f"{bill.issue_date:%Y-%m-%d}",
        21,
        name="issue_date",
        kind=D,
        value=bill.issue_date.isoformat(),
    )
    xs, ys = c.grid(50, 150, [150, 300, 150, 300, 150, 250], [56, 56], fill=ink)
    head = [
        ("姓名", claim.insured.name, "payer_name", T, None),
        ("性别", claim.insured.sex, "sex", T, None),
        ("医保类型", insurance_type(claim, bill, rng), "insurance_type", T, None),
        ("住院号" if inpatient else "门诊号", inc.hospital_number, "hospital_number", T, None),
        ("就诊日期", f"{inc.incident_date:%Y%m%d}", "visit_date", D, inc.incident_date.isoformat()),
        (
            "社会保障号码",
            claim.insured.id_number if claim.policy.social_insurance else "",
            "social_security_number",
            T,
            None,
        ),
    ]
    for k, (label, value, name, kind, v) in enumerate(head):
        r, col = divmod(k, 3)
        c.text(xs[col * 2] + 10, ys[r] + 16, label, c.fit_size(label, 21, 134), fill=ink)
        size = c.fit_size(value, 21, xs[col * 2 + 2] - xs[col * 2 + 1] - 20)
        put(c, True, xs[col * 2 + 1] + 12, ys[r] + 16, value, size, name=name, kind=kind, value=v)
    top = ys[-1]
    c.rect(50, top, 1550, top + 280, outline=ink)
    c.text(80, top + 12, "项目名称", 21, fill=ink)
    c.text(380, top + 12, "金额", 21, fill=ink)
    c.text(830, top + 12, "项目名称", 21, fill=ink)
    c.text(1130, top + 12, "金额", 21, fill=ink)
    cells = [(80 + (k // 5) * 750, 380 + (k // 5) * 750, top + 56 + (k % 5) * 42) for k in range(10)]
    items = category_items(c, True, cells, categories(bill), 21, ink)
    y = top + 300
    c.text(70, y, "合计（大写）", 22, fill=ink)
    put(c, True, 240, y, bill.printed_words, 22, name="total_in_words")
    c.text(1060, y, "（小写）", 22, fill=ink)
    tampered = printed_total(c, True, 1170, y, bill, 23, rng, prefix="¥")
    y += 56
    pays = (
        ("统筹支付", bill.fund_paid, "fund_paid"),
        ("个人账户", bill.account_paid, "account_paid"),
        ("个人现金支付", bill.cash_paid, "cash_paid"),
    )
    for k, (label, v, name) in enumerate(pays):
        c.text(70 + k * 500, y, label + "：", 21, fill=ink)
        money_value(c, True, 70 + k * 500 + 25 * len(label) + 28, y, v, name)
    foot = y + 70
    c.text(80, foot, "收款单位（章）：", 22, fill=ink)
    bb = put(c, True, 260, foot, inc.hospital, 23, name="hospital")
    c.text(1000, foot, "收款员：", 22, fill=ink)
    put(c, True, 1090, foot, rng.choice(CASHIERS), 22, name="cashier")
    c.seal((bb[0] + bb[2]) / 2, foot + 10, 80, inc.hospital, "收费专用章", rng=rng, oval=True)
    c.crop_height(int(foot + 110))
    return c, items, tampered


LAYOUTS: dict[str, Callable[[ClaimTruth, BillTruth, DocumentTruth, random.Random], Drawn]] = {
    "shanghai_clinic": shanghai_clinic,
    "hunan": hunan,
    "shandong": shandong,
    "heilongjiang": stay.heilongjiang,
    "guangxi": stay.guangxi,
    "chongqing": stay.chongqing,
}
"""The provincial paper layouts by the key `catalog.HOSPITALS` gives a hospital."""
STAY_FORMS = ("heilongjiang", "guangxi", "chongqing")
"""The layouts drawn for inpatients first, with the funds beside 统筹 and 预缴 / 补缴 / 退费."""
VISIT_FORMS = ("shanghai_clinic", "hunan", "shandong")
PARTNER = {
    "shanghai_clinic": "shanghai",
    "hunan": "guangxi",
    "shandong": "heilongjiang",
    "heilongjiang": "shandong",
    "guangxi": "hunan",
    "chongqing": "hunan",
}
"""The form a hospital of one layout uses for the other kind of bill."""


def draw(claim: ClaimTruth, bill: BillTruth, doc: DocumentTruth, rng: random.Random) -> Drawn:
    """The bill in its province's paper layout (`bill.layout`)."""
    return LAYOUTS[bill.layout](claim, bill, doc, rng)


def pick_layout(rng: random.Random, paper: str, claim_type: ClaimType) -> str:
    """The layout a bill is drawn in: an e-bill (`ebill.bill_layout`) or the hospital's paper form,
    which for a stay is an inpatient form and for a visit an outpatient one (provinces print the two
    on different forms: a visit at a hospital of an inpatient-first layout takes its partner)."""
    kind = bill_layout(rng, paper)
    stay = claim_type is ClaimType.INPATIENT
    if (stay and kind in VISIT_FORMS) or (not stay and kind in STAY_FORMS):
        return PARTNER[kind]
    return kind


def issued(rng: random.Random, bill: BillTruth, social: bool, claim_type: ClaimType) -> BillTruth:
    """The bill as its layout issues it: a regional e-bill (`ebill.fiscal_ebill`), or a provincial
    inpatient form showing the funds beside 统筹 (`paper_kit.with_funds`); other layouts are left as
    they are (and the claim's random stream untouched)."""
    if bill.layout == "ebill":
        return fiscal_ebill(rng, bill, social, claim_type)
    if bill.layout not in STAY_FORMS:
        return bill
    return with_funds(rng, bill, social, claim_type)

"""Layouts of the bills: provincial paper invoices, the national e-invoice and the expense list.

Three provincial paper invoice styles (北京 green grid of fee categories, 上海 red two-column list,
广东 blue table with a side panel of payments), the national medical e-invoice (医疗收费电子票据) and
the expense list (费用清单). Values on pre-printed forms are printed off the grid by a per-document
misregistration, as by a real dot-matrix printer.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from pipeline.extract.qr import payload
from pipeline.records import DocType, FieldKind, LineItem, money
from synth.catalog import INVOICE_CATEGORIES
from synth.forms import cn_date
from synth.paper_kit import categories, yuan
from synth.render import INK, SEAL_RED, Canvas, rect_box
from synth.truth import BillTruth, ClaimTruth, DocumentTruth

__all__ = ["PAPER_STYLES", "amount_words", "e_invoice", "expense_list", "paper_invoice"]

M, D, T = FieldKind.MONEY, FieldKind.DATE, FieldKind.TEXT

PAPER_STYLES = {
    "beijing": {"title": "北京市医疗{kind}收费票据", "ink": (30, 120, 75), "paper": (245, 250, 243)},
    "shanghai": {"title": "上海市医疗{kind}收费票据", "ink": (185, 45, 60), "paper": (252, 246, 243)},
    "guangdong": {"title": "广东省医疗收费票据（{kind}）", "ink": (40, 80, 170), "paper": (243, 247, 252)},
}


def _insurance_type(claim: ClaimTruth, bill: BillTruth) -> str:
    """The bill's 医保类型 as the truth settled it (older truths: by the policy's enrolment)."""
    if bill.insurance_type is not None:
        return bill.insurance_type
    return "城镇职工基本医疗保险" if claim.policy.social_insurance else "自费"


def _printed_total(
    c: Canvas, x: float, y: float, bill: BillTruth, size: int, rng: random.Random, prefix: str = "¥"
) -> list[str]:
    """Print the total in figures; an altered invoice gets its figures pasted over on a patch."""
    tampered: list[str] = []
    original = f"{prefix}{yuan(bill.items_total)}"
    if bill.printed_total != bill.items_total:
        bbox = c.value_text(x, y, original, size)
        c.patch(bbox, margin=5, tint=rng.choice((-14, -10, 8)))
        c.fields.pop() if c.fields and c.fields[-1].name == "total_amount" else None
        c.text(
            x + c.offset[0] + rng.uniform(-4, 4),
            y + c.offset[1] + rng.uniform(-3, 3),
            f"{prefix}{yuan(bill.printed_total)}",
            size + rng.choice((-2, 1, 2)),
            face="serif",
            fill=(20, 20, 20),
            name="total_amount",
            kind=M,
            value=yuan(bill.printed_total),
        )
        tampered.append("total_amount")
    else:
        c.value_text(x, y, original, size, name="total_amount", kind=M, value=yuan(bill.printed_total))
    return tampered


def paper_invoice(
    claim: ClaimTruth, bill: BillTruth, doc: DocumentTruth, rng: random.Random
) -> tuple[Canvas, list[LineItem], list[str]]:
    """A provincial paper medical invoice in one of three styles (bill.layout)."""
    style = PAPER_STYLES[bill.layout]
    inpatient = doc.doc_type is DocType.INPATIENT_INVOICE
    kind_word = "住院" if inpatient else "门诊"
    ink = style["ink"]
    c = Canvas(1600, 1000, paper=style["paper"])
    big = rng.random() < 0.2
    c.offset = (
        rng.uniform(-22, 22) if big else rng.uniform(-10, 10),
        rng.uniform(-14, 14) if big else rng.uniform(-6, 6),
    )
    inc = claim.incident
    items: list[LineItem] = []
    cats = categories(bill)

    title = style["title"].format(kind=kind_word)
    c.text(800, 40, title, 46, face="serif", fill=ink, anchor="ma", name="title")
    c.hline(520, 1080, 104, ink, 3)
    c.hline(520, 1080, 110, ink, 1)
    c.text(80, 130, "票据代码", 22, fill=ink)
    c.value_text(180, 128, bill.invoice_code, 24, name="invoice_code")
    c.text(1150, 60, "票据号码", 22, fill=ink)
    c.text(1255, 54, bill.invoice_number, 30, face="serif", fill=SEAL_RED, name="invoice_number")
    c.text(1150, 130, "医疗机构类型", 22, fill=ink)
    c.value_text(
        1300, 128, "综合医院" if "门诊部" not in inc.hospital and "诊所" not in inc.hospital else "门诊部", 22
    )

    date_label, date_text, date_name, date_value = (
        "就诊日期",
        cn_date(inc.incident_date),
        "visit_date",
        inc.incident_date,
    )
    if inpatient and inc.admission_date and inc.discharge_date:
        date_label = "住院时间"
        date_text = f"{inc.admission_date:%Y%m%d}-{inc.discharge_date:%Y%m%d}"
        date_name, date_value = "stay_period", None
    no_label = "住院号" if inpatient else "门诊号"
    header = [
        ("交款人", claim.insured.name, "payer_name", T),
        ("性别", claim.insured.sex, "sex", T),
        ("医保类型", _insurance_type(claim, bill), "insurance_type", T),
        (no_label, inc.hospital_number, "hospital_number", T),
        (date_label, date_text, date_name, D if date_value else T),
        (
            "社会保障号码",
            claim.insured.id_number if claim.policy.social_insurance else "",
            "social_security_number",
            T,
        ),
    ]
    if bill.layout == "shanghai":
        header = header[:1] + header[3:5] + header[1:3] + header[5:]

    draw_body = {"beijing": _beijing_body, "shanghai": _shanghai_body}.get(bill.layout, _guangdong_body)
    tampered, foot = draw_body(c, bill, header, date_value, cats, items, ink, rng)

    c.text(80, foot, "收款单位（章）：", 22, fill=ink)
    bb = c.value_text(260, foot, inc.hospital, 24, name="hospital")
    c.text(900, foot, "收款人：", 22, fill=ink)
    c.value_text(990, foot, rng.choice(["张敏", "李娜", "王芳", "刘洁"]), 22, name="cashier")
    c.text(1160, foot, "开票日期：", 22, fill=ink)
    c.value_text(
        1280, foot, cn_date(bill.issue_date), 22, name="issue_date", kind=D, value=bill.issue_date.isoformat()
    )
    c.seal(
        (bb[0] + bb[2]) / 2 + rng.uniform(-40, 40),
        foot + rng.uniform(-15, 25),
        84,
        inc.hospital,
        f"{kind_word}收费专用章",
        rng=rng,
        oval=bill.layout != "guangdong",
    )
    c.crop_height(int(foot + 130))
    return c, items, tampered


def _beijing_body(
    c: Canvas,
    bill: BillTruth,
    header: list[tuple[str, str, str, FieldKind]],
    date_value: dt.date | None,
    cats: dict[str, Decimal],
    items: list[LineItem],
    ink: tuple[int, int, int],
    rng: random.Random,
) -> tuple[list[str], float]:
    """北京: a green grid of the header, sixteen fee-category cells, the payments in a row."""
    xs, ys = c.grid(50, 170, [130, 290, 90, 130, 140, 330, 120, 250], [60, 60], fill=ink)
    for k, (label, value, name, kind) in enumerate(header):
        r, col = divmod(k, 4)
        c.text(
            xs[col * 2] + 10,
            ys[r] + 16,
            label,
            c.fit_size(label, 22, xs[col * 2 + 1] - xs[col * 2] - 16),
            fill=ink,
        )
        v = value
        c.value_text(
            xs[col * 2 + 1] + 12,
            ys[r] + 16,
            v,
            c.fit_size(v, 22, xs[col * 2 + 2] - xs[col * 2 + 1] - 20),
            name=name,
            kind=kind,
            value=date_value.isoformat() if name == "visit_date" and date_value else None,
        )
    # fee categories: three pairs of label/amount columns
    top = 320
    cx, cy = c.grid(50, top, [170, 205, 170, 205, 170, 205, 170, 205], [50] * 4, fill=ink)
    for k, cat in enumerate(INVOICE_CATEGORIES + ["其他"] * 6):
        if k >= 16:
            break
        r, col = k % 4, k // 4
        c.text(cx[col * 2] + 14, cy[r] + 12, cat, 22, fill=ink)
        amount = cats.get(cat)
        if amount:
            bb = c.value_text(cx[col * 2 + 1] + 14, cy[r] + 12, yuan(amount), 22)
            items.append(
                LineItem(
                    name=cat,
                    category=cat,
                    amount=amount,
                    box=rect_box(cx[col * 2] + 14, min(bb[1], cy[r] + 12), bb[2], bb[3]),
                )
            )
    y = cy[-1]
    _, ty = c.grid(50, y, [220, 800, 140, 340], [60], fill=ink)
    c.text(72, y + 16, "合计（大写）", 22, fill=ink)
    c.value_text(300, y + 16, bill.printed_words, 24, name="total_in_words")
    c.text(1052, y + 16, "（小写）", 22, fill=ink)
    tampered = _printed_total(c, 1200, y + 14, bill, 26, rng)
    y = ty[-1]
    pays = [
        ("医保统筹基金支付", bill.fund_paid, "fund_paid"),
        ("个人账户支付", bill.account_paid, "account_paid"),
        ("个人现金支付", bill.cash_paid, "cash_paid"),
        ("个人自费", bill.self_pay, "self_pay"),
    ]
    px, _ = c.grid(50, y, [220, 155, 190, 155, 190, 155, 160, 275], [56], fill=ink)
    for k, (label, value, name) in enumerate(pays):
        c.text(px[k * 2] + 10, y + 15, label, 20, fill=ink)
        c.value_text(px[k * 2 + 1] + 10, y + 15, yuan(value), 22, name=name, kind=M, value=yuan(value))
    foot = y + 110
    return tampered, foot


def _shanghai_body(
    c: Canvas,
    bill: BillTruth,
    header: list[tuple[str, str, str, FieldKind]],
    date_value: dt.date | None,
    cats: dict[str, Decimal],
    items: list[LineItem],
    ink: tuple[int, int, int],
    rng: random.Random,
) -> tuple[list[str], float]:
    """上海: the header in two rows, fee categories in a two-column list, payments on one line."""
    xs, ys = c.grid(60, 170, [130, 260, 130, 230, 120, 240, 150, 220], [58, 58], fill=ink)
    for k, (label, value, name, kind) in enumerate(header):
        r, col = divmod(k, 4) if k < 4 else (1, k - 4)
        c.text(xs[col * 2] + 10, ys[r] + 16, label, 21, fill=ink)
        c.value_text(
            xs[col * 2 + 1] + 10,
            ys[r] + 16,
            value,
            21 if len(value) < 14 else 17,
            name=name,
            kind=kind,
            value=date_value.isoformat() if name == "visit_date" and date_value else None,
        )
    top = 320
    c.text(80, top + 4, "项 目", 22, fill=ink)
    c.text(420, top + 4, "金 额", 22, fill=ink)
    c.text(860, top + 4, "项 目", 22, fill=ink)
    c.text(1200, top + 4, "金 额", 22, fill=ink)
    c.hline(60, 1540, top + 44, ink, 2)
    for k, (cat, amount) in enumerate(cats.items()):
        r, col = k % 5, k // 5
        yy = top + 60 + r * 44
        x0 = 80 + col * 780
        c.value_text(x0, yy, cat, 22)
        bb = c.value_text(x0 + 340, yy, yuan(amount), 22)
        items.append(
            LineItem(
                name=cat,
                category=cat,
                amount=amount,
                box=rect_box(x0 + c.offset[0], min(bb[1], yy + c.offset[1]), bb[2], bb[3]),
            )
        )
    y = top + 60 + 5 * 44 + 10
    c.hline(60, 1540, y, ink, 2)
    c.text(80, y + 20, "合计人民币（大写）", 22, fill=ink)
    c.value_text(300, y + 20, bill.printed_words, 24, name="total_in_words")
    c.text(1050, y + 20, "¥", 24, fill=ink)
    tampered = _printed_total(c, 1080, y + 18, bill, 26, rng, prefix="")
    y += 70
    c.hline(60, 1540, y, ink, 2)
    pays = [
        ("统筹支付", bill.fund_paid, "fund_paid"),
        ("个人账户", bill.account_paid, "account_paid"),
        ("现金支付", bill.cash_paid, "cash_paid"),
        ("自费", bill.self_pay, "self_pay"),
    ]
    for k, (label, value, name) in enumerate(pays):
        c.text(80 + k * 370, y + 20, label + "：", 21, fill=ink)
        c.value_text(80 + k * 370 + 120, y + 20, yuan(value), 22, name=name, kind=M, value=yuan(value))
    foot = y + 90
    return tampered, foot


def _guangdong_body(
    c: Canvas,
    bill: BillTruth,
    header: list[tuple[str, str, str, FieldKind]],
    date_value: dt.date | None,
    cats: dict[str, Decimal],
    items: list[LineItem],
    ink: tuple[int, int, int],
    rng: random.Random,
) -> tuple[list[str], float]:
    """广东: a framed header, a table of fee categories with a side panel of payments."""
    c.rect(50, 160, 1550, 900, outline=ink, width=3)
    for k, (label, value, name, kind) in enumerate(header):
        r, col = divmod(k, 3)
        x0 = 70 + col * 500
        c.text(x0, 178 + r * 44, label + "：", 21, fill=ink)
        c.value_text(
            x0 + (140 if len(label) > 4 else 110),
            178 + r * 44,
            value,
            21 if len(value) < 16 else 17,
            name=name,
            kind=kind,
            value=date_value.isoformat() if name == "visit_date" and date_value else None,
        )
    top = 280
    tx, ty = c.grid(50, top, [260, 220, 500], [46] + [46] * 10, fill=ink)
    for k, head in enumerate(("收费项目", "金额（元）", "备注")):
        c.text((tx[k] + tx[k + 1]) / 2, top + 12, head, 22, fill=ink, anchor="ma")
    for k, cat in enumerate(INVOICE_CATEGORIES):
        yy = ty[k + 1] + 12
        c.text(tx[0] + 20, yy, cat, 21, fill=ink)
        amount = cats.get(cat)
        if amount:
            bb = c.value_text(tx[1] + 20, yy, yuan(amount), 21)
            items.append(
                LineItem(
                    name=cat,
                    category=cat,
                    amount=amount,
                    box=rect_box(tx[0] + 20, min(bb[1], yy), bb[2], bb[3]),
                )
            )
    px, py = c.grid(1030, top, [290, 230], [46] * 6, fill=ink)
    pays = [
        ("医保统筹基金支付", bill.fund_paid, "fund_paid"),
        ("个人账户支付", bill.account_paid, "account_paid"),
        ("个人现金支付", bill.cash_paid, "cash_paid"),
        ("个人自费", bill.self_pay, "self_pay"),
    ]
    c.text(1040, top + 12, "结算信息", 22, fill=ink)
    for k, (label, value, name) in enumerate(pays):
        c.text(1040, py[k + 1] + 12, label, 20, fill=ink)
        c.value_text(px[1] + 16, py[k + 1] + 12, yuan(value), 21, name=name, kind=M, value=yuan(value))
    y = ty[-1]
    c.hline(50, 1550, y + 64, ink, 2)
    c.text(70, y + 18, "合计（大写）", 22, fill=ink)
    c.value_text(230, y + 18, bill.printed_words, 24, name="total_in_words")
    c.text(1040, y + 18, "合计（小写）¥", 22, fill=ink)
    tampered = _printed_total(c, 1210, y + 16, bill, 26, rng, prefix="")
    foot = y + 120
    return tampered, foot


def e_invoice(
    claim: ClaimTruth, bill: BillTruth, doc: DocumentTruth, rng: random.Random
) -> tuple[Canvas, list[LineItem], list[str]]:
    """The national medical e-invoice (医疗收费电子票据) page, drawn at 2 px per PDF point."""
    inpatient = doc.doc_type is DocType.INPATIENT_INVOICE
    kind_word = "住院" if inpatient else "门诊"
    inc = claim.incident
    c = Canvas(1366, 794)
    red, brown = (200, 40, 40), (150, 75, 40)
    code = payload(bill.invoice_code, bill.invoice_number, bill.items_total, bill.issue_date, bill.check_code)
    c.qr(40, 28, 150, rng, data=code)
    c.text(683, 50, f"医疗{kind_word}收费电子票据", 40, face="serif", fill=red, anchor="ma", name="title")
    c.hline(480, 886, 104, red, 2)
    c.hline(480, 886, 110, red, 2)
    meta = [
        ("票据代码：", bill.invoice_code, "invoice_code", T),
        ("票据号码：", bill.invoice_number, "invoice_number", T),
        ("校验码：", bill.check_code, "check_code", T),
        ("开票日期：", bill.issue_date.isoformat(), "issue_date", D),
    ]
    for k, (label, value, name, kind) in enumerate(meta):
        c.text(1000, 40 + k * 34, label, 20, fill=brown)
        c.text(1120, 40 + k * 34, value, 20, name=name, kind=kind)
    c.text(200, 184, "交款人统一社会信用代码：", 20, fill=brown)
    c.text(440, 184, claim.insured.id_number, 20, name="payer_id_number")
    c.text(880, 184, "交款人：", 20, fill=brown)
    c.text(960, 184, claim.insured.name, 20, name="payer_name")
    xs, ys = c.grid(50, 220, [300, 150, 166, 300, 150, 166], [40] + [36] * 6, fill=brown, width=1)
    for k, head in enumerate(("项目名称", "数量/单位", "金额（元）") * 2):
        c.text((xs[k] + xs[k + 1]) / 2, 230, head, 19, fill=brown, anchor="ma")
    items: list[LineItem] = []
    for k, (cat, amount) in enumerate(categories(bill).items()):
        r, col = k % 6, k // 6
        y = ys[r + 1] + 8
        bb0 = c.text(xs[col * 3] + 12, y, cat, 19)
        c.text(xs[col * 3 + 1] + 12, y, "1项", 19)
        bb = c.text(xs[col * 3 + 3] - 12, y, yuan(amount), 19, anchor="ra")
        items.append(
            LineItem(
                name=cat,
                category=cat,
                amount=amount,
                box=rect_box(bb0[0], min(bb0[1], bb[1]), bb[2], max(bb0[3], bb[3])),
            )
        )
    y = ys[-1]
    c.grid(50, y, [1232], [44], fill=brown, width=1)
    c.text(62, y + 11, "金额合计（大写）", 20, fill=brown)
    c.text(240, y + 11, bill.printed_words, 20, name="total_in_words")
    c.text(900, y + 11, "（小写）", 20, fill=brown)
    c.text(
        990,
        y + 11,
        yuan(bill.printed_total),
        20,
        name="total_amount",
        kind=M,
        value=yuan(bill.printed_total),
    )
    y += 44
    c.grid(50, y, [1232], [150], fill=brown, width=1)
    c.text(62, y + 10, "备注：", 20, fill=brown)
    no_label = "住院号" if inpatient else "门诊号"
    notes = [
        (f"业务流水号：{bill.invoice_number[-6:]}{inc.hospital_number[-4:]}", None, None),
        (f"{no_label}：", inc.hospital_number, "hospital_number"),
        ("就诊日期：", inc.incident_date.isoformat(), "visit_date"),
        ("医保类型：", _insurance_type(claim, bill), "insurance_type"),
        ("性别：", claim.insured.sex, "sex"),
        ("医保统筹基金支付：", yuan(bill.fund_paid), "fund_paid"),
        ("个人账户支付：", yuan(bill.account_paid), "account_paid"),
        ("个人现金支付：", yuan(bill.cash_paid), "cash_paid"),
        ("个人自费：", yuan(bill.self_pay), "self_pay"),
    ]
    for k, (label, value, name) in enumerate(notes):
        r, col = divmod(k, 3)
        x0, y0 = 140 + col * 380, y + 12 + r * 42
        bb = c.text(x0, y0, label, 18, fill=INK)
        if value is not None:
            kind = (
                M
                if name in ("fund_paid", "account_paid", "cash_paid", "self_pay")
                else (D if name == "visit_date" else T)
            )
            c.text(bb[2] + 2, y0, value, 18, name=name, kind=kind)
    y += 170
    c.text(62, y, "收款单位（章）：", 20, fill=brown)
    bb = c.text(230, y, inc.hospital, 20, name="hospital")
    c.text(760, y, "复核人：", 20, fill=brown)
    c.text(850, y, "系统", 20)
    c.text(1000, y, "收款人：", 20, fill=brown)
    c.text(1090, y, "自助机", 20, name="cashier")
    c.seal(683, 70, 56, "财政部监制", "", rng=rng, oval=True, color=(215, 60, 50))
    c.seal(bb[0] + 110, y + 5, 70, inc.hospital, "电子票据专用章", rng=rng)
    return c, items, []


def expense_list(
    claim: ClaimTruth, bill: BillTruth, doc: DocumentTruth, rng: random.Random, rows_per_page: int
) -> tuple[Canvas, list[LineItem], list[str]]:
    """One page of the expense list (费用清单): item, category, 甲/乙/丙 class, qty, price, amount."""
    inc = claim.incident
    inpatient = inc.admission_date is not None
    c = Canvas(1240, 1754)
    title = f"{inc.hospital}{'住院' if inpatient else '门诊'}费用清单"
    c.text(620, 60, title, 40, face="serif", anchor="ma", name="title")
    info = [
        ("姓名：", claim.insured.name, "patient_name", T),
        ("住院号：" if inpatient else "门诊号：", inc.hospital_number, "hospital_number", T),
        ("科室：", inc.department, "department", T),
        (
            "入院日期：" if inpatient else "就诊日期：",
            inc.incident_date.isoformat(),
            "admission_date" if inpatient else "visit_date",
            D,
        ),
    ]
    if inpatient and inc.discharge_date:
        info.append(("出院日期：", inc.discharge_date.isoformat(), "discharge_date", D))
    info.append(("医保类型：", _insurance_type(claim, bill), "insurance_type", T))
    for k, (label, value, name, kind) in enumerate(info):
        r, col = divmod(k, 3)
        bb = c.text(70 + col * 380, 140 + r * 40, label, 22)
        c.text(bb[2] + 4, 140 + r * 40, value, 22, name=name, kind=kind)
    heads = ["日期", "项目编码", "项目名称", "类别", "医保", "单位", "数量", "单价", "金额"]
    widths = [130, 140, 330, 110, 70, 70, 70, 120, 140]
    top = 240
    rows = bill.items[(doc.page_number - 1) * rows_per_page : doc.page_number * rows_per_page]
    xs, ys = c.grid(35, top, widths, [50] + [50] * len(rows) + [50], width=1)
    for k, h in enumerate(heads):
        c.text((xs[k] + xs[k + 1]) / 2, top + 13, h, 22, anchor="ma")
    items: list[LineItem] = []
    for r, it in enumerate(rows):
        y = ys[r + 1] + 13
        cells = [
            it.date.strftime("%m-%d"),
            it.code,
            it.name,
            it.category,
            it.insurance_class,
            it.unit,
            f"{it.quantity:g}",
            yuan(it.unit_price),
            yuan(it.amount),
        ]
        boxes = []
        for k, cell in enumerate(cells):
            size = c.fit_size(cell, 21, widths[k] - 12)
            if k >= 6:
                boxes.append(c.text(xs[k + 1] - 8, y, cell, size, anchor="ra"))
            else:
                boxes.append(c.text(xs[k] + 7, y, cell, size))
        x0 = boxes[2][0]
        items.append(
            it.to_line_item(
                page=doc.page_number,
                box=rect_box(x0, min(b[1] for b in boxes[2:]), boxes[-1][2], max(b[3] for b in boxes[2:])),
            )
        )
    page_total = money(sum((it.amount for it in rows), Decimal(0)))
    y = ys[-2] + 13
    c.text(xs[0] + 8, y, "本页小计", 22)
    c.text(
        xs[-1] - 8, y, yuan(page_total), 22, anchor="ra", name="page_total", kind=M, value=yuan(page_total)
    )
    y = ys[-1] + 30
    if doc.page_number == doc.page_count:
        bb = c.text(70, y, "费用合计：", 24)
        c.text(
            bb[2] + 4,
            y,
            yuan(bill.items_total),
            24,
            name="total_amount",
            kind=M,
            value=yuan(bill.items_total),
        )
        bb = c.text(560, y, "大写：", 24)
        c.text(bb[2] + 4, y, amount_words(bill.items_total), 24, name="total_in_words")
        c.seal(960, y + 120, 90, inc.hospital, "费用清单专用章", rng=rng)
    bottom = 1690
    if doc.page_count == 1 and y < 1200:  # a short outpatient list is printed on a receipt-length slip
        bottom = int(y + 230)
        c.crop_height(bottom + 60)
    c.text(
        620, bottom, f"第 {doc.page_number} 页  共 {doc.page_count} 页", 20, anchor="ma", name="page_label"
    )
    c.text(70, bottom, f"打印日期：{bill.issue_date.isoformat()}", 18)
    return c, items, []


def amount_words(value: Decimal) -> str:
    from synth.amounts import amount_in_words

    return amount_in_words(value)

"""What the provincial paper bills (医疗门诊/住院收费票据) share: values printed by a dot-matrix
printer onto a pre-printed form (off its grid, in dots), pin-feed strips with their holes, the
bill's fee categories and its printed total, and the funds beside 统筹 an inpatient bill may show.

Every value drawn here is recorded as a truth field with its box, as `synth.render.Canvas.text`
does; the layouts themselves live in `synth.provincial` and `synth.provincial_stay`.
"""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal

import numpy as np
from PIL import Image, ImageDraw

from pipeline.records import ClaimType, FieldKind, LineItem, money
from synth.catalog import INVOICE_CATEGORIES
from synth.render import PRINTER_INK, Canvas, Run, font, rect_box
from synth.truth import BillTruth, ClaimTruth, FieldTruth

M, D, T = FieldKind.MONEY, FieldKind.DATE, FieldKind.TEXT
FUND_LABELS = {
    "serious_illness_paid": ("大额（病）保险报销", "大额医疗支付", "大病保险报销"),
    "civil_servant_paid": ("公务员补助", "公务员医疗补助"),
    "medical_aid_paid": ("医疗救助", "大病救助"),
    "other_insurance_paid": ("其他医保支付",),
    "public_medical_paid": ("公医记帐",),
}
"""The funds beside 统筹 paper inpatient bills print, with the labels provinces give them."""
FUND_SHARE = 0.5
"""Share of insured inpatients' paper bills on which one of those funds pays a part."""


def yuan(v: Decimal) -> str:
    return f"{v:.2f}"


def categories(bill: BillTruth) -> dict[str, Decimal]:
    """The bill's items summed by fee category (收费项目), in the order bills print them."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for item in bill.items:
        sums[item.category] += item.amount
    return {c: money(sums[c]) for c in INVOICE_CATEGORIES if sums.get(c)}


SCHEMES = ("城镇职工基本医疗保险", "职工医保", "城乡居民", "居民医保", "省内异地")
"""The 医保类型 a bill settled through social insurance prints."""


def insurance_type(claim: ClaimTruth, bill: BillTruth, rng: random.Random) -> str:
    """The bill's 医保类型: as the truth settled it (older truths: by the policy's enrolment). An enrolled
    insured's page draws a scheme whatever it prints, so the page's stream does not hang on the truth."""
    if not claim.policy.social_insurance:
        return bill.insurance_type or "自费"
    drawn = rng.choice(SCHEMES)
    return bill.insurance_type or drawn


def with_funds(rng: random.Random, bill: BillTruth, social: bool, claim_type: ClaimType) -> BillTruth:
    """An insured inpatient's paper bill on which another fund pays a share of what 统筹 left:
    the fund is recorded by field name and the cash share shrinks by it."""
    left = bill.items_total - bill.fund_paid - bill.account_paid
    if not social or claim_type is not ClaimType.INPATIENT or left < 500 or rng.random() >= FUND_SHARE:
        return bill
    name = rng.choice(sorted(FUND_LABELS))
    paid = money(left * Decimal(str(round(rng.uniform(0.05, 0.3), 2))))
    return bill.model_copy(update={"funds": {name: paid}, "cash_paid": money(left - paid)})


def settlement(cash: Decimal, rng: random.Random) -> tuple[Decimal, Decimal, Decimal]:
    """预缴 (prepaid on admission), 补缴 (paid on top at discharge) and 退费 (refunded): one of the
    last two is zero, and prepaid + 补缴 − 退费 is the cash share."""
    step = rng.choice((500, 1000, 2000, 5000))
    if rng.random() < 0.6:
        prepaid = money(Decimal(step) * (int(cash // step) + 1))
        return prepaid, Decimal("0.00"), money(prepaid - cash)
    prepaid = money(Decimal(step) * int(cash // step))
    return prepaid, money(cash - prepaid), Decimal("0.00")


DEPOSIT_LABELS = {"prepaid": "预缴金额", "supplementary_paid": "补缴金额", "refund": "退费金额"}
"""The settlement lines of an inpatient bill (field -> label), in the order most bills print them."""


def deposit_lines(
    cash: Decimal, rng: random.Random, labels: dict[str, str] = DEPOSIT_LABELS
) -> list[tuple[str, Decimal, str]]:
    """(label, amount, field) of the 预缴 / 补缴 / 退费 lines (`settlement`), in the order of `labels`."""
    prepaid, more, back = settlement(cash, rng)
    amounts = {"prepaid": prepaid, "supplementary_paid": more, "refund": back}
    return [(label, amounts[name], name) for name, label in labels.items()]


def cash_shares(bill: BillTruth, rng: random.Random) -> tuple[Decimal, Decimal, Decimal]:
    """What the cash share is made of (现金支付中): 自费 (items outside the scheme), 分类自负 (the
    patient's first share of 乙类 items) and 自负 (the rest); the three add up to the cash paid."""
    self_pay = min(bill.self_pay, bill.cash_paid)
    rest = bill.cash_paid - self_pay
    class_b = (
        money(rest * Decimal(str(round(rng.uniform(0.0, 0.4), 2)))) if rng.random() < 0.6 else Decimal("0.00")
    )
    return money(self_pay), class_b, money(rest - class_b)


def dot_text(
    c: Canvas,
    x: float,
    y: float,
    text: str,
    size: int = 22,
    *,
    name: str | None = None,
    kind: FieldKind = T,
    value: str | None = None,
    fill: tuple[int, int, int] = PRINTER_INK,
) -> tuple[float, float, float, float]:
    """A value struck by a dot-matrix printer: shifted by the printer's misregistration, and made of
    dots (a heavy glyph through a pin grid), so strokes look stippled and a little bold."""
    if not text:
        return (x, y, x, y)
    x, y = x + c.offset[0], y + c.offset[1]
    f = font(size, "sans")
    weight = 1 if size >= 26 else 0  # the pins' strike thickens big glyphs; small ones would clog
    bbox = c.draw.textbbox((x, y), text, font=f, stroke_width=weight)
    w, h = int(bbox[2] - bbox[0]) + 4, int(bbox[3] - bbox[1]) + 4
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).text(
        (x - bbox[0] + 2, y - bbox[1] + 2), text, font=f, fill=255, stroke_width=weight, stroke_fill=255
    )
    yy, xx = np.mgrid[0:h, 0:w]
    pins = ((yy % 3) != 2) | ((xx % 2) == 0)  # the gaps between the pins' rows
    dots = Image.fromarray((np.asarray(mask) * pins).astype(np.uint8), "L")
    c.image.paste(Image.new("RGB", (w, h), fill), (int(bbox[0]) - 2, int(bbox[1]) - 2), dots)
    c.runs.append(Run(text, bbox[0], bbox[1], size, "sans", bbox))
    if name:
        c.fields.append(
            FieldTruth(
                name=name,
                kind=kind,
                value=value if value is not None else text,
                text=text,
                box=rect_box(*bbox),
            )
        )
    return bbox


def put(
    c: Canvas, dot: bool, x: float, y: float, text: str, size: int, **kw
) -> tuple[float, float, float, float]:
    """A value on a pre-printed form: dot-matrix or laser (`Canvas.value_text`)."""
    return dot_text(c, x, y, text, size, **kw) if dot else c.value_text(x, y, text, size, **kw)


def money_value(c: Canvas, dot: bool, x: float, y: float, v: Decimal, name: str, size: int = 21) -> None:
    put(c, dot, x, y, yuan(v), size, name=name, kind=M, value=yuan(v))


def printed_total(
    c: Canvas, dot: bool, x: float, y: float, bill: BillTruth, size: int, rng: random.Random, prefix: str = ""
) -> list[str]:
    """The total in figures; an altered bill gets its figures pasted over on a patch of paper."""
    if bill.printed_total == bill.items_total:
        put(
            c,
            dot,
            x,
            y,
            f"{prefix}{yuan(bill.items_total)}",
            size,
            name="total_amount",
            kind=M,
            value=yuan(bill.items_total),
        )
        return []
    bbox = put(c, dot, x, y, f"{prefix}{yuan(bill.items_total)}", size)
    c.patch(bbox, margin=5, tint=rng.choice((-14, -10, 8)))
    c.text(
        x + c.offset[0] + rng.uniform(-4, 4),
        y + c.offset[1],
        f"{prefix}{yuan(bill.printed_total)}",
        size + 1,
        face="serif",
        fill=(20, 20, 20),
        name="total_amount",
        kind=M,
        value=yuan(bill.printed_total),
    )
    return ["total_amount"]


def category_items(
    c: Canvas,
    dot: bool,
    cells: list[tuple[float, float, float]],
    cats: dict[str, Decimal],
    size: int,
    ink: tuple[int, int, int],
    *,
    zeros: bool = False,
) -> list[LineItem]:
    """Fee categories in pre-printed cells (label x, amount x, y): the amounts printed where the bill
    has them (a zero where `zeros`, as some forms print every category); the items with their boxes."""
    items: list[LineItem] = []
    names = INVOICE_CATEGORIES if zeros else list(cats)
    for (lx, ax, y), cat in zip(cells, names, strict=False):
        c.text(lx, y, cat, size, fill=ink)
        amount = cats.get(cat)
        if amount is None:
            put(c, dot, ax, y, "0.00", size)
            continue
        bb = put(c, dot, ax, y, yuan(amount), size)
        items.append(
            LineItem(name=cat, category=cat, amount=amount, box=rect_box(lx, min(bb[1], y), bb[2], bb[3]))
        )
    return items


def shift(c: Canvas, items: list[LineItem], dx: float, dy: float, into: Canvas) -> list[LineItem]:
    """Paste `c` into `into` at (dx, dy): its fields and runs move with it; returns its items moved."""
    into.image.paste(c.image, (int(dx), int(dy)))
    for f in c.fields:
        box = tuple((x + int(dx), y + int(dy)) for x, y in f.box) if f.box else None
        into.fields.append(f.model_copy(update={"box": box}))
    for r in c.runs:
        b = r.bbox
        into.runs.append(
            Run(
                r.text,
                r.x + int(dx),
                r.y + int(dy),
                r.size,
                r.face,
                (b[0] + int(dx), b[1] + int(dy), b[2] + int(dx), b[3] + int(dy)),
            )
        )
    moved = []
    for i in items:
        box = tuple((x + int(dx), y + int(dy)) for x, y in i.box) if i.box else None
        moved.append(i.model_copy(update={"box": box}))
    return moved


def pin_feed(c: Canvas, items: list[LineItem], rng: random.Random) -> tuple[Canvas, list[LineItem]]:
    """Continuous stationery: a strip of sprocket holes either side, torn along its perforations."""
    strip = rng.randint(56, 76)
    out = Canvas(c.width + 2 * strip, c.height, paper=c.paper)
    moved = shift(c, items, strip, 0, out)
    pitch = rng.choice((42, 48, 50))
    r = rng.randint(9, 12)
    for cx in (strip / 2, c.width + 1.5 * strip):
        for y in range(pitch // 2, c.height, pitch):
            out.draw.ellipse(
                [cx - r, y - r, cx + r, y + r], fill=(250, 250, 250), outline=(150, 150, 150), width=2
            )
    for x in (strip - 6, c.width + strip + 6):
        for y in range(0, c.height, 14):
            out.vline(x, y, y + 6, fill=(170, 170, 170), width=1)
    return out, moved

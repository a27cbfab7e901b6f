"""Layouts of the cards a claimant photographs: the ID card front (居民身份证) and the bank card, each
on a desk.
"""

from __future__ import annotations

import random

from pipeline.records import FieldKind, LineItem
from synth.people import group_digits
from synth.render import Canvas, Run
from synth.truth import ClaimTruth, DocumentTruth

__all__ = ["bank_card", "id_card", "on_table"]

D = FieldKind.DATE


def id_card(
    claim: ClaimTruth, doc: DocumentTruth, rng: random.Random, *, keep_text: bool = False
) -> tuple[Canvas, list[LineItem], list[str]]:
    """居民身份证 front (the personal-data side), a specimen card on a table top."""
    p = claim.claimant
    card = Canvas(856, 540, paper=(232, 240, 246))
    for k in range(0, 540, 6):  # guilloche-like background lines
        card.draw.line([(0, k), (856, k + 40 * ((k // 6) % 2))], fill=(220, 230, 240), width=1)
    lab = (60, 110, 160)
    card.text(60, 50, "姓名", 24, fill=lab)
    card.text(150, 44, p.name, 34, face="serif", name="name")
    card.text(60, 118, "性别", 24, fill=lab)
    card.text(150, 114, p.sex, 28, face="serif", name="sex")
    card.text(260, 118, "民族", 24, fill=lab)
    card.text(350, 114, p.ethnicity, 28, face="serif", name="ethnicity")
    card.text(60, 180, "出生", 24, fill=lab)
    card.text(
        150,
        176,
        f"{p.birth_date.year}  年 {p.birth_date.month}  月 {p.birth_date.day}  日",
        28,
        face="serif",
        name="birth_date",
        kind=D,
        value=p.birth_date.isoformat(),
    )
    card.text(60, 244, "住址", 24, fill=lab)
    y = 240
    addr = p.address
    lines = [addr[i : i + 11] for i in range(0, len(addr), 11)]
    for k, line in enumerate(lines):
        card.text(150, y + k * 40, line, 28, face="serif", name="address" if k == 0 else f"address_{k + 1}")
    card.text(60, 440, "公民身份号码", 24, fill=lab)
    card.text(260, 434, p.id_number, 34, face="sans", name="id_number")
    card.rect(600, 60, 800, 310, outline=(200, 210, 220), width=1, fill=(210, 220, 230))
    card.draw.ellipse([650, 90, 750, 200], fill=(170, 180, 195))
    card.draw.pieslice([620, 190, 780, 380], 180, 360, fill=(170, 180, 195))
    card.watermark("样本", 160, fill=(190, 60, 60))
    return on_table(card, rng, keep_text=keep_text)


def bank_card(
    claim: ClaimTruth, doc: DocumentTruth, rng: random.Random, *, keep_text: bool = False
) -> tuple[Canvas, list[LineItem], list[str]]:
    """Debit card front: bank, embossed card number (the payee account), valid-thru, UnionPay."""
    palette = {
        "中国工商银行": (170, 30, 40),
        "中国建设银行": (20, 60, 140),
        "中国农业银行": (20, 120, 100),
        "中国银行": (160, 20, 30),
        "招商银行": (190, 40, 40),
        "交通银行": (30, 50, 120),
    }
    base = palette.get(claim.bank_card.bank, (60, 60, 120))
    card = Canvas(856, 540, paper=base)
    for k in range(540):
        shade = tuple(min(255, int(ch + 60 * k / 540)) for ch in base)
        card.draw.line([(0, k), (856, k)], fill=shade)
    white = (250, 250, 250)
    card.text(50, 40, claim.bank_card.bank, 40, face="serif", fill=white, name="bank_name")
    card.text(50, 100, "借记卡 DEBIT CARD", 22, fill=white)
    card.rect(80, 170, 180, 245, outline=(150, 120, 40), width=2, fill=(215, 185, 100))
    number = group_digits(claim.bank_card.number)
    size = card.fit_size(number, 50, 760)
    card.text(
        428,
        300,
        number,
        size,
        fill=(240, 240, 235),
        anchor="ma",
        name="card_number",
        value=claim.bank_card.number,
    )
    card.text(430, 390, "有效期", 18, fill=white)
    card.text(500, 385, claim.bank_card.valid_thru, 28, fill=white, name="valid_thru")
    card.rect(640, 400, 820, 500, outline=white, width=2, fill=(20, 90, 150))
    card.text(730, 418, "银联", 30, fill=white, anchor="ma")
    card.text(730, 460, "UnionPay", 20, fill=white, anchor="ma")
    card.watermark("样本", 160, fill=(235, 235, 235))
    return on_table(card, rng, keep_text=keep_text)


def on_table(
    card: Canvas, rng: random.Random, *, keep_text: bool = False
) -> tuple[Canvas, list[LineItem], list[str]]:
    """A card photographed on a desk: paste it onto a plain background and move its fields with it.

    `keep_text` moves the card's printed strings along too: the doc-type training set reads a page's
    strings as its text lines (`synth.doc_samples`), and a card pasted as pixels alone would have none.
    """
    tone = rng.choice([(120, 95, 70), (200, 200, 195), (70, 70, 75), (160, 130, 100)])
    table = Canvas(1300, 900, paper=tone)
    ox, oy = rng.randint(120, 300), rng.randint(100, 260)
    table.image.paste(card.image, (ox, oy))
    for f in card.fields:
        box = tuple((x + ox, y + oy) for x, y in f.box) if f.box else None
        table.fields.append(f.model_copy(update={"box": box}))
    if keep_text:
        for run in card.runs:
            x0, y0, x1, y1 = run.bbox
            box = (x0 + ox, y0 + oy, x1 + ox, y1 + oy)
            table.runs.append(Run(run.text, run.x + ox, run.y + oy, run.size, run.face, box))
    return table, [], []

"""How a paper bill reaches the insurer, beyond the hand-held phone photo of `synth.degrade`: laid
on a flatbed scanner (the bill in a corner of an A4 scan, the lid white around it), photographed
lying on a table (the table around it, the bill a part of the frame), with personal details masked
by the claimant or the hospital (white correction tape or a black marker over the name and the
numbers), or several bills pasted on one A4 sheet (see `synth.pasted`).

Each step moves the truth with the pixels: a bill pasted onto a larger page carries its fields and
items with it; a masked field leaves the truth's fields and is listed in `DocumentTruth.hidden`, so
it is neither scored nor expected of the reader.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from pipeline.records import DocType, LineItem
from synth.paper_kit import pin_feed, shift
from synth.render import Canvas

BILLS = (DocType.OUTPATIENT_INVOICE, DocType.INPATIENT_INVOICE)
FLATBED_SHARE = 0.2
"""Share of bills (paper or printed e-bills) laid on a flatbed scanner rather than photographed."""
TABLE_SHARE = 0.12
"""Share photographed lying on a table, the table filling the frame around the bill."""
CROPPED_SHARE = 0.5
"""Share of flatbed scans cropped to the bill by the scanner's software (the rest are whole A4)."""
PIN_FEED_EBILL_SHARE = 0.25
"""Share of printed e-bills a hospital prints on its old pin-feed stationery rather than on A4."""
MASK_SHARE = 0.15
"""Share of bills with personal details masked before they were sent."""
PERSONAL = ("payer_name", "payer_id_number", "social_security_number", "hospital_number", "patient_name")
"""Fields a claimant or a hospital's copy desk masks (names, ID and insurance numbers, case numbers)."""
TABLE_TONES = ((120, 95, 70), (200, 198, 190), (70, 72, 78), (165, 135, 105), (225, 215, 200))


@dataclass
class Staged:
    """A page ready for the camera or the scanner: what is drawn, where its items are, what is
    masked, and how it is to be captured (`photo`, `scan` or `table`)."""

    canvas: Canvas
    items: list[LineItem]
    hidden: list[str] = field(default_factory=list)
    mode: str = "photo"


def stage(
    key: str, doc_type: DocType, canvas: Canvas, items: list[LineItem], retake: bool, layout: str = ""
) -> Staged:
    """How this page is captured, drawn from its own stream (`key`: the claim's and the page's names),
    so the photos' stream is left alone. Masks and the paper are the paper's, so a retake keeps them
    (an e-bill printed on pin-feed stationery stays so); a retake is always a phone photo (the
    claimant answers a notice with the phone)."""
    if doc_type not in BILLS:
        return Staged(canvas, items)
    rng = random.Random(f"{key}:capture")
    hidden = mask_personal(canvas, rng) if rng.random() < MASK_SHARE else []
    u = rng.random()
    if layout == "ebill" and rng.random() < PIN_FEED_EBILL_SHARE:
        canvas, items = pin_feed(canvas, items, rng)
    if retake:
        return Staged(canvas, items, hidden)
    if u < FLATBED_SHARE:
        glass, moved = on_glass(canvas, items, rng)
        return Staged(glass, moved, hidden, "scan")
    if u < FLATBED_SHARE + TABLE_SHARE:
        table, moved = on_table(canvas, items, rng)
        return Staged(table, moved, hidden, "table")
    return Staged(canvas, items, hidden)


def mask_personal(canvas: Canvas, rng: random.Random) -> list[str]:
    """Cover one to three personal fields with tape (paper white) or marker (black); the covered
    fields leave the truth. Returns their names."""
    present = [f for f in canvas.fields if f.name in PERSONAL and f.box is not None]
    if not present:
        return []
    chosen = rng.sample(present, min(len(present), rng.randint(1, 3)))
    tape = rng.random() < 0.6
    color = (252, 252, 250) if tape else (25, 25, 28)
    for f in chosen:
        xs, ys = [p[0] for p in f.box], [p[1] for p in f.box]  # type: ignore[union-attr]
        pad = rng.randint(4, 12)
        x1 = max(xs) + pad + rng.randint(0, 60)  # tape runs past the value
        canvas.draw.rectangle([min(xs) - pad, min(ys) - pad, x1, max(ys) + pad], fill=color)
    names = {f.name for f in chosen}
    canvas.fields = [f for f in canvas.fields if f.name not in names]
    return sorted(names)


def on_glass(canvas: Canvas, items: list[LineItem], rng: random.Random) -> tuple[Canvas, list[LineItem]]:
    """The bill on a scanner's glass: an A4 page (the lid's white) with the bill near a corner, or,
    as half the scanners' software does, the scan cropped to the paper with a margin of lid."""
    width = max(int(canvas.width * rng.uniform(1.05, 1.25)), canvas.width + 40)
    height = max(int(width * 1.414), canvas.height + 40)
    if rng.random() < CROPPED_SHARE:
        width, height = canvas.width + rng.randint(30, 140), canvas.height + rng.randint(30, 140)
    lid = rng.randint(240, 252)
    page = Canvas(width, height, paper=(lid, lid, lid))
    dx = rng.randint(10, max(11, width - canvas.width - 10))
    dy = rng.randint(10, max(11, min(200, height - canvas.height - 10)))
    return page, shift(canvas, items, dx, dy, page)


def on_table(canvas: Canvas, items: list[LineItem], rng: random.Random) -> tuple[Canvas, list[LineItem]]:
    """The bill lying on a table, photographed from above: the table fills a third or more of the
    frame around it, with a little texture and the shadow of the paper's edge."""
    scale = rng.uniform(1.25, 1.6)
    width, height = int(canvas.width * scale), int(canvas.height * scale)
    tone = rng.choice(TABLE_TONES)
    table = Canvas(width, height, paper=tone)
    grain = np.random.default_rng(rng.getrandbits(32)).normal(0, 6, (height // 8 + 1, width // 8 + 1))
    wood = np.kron(grain, np.ones((8, 8)))[:height, :width, None]
    base = np.asarray(table.image, dtype=np.float32) + wood
    table.image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    table.draw = ImageDraw.Draw(table.image)
    dx = rng.randint(int(0.05 * width), width - canvas.width - int(0.05 * width))
    dy = rng.randint(int(0.05 * height), height - canvas.height - int(0.05 * height))
    table.draw.rectangle([dx + 6, dy + 8, dx + canvas.width + 8, dy + canvas.height + 10], fill=_shade(tone))
    return table, shift(canvas, items, dx, dy, table)


def _shade(tone: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(int(v * 0.7) for v in tone)  # type: ignore[return-value]

"""Several bills pasted on one A4 sheet, as claimants glue their receipts before photographing or
scanning them: two or three paper bills (of one family's claims, say) stacked down the sheet, a
little askew, then captured whole. The truth holds each bill apart (`DocumentTruth.parts`): its
outline on the final page, its fields and its items, all moved with the pixels.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ocr.elements import Box
from pipeline.records import DocType, LineItem
from synth.degrade import degrade
from synth.documents import render_page
from synth.paper_kit import shift
from synth.render import Canvas, rect_box
from synth.scan import scan
from synth.truth import ClaimTruth, DocumentTruth, PartTruth

SHEET = (2480, 3508)
"""A4 at 300 dpi: the sheet the bills are glued on."""
PHOTO_LONG_SIDE = 3000
"""A phone's photo of a whole sheet keeps most of its pixels (12 MP cameras)."""
BILLS = (DocType.OUTPATIENT_INVOICE, DocType.INPATIENT_INVOICE)


def paper_bills(claims: Sequence[ClaimTruth]) -> list[tuple[ClaimTruth, DocumentTruth]]:
    """The bills of these claims that arrive on paper (not as a born-digital PDF)."""
    return [
        (c, d)
        for c in claims
        for d in c.documents
        if d.doc_type in BILLS and d.media_type != "application/pdf"
    ]


def pasted_sheet(
    bills: Sequence[tuple[ClaimTruth, DocumentTruth]], out: Path, rng: random.Random, *, scanned: bool = False
) -> DocumentTruth:
    """Glue up to three bills down one sheet, photograph (or scan) it, write it to `out`; returns the
    sheet's truth with one part per bill. Fewer fit when the bills are tall."""
    sheet = Canvas(*SHEET, paper=(246, 246, 242))
    placed: list[tuple[ClaimTruth, DocumentTruth, slice, list[LineItem], Box]] = []
    y = rng.randint(60, 160)
    for claim, doc in bills[:3]:
        canvas, items, _ = render_page(claim, doc, rng)
        if y + canvas.height > SHEET[1] - 40 or canvas.width > SHEET[0] - 40:
            break
        x = rng.randint(20, SHEET[0] - canvas.width - 20)
        first = len(sheet.fields)
        moved = shift(canvas, items, x, y, sheet)
        outline = rect_box(x, y, x + canvas.width, y + canvas.height)
        placed.append((claim, doc, slice(first, len(sheet.fields)), moved, outline))
        y += canvas.height + rng.randint(40, 140)
    if scanned:
        photo, move = scan(sheet.image, np.random.default_rng(rng.getrandbits(32)), SHEET[1])
    else:
        photo, move = degrade(
            sheet.image, np.random.default_rng(rng.getrandbits(32)), "mild", PHOTO_LONG_SIDE
        )
    parts = [
        PartTruth(
            claim_id=claim.claim_id,
            doc_type=doc.doc_type,
            layout=doc.layout,
            region=move(outline),
            fields=[f.model_copy(update={"box": move(f.box)}) for f in sheet.fields[fields]],
            line_items=[i.model_copy(update={"box": move(i.box)}) for i in items],
        )
        for claim, doc, fields, items, outline in placed
    ]
    out.write_bytes(photo.data)
    return DocumentTruth(
        file=out.name,
        doc_type=placed[0][1].doc_type,
        media_type="image/jpeg",
        layout="pasted_sheet",
        group="pasted_sheet_1",
        width=photo.width,
        height=photo.height,
        rotation=photo.rotation,
        degradations=[*photo.kinds, "pasted"],
        severity=photo.severity,
        parts=parts,
    )

"""Bills pasted on one sheet (synth.pasted): one truth per bill, each inside its own outline."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image

from synth.book import make_book
from synth.pasted import paper_bills, pasted_sheet


def _inside(box, region) -> bool:
    xs, ys = [p[0] for p in region], [p[1] for p in region]
    return all(min(xs) - 2 <= x <= max(xs) + 2 and min(ys) - 2 <= y <= max(ys) + 2 for x, y in box)


def test_each_bill_keeps_its_own_truth_inside_its_outline(tmp_path: Path) -> None:
    bills = paper_bills(make_book(16, seed=9))
    for scanned in (False, True):
        doc = pasted_sheet(bills[:3], tmp_path / "s.jpg", random.Random(2), scanned=scanned)
        with Image.open(tmp_path / "s.jpg") as im:
            assert im.size == (doc.width, doc.height)
        assert 2 <= len(doc.parts) <= 3 and not doc.fields and "pasted" in doc.degradations
        numbers = [next(f.value for f in p.fields if f.name == "invoice_number") for p in doc.parts]
        assert len(set(numbers)) == len(numbers)
        for part in doc.parts:
            assert part.fields and part.line_items
            assert all(_inside(f.box, part.region) for f in part.fields if f.box)

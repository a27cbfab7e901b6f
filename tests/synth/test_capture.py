"""Capture of paper bills (synth.capture): scans on the glass, photos on a table, masked fields;
the truth moves with the pixels and masked fields leave it."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.records import DocType
from synth.capture import PERSONAL, mask_personal, on_glass, on_table, stage
from synth.documents import CorpusSummary
from synth.facts import read_truth
from synth.render import Canvas, rect_box


def _bill() -> tuple[Canvas, list]:
    from pipeline.records import LineItem

    c = Canvas(800, 400)
    c.text(40, 40, "交款人：", 24)
    c.text(140, 40, "张三丰", 24, name="payer_name")
    c.text(40, 100, "住院号：", 24)
    c.text(140, 100, "ZY12345678", 24, name="hospital_number")
    bb = c.text(40, 160, "合计：123.45", 24, name="total_amount", value="123.45")
    return c, [LineItem(name="西药费", amount="123.45", box=rect_box(*bb))]


def _ink(c: Canvas, box) -> float:
    (x0, y0), _, (x1, y1), _ = box
    a = np.asarray(c.image.convert("L"))[int(y0) : int(y1), int(x0) : int(x1)]
    return float((a < 120).mean())


@pytest.mark.parametrize("place", [on_glass, on_table])
def test_fields_and_items_move_with_the_bill(place) -> None:
    c, items = _bill()
    page, moved = place(c, items, random.Random(4))
    assert page.width > c.width and page.height > c.height
    for f in page.fields:
        assert _ink(page, f.box) > 0.05, f.name
    assert moved[0].box != items[0].box and _ink(page, moved[0].box) > 0.05


def test_masked_fields_leave_the_truth_and_are_covered() -> None:
    for seed in range(10):
        c, _ = _bill()
        before = {f.name: f.box for f in c.fields}
        hidden = mask_personal(c, random.Random(seed))
        assert hidden and set(hidden) <= set(PERSONAL)
        assert not {f.name for f in c.fields} & set(hidden) and c.field("total_amount") is not None
        for name in hidden:  # one colour under the mask: no text left to read
            (x0, y0), _, (x1, y1), _ = before[name]
            a = np.asarray(c.image.convert("L"))[int(y0) : int(y1), int(x0) : int(x1)]
            assert a.std() < 1.0


def test_stage_is_stable_and_keeps_masks_on_a_retake() -> None:
    modes: Counter[str] = Counter()
    for n in range(200):
        first = stage(f"C{n}:bill_1:1", DocType.OUTPATIENT_INVOICE, *_bill(), retake=False)
        again = stage(f"C{n}:bill_1:1", DocType.OUTPATIENT_INVOICE, *_bill(), retake=True)
        assert first.hidden == again.hidden and again.mode == "photo"
        modes[first.mode] += 1
        modes["masked"] += bool(first.hidden)
    assert modes["scan"] and modes["table"] and modes["photo"] > modes["scan"] and modes["masked"]
    other = stage("C1:id_card_1:1", DocType.ID_CARD, *_bill(), retake=False)
    assert other.mode == "photo" and not other.hidden


def test_corpus_records_captures_and_hidden_fields(corpus: tuple[Path, CorpusSummary]) -> None:
    out, _ = corpus
    for claim in read_truth(out):
        for doc in claim.documents:
            names = {f.name for f in doc.fields}
            assert not names & set(doc.hidden)
            if "table" in doc.degradations or "masked" in doc.degradations:
                with Image.open(out / doc.file) as im:
                    assert im.size == (doc.width, doc.height)


def test_a_printed_ebill_may_come_on_pin_feed_stationery_and_stays_so() -> None:
    fed = 0
    for n in range(60):
        first = stage(f"C{n}:bill_1:1", DocType.INPATIENT_INVOICE, *_bill(), retake=False, layout="ebill")
        again = stage(f"C{n}:bill_1:1", DocType.INPATIENT_INVOICE, *_bill(), retake=True, layout="ebill")
        if first.mode == "photo" and first.canvas.width > 800:
            fed += 1
            assert again.canvas.width == first.canvas.width
            assert all(_ink(first.canvas, f.box) > 0.05 for f in first.canvas.fields)
    assert fed

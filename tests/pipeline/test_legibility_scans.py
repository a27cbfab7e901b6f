"""A clean flatbed scan of a paper bill (synth.capture.on_glass, synth.scan) is read as legible:
no retake is asked of a bill a person reads without effort, whatever its province's layout."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from ocr.reader import read_document
from pipeline.extract.documents import extract_document
from pipeline.records import DocType
from synth.book import make_book
from synth.capture import on_glass
from synth.documents import GLASS_LONG_SIDE, render_page
from synth.provincial import LAYOUTS
from synth.scan import scan
from synth.truth import DocumentTruth


@pytest.mark.slow
@pytest.mark.parametrize("layout", [*sorted(LAYOUTS), "shanghai", "beijing"])
def test_a_flatbed_scan_of_a_bill_is_legible(layout: str, tmp_path: Path) -> None:
    claim = next(c for c in make_book(10, seed=3) if c.bills and not c.incident.admission_date)
    bill = claim.bills[0].model_copy(update={"layout": layout, "electronic": False})
    claim = claim.model_copy(update={"bills": [bill]})
    doc = DocumentTruth(
        file="x.jpg", doc_type=DocType.OUTPATIENT_INVOICE, media_type="image/jpeg", layout=layout,
        group="outpatient_invoice_1",
    )  # fmt: skip
    rng = random.Random(layout)
    canvas, items, _ = render_page(claim, doc, rng)
    glass, _ = on_glass(canvas, items, rng)
    photo, _ = scan(glass.image, np.random.default_rng(7), GLASS_LONG_SIDE)
    (tmp_path / "scan.jpg").write_bytes(photo.data)
    ex = extract_document(read_document(tmp_path / "scan.jpg"), DocType.OUTPATIENT_INVOICE)
    assert not ex.illegible, next(c.message for c in ex.checks if c.name == "legible")
    assert ex.field("total_amount") is not None and ex.field("invoice_number") is not None

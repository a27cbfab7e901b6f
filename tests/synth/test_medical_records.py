"""Discharge records and certificates: every layout draws its truth, long records run over two pages,
scans move the boxes with the pixels."""

from __future__ import annotations

import random

import numpy as np
import pytest

from pipeline.records import DocType
from synth import certificate, discharge
from synth.book import make_book
from synth.scan import scan
from synth.truth import ClaimTruth, DocumentTruth


@pytest.fixture(scope="module")
def inpatient() -> ClaimTruth:
    book = make_book(30, 11, 0.0)
    return next(c for c in book if c.incident.admission_date and len(c.incident.diagnoses) > 1)


def _doc(kind: DocType, layout: str, page: int = 1, pages: int = 1) -> DocumentTruth:
    return DocumentTruth(
        file=f"C0001/{kind.value}_1.jpg", doc_type=kind, media_type="image/jpeg", layout=layout,
        page_number=page, page_count=pages, group=f"{kind.value}_1",
    )  # fmt: skip


@pytest.mark.parametrize("layout", discharge.LAYOUTS[1:])
def test_each_record_layout_draws_the_stay_and_the_diagnoses(layout: str, inpatient: ClaimTruth) -> None:
    canvas, _, _ = discharge.draw(inpatient, _doc(DocType.DISCHARGE_SUMMARY, layout), random.Random(1))
    names = {f.name for f in canvas.fields}
    assert {"hospital", "patient_name", "sex", "age", "admission_date", "discharge_date"} <= names
    assert {"diagnosis", "diagnosis_2"} <= names
    age = next(f for f in canvas.fields if f.name == "age")
    assert age.value == str(inpatient.insured.age_on(inpatient.incident.admission_date))  # type: ignore[arg-type]
    for f in canvas.fields:  # every truth box lies on the page
        assert all(0 <= x <= canvas.width and 0 <= y <= canvas.height for x, y in f.box)  # type: ignore[union-attr]


def test_a_two_page_record_puts_the_discharge_diagnosis_on_its_pages_once(inpatient: ClaimTruth) -> None:
    pages = [
        discharge.draw(
            inpatient, _doc(DocType.DISCHARGE_SUMMARY, "discharge_inline", p, 2), random.Random(1)
        )[0]
        for p in (1, 2)
    ]
    diagnosis = [sum(f.name == "diagnosis" for f in c.fields) for c in pages]
    assert sum(diagnosis) == 1
    assert any(f.name == "patient_name" for f in pages[1].fields)  # the running header


@pytest.mark.parametrize("layout", certificate.LAYOUTS[1:])
def test_each_certificate_layout_draws_its_fields(layout: str, inpatient: ClaimTruth) -> None:
    canvas, _, _ = certificate.draw(inpatient, _doc(DocType.DIAGNOSIS_CERTIFICATE, layout), random.Random(1))
    assert {"hospital", "patient_name", "sex", "age", "diagnosis"} <= {f.name for f in canvas.fields}


def test_the_plan_chooses_layouts_and_pages_without_touching_other_files(inpatient: ClaimTruth) -> None:
    layouts = set()
    for c in make_book(40, 3, 0.0):
        for d in c.documents:
            if d.doc_type is DocType.DISCHARGE_SUMMARY:
                layouts.add(d.layout)
                assert d.page_count == 1 or d.file.endswith(f"_p{d.page_number}.jpg") or ".webp" in d.file
    assert len(layouts) >= 3


def test_a_scan_moves_every_box_with_the_pixels(inpatient: ClaimTruth) -> None:
    canvas, _, _ = discharge.draw(
        inpatient, _doc(DocType.DISCHARGE_SUMMARY, "discharge_table"), random.Random(1)
    )
    photo, move = scan(canvas.image, np.random.default_rng(3))
    assert photo.kinds[0] == "scan" and max(photo.width, photo.height) == 1684
    box = next(f for f in canvas.fields if f.name == "hospital").box
    moved = move(box)  # type: ignore[operator]
    scale = photo.height / canvas.height
    assert abs(moved[0][1] - box[0][1] * scale) < 40  # type: ignore[index]

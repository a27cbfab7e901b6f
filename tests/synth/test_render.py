"""Truth agrees with what is drawn, in the saved files and in undegraded renders."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from pipeline.records import DocType
from synth.book import make_book
from synth.degrade import KINDS, degrade
from synth.documents import CorpusSummary, generate_corpus, render_page, retake
from synth.truth import ClaimTruth


def _claims(out: Path) -> list[ClaimTruth]:
    return [
        ClaimTruth.model_validate_json(line)
        for line in (out / ".truth" / "truth.jsonl").read_text("utf-8").splitlines()
    ]


def test_layout_of_a_corpus(corpus: tuple[Path, CorpusSummary]) -> None:
    out, summary = corpus
    with (out / "claims.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == summary.claims == 10
    assert [c.claim_id for c in _claims(out)] == [r["claim_id"] for r in rows]
    for row in rows:
        files = row["documents"].split(";")
        assert all((out / f).is_file() for f in files)
    with (out / "policies.csv").open(encoding="utf-8") as fh:
        policies = {r["policy_number"] for r in csv.DictReader(fh)}
    assert {r["policy_number"] for r in rows} <= policies


def test_every_document_type_appears(corpus: tuple[Path, CorpusSummary]) -> None:
    _, summary = corpus
    # pharmacy invoices are drawn by synth.pharmacy for the doc-type model, not yet put in the book's claims
    absent = (DocType.OTHER, DocType.PHARMACY_INVOICE)
    assert set(summary.doc_types) == {d.value for d in DocType if d not in absent}


@pytest.mark.parametrize("layout", ["beijing", "shanghai", "guangdong", "e_invoice"])
def test_every_invoice_layout_draws_its_fields(layout: str) -> None:
    claim = next(c for c in make_book(20, seed=4) if c.bills)
    bill = claim.bills[0].model_copy(update={"layout": layout, "electronic": layout == "e_invoice"})
    claim = claim.model_copy(update={"bills": [bill]})
    doc = next(
        d for d in claim.documents if d.doc_type in (DocType.OUTPATIENT_INVOICE, DocType.INPATIENT_INVOICE)
    )
    canvas, items, _ = render_page(claim, doc, random.Random(1))
    names = {f.name for f in canvas.fields}
    assert {
        "invoice_code",
        "invoice_number",
        "total_amount",
        "total_in_words",
        "hospital",
        "issue_date",
        "payer_name",
        "fund_paid",
        "cash_paid",
    } <= names
    assert items and sum(i.amount for i in items) == bill.items_total
    gray = np.asarray(canvas.image.convert("L"))
    for f in canvas.fields:
        (x0, y0), _, (x1, y1), _ = f.box
        assert gray[int(y0) : int(y1) + 1, int(x0) : int(x1) + 1].min() < 150, (layout, f.name)


def test_boxes_land_on_ink_in_the_saved_photos(corpus: tuple[Path, CorpusSummary]) -> None:
    out, _ = corpus
    checked = 0
    for claim in _claims(out):
        for doc in claim.documents:
            if not doc.media_type.startswith("image/"):
                continue
            img = np.asarray(Image.open(out / doc.file).convert("L"), dtype=np.float32)
            assert img.shape == (doc.height, doc.width)
            for f in doc.fields:
                pts = np.asarray(f.box)
                assert (pts[:, 0] > -2).all() and (pts[:, 0] < doc.width + 2).all(), (doc.file, f.name)
                assert (pts[:, 1] > -2).all() and (pts[:, 1] < doc.height + 2).all(), (doc.file, f.name)
                x0, y0 = np.clip(pts.min(0).astype(int), 0, None)
                x1, y1 = pts.max(0).astype(int) + 1
                crop = img[y0:y1, x0:x1]
                if crop.size < 20:
                    continue
                assert crop.std() > 8, (doc.file, f.name, f.text)  # text, not blank paper
                checked += 1
    assert checked > 200


def test_undegraded_render_field_boxes_hold_text() -> None:
    claim = next(c for c in make_book(30, seed=4) if c.incident.claim_type.value == "inpatient")
    rng = random.Random(0)
    for doc in claim.documents:
        if not doc.media_type.startswith("image/"):
            continue
        canvas, items, _ = render_page(claim, doc, rng)
        gray = np.asarray(canvas.image.convert("L"))
        for f in canvas.fields:
            (x0, y0), _, (x1, y1), _ = f.box
            crop = gray[int(y0) : int(y1) + 1, int(x0) : int(x1) + 1]
            assert crop.size and crop.min() < 140, (doc.file, f.name, f.text)
        for item in items:
            (x0, y0), _, (x1, y1), _ = item.box
            assert gray[int(y0) : int(y1) + 1, int(x0) : int(x1) + 1].min() < 140


def test_expense_list_items_add_up(corpus: tuple[Path, CorpusSummary]) -> None:
    out, _ = corpus
    for claim in _claims(out):
        for n, bill in enumerate(claim.bills, 1):
            pages = [d for d in claim.documents if d.group == f"expense_list_{n}"]
            if pages:
                assert sum(i.amount for p in pages for i in p.line_items) == bill.items_total


def test_e_invoice_text_layer_reads_back(tmp_path: Path) -> None:
    seed = next(s for s in range(80) if any(c.bills and c.bills[0].as_pdf for c in make_book(1, seed=s)))
    generate_corpus(tmp_path, 1, seed=seed)
    claim = _claims(tmp_path)[0]
    doc = next(d for d in claim.documents if d.media_type == "application/pdf")
    pdf = pdfium.PdfDocument(tmp_path / doc.file)
    page = pdf[0]
    text = page.get_textpage()
    content = text.get_text_range()
    assert "医疗" in content and ("电子票据" in content or "（电子）" in content or "(电子)" in content)
    total = doc.field("total_amount")
    words = doc.field("total_in_words")
    assert total and words and total.text in content and words.text in content
    # every field's text is in the layer, a lone 男/女 included (pdfium drops a one-glyph CJK object)
    flat = content.replace(" ", "").replace("\r", "").replace("\n", "")
    assert [f.name for f in doc.fields if f.text and f.text.replace(" ", "") not in flat] == []
    # the characters of the total sit inside the truth box (PDF points -> page-image pixels)
    start = content.index(total.text)
    (bx0, by0), _, (bx1, by1), _ = total.box
    height_pt = page.get_height()
    for i in range(start, start + len(total.text)):
        left, bottom, right, top = text.get_charbox(i, loose=True)
        cx = (left + right) / 2 * doc.scale
        cy = (height_pt - (bottom + top) / 2) * doc.scale
        assert bx0 - 3 <= cx <= bx1 + 3 and by0 - 6 <= cy <= by1 + 6
    pdf.close()


def test_every_degradation_kind_appears() -> None:
    rng = np.random.default_rng(0)
    seen: set[str] = set()
    page = Image.new("RGB", (300, 420), "white")
    for severity in ["mild", "moderate", "hard"] * 25:
        photo, _ = degrade(page, rng, severity, long_side=300)
        seen |= set(photo.kinds)
    assert seen == set(KINDS)


@pytest.mark.parametrize("rotation_seed", range(6))
def test_box_transform_follows_pixels(rotation_seed: int) -> None:
    """A black square drawn on the page is found where its transformed box says."""
    page = Image.new("RGB", (400, 300), "white")
    page.paste((0, 0, 0), (150, 100, 250, 160))
    rng = np.random.default_rng(rotation_seed)
    photo, move = degrade(page, rng, "hard", long_side=400)
    import io

    img = np.asarray(Image.open(io.BytesIO(photo.data)).convert("L"))
    box = np.asarray(move(((150, 100), (250, 100), (250, 160), (150, 160))))
    cx, cy = box.mean(0)
    assert img[int(cy), int(cx)] < 110, photo.kinds


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    def files(folder: Path) -> dict[str, bytes]:
        return {
            p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
        }

    generate_corpus(tmp_path / "a", 2, seed=5)
    generate_corpus(tmp_path / "b", 2, seed=5)
    generate_corpus(tmp_path / "c", 2, seed=6)
    a, b, c = files(tmp_path / "a"), files(tmp_path / "b"), files(tmp_path / "c")
    assert a == b
    assert a[".truth/truth.jsonl"] != c[".truth/truth.jsonl"]


@pytest.mark.slow
def test_ocr_reads_fields_inside_their_boxes() -> None:
    """RapidOCR (the shipped PP-OCR models) reads the ID number and name where the truth says."""
    rapidocr = pytest.importorskip("rapidocr")
    claim = make_book(3, seed=8)[0]
    doc = next(d for d in claim.documents if d.doc_type is DocType.ID_CARD)
    canvas, _, _ = render_page(claim, doc, random.Random(2))
    result = rapidocr.RapidOCR()(np.asarray(canvas.image)[:, :, ::-1])
    lines = list(zip(result.txts, result.boxes, strict=True))
    for name in ("id_number", "name"):
        field = next(f for f in canvas.fields if f.name == name)
        (x0, y0), _, (x1, y1), _ = field.box
        hits = [
            t
            for t, box in lines
            if x0 - 5 <= np.mean(box[:, 0]) <= x1 + 5 and y0 - 5 <= np.mean(box[:, 1]) <= y1 + 5
        ]
        assert any(field.text.replace(" ", "") in t.replace(" ", "") for t in hits), (name, field.text, hits)


def test_a_retake_is_the_same_page_photographed_again(tmp_path: Path) -> None:
    generate_corpus(tmp_path, 3, seed=6)  # three claims, one with an e-invoice PDF
    claims = _claims(tmp_path)
    claim = claims[0]
    doc = next(d for d in claim.documents if d.media_type != "application/pdf")
    again = retake(claim, doc.file, tmp_path, seed=6)
    first_bytes, again_bytes = (tmp_path / doc.file).read_bytes(), (tmp_path / again.file).read_bytes()
    assert again.file == doc.file.replace(".", "_retake1.") and again_bytes != first_bytes
    assert [(f.name, f.value) for f in again.fields] == [(f.name, f.value) for f in doc.fields]
    assert (tmp_path / retake(claim, doc.file, tmp_path, seed=6).file).read_bytes() == again_bytes
    assert (tmp_path / retake(claim, doc.file, tmp_path, seed=6, attempt=2).file).read_bytes() != again_bytes
    with pytest.raises(KeyError, match="not a document"):
        retake(claim, "C9999/id_card_1.jpg", tmp_path, seed=6)
    pdf = next((c, d) for c in claims for d in c.documents if d.media_type == "application/pdf")
    with pytest.raises(ValueError, match="born-digital"):
        retake(pdf[0], pdf[1].file, tmp_path, seed=6)

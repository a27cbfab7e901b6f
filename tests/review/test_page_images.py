"""Page images kept at OCR time are the pixels the stored boxes refer to; text-layer PDF pages are
rasterised at the loader's dpi (on request, for readings made before images were kept)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from helpers.files import text_pdf
from helpers.ocr_engine import FakeEngine
from PIL import Image, ImageDraw, ImageFont

from ocr.images import PDF_DPI
from ocr.layout import cjk_font_path
from ocr.reader import read_document


def one_line_engine() -> FakeEngine:
    """Finds one fixed line: enough to test what is saved, never the OCR itself."""
    return FakeEngine("门诊收费票据", box=((40, 30), (400, 30), (400, 80), (40, 80)))


def _photo(path: Path) -> None:
    img = Image.new("RGB", (640, 400), "white")
    ImageDraw.Draw(img).text(
        (44, 32), "门诊收费票据", font=ImageFont.truetype(str(cjk_font_path()), 40), fill="black"
    )
    img.save(path)


def test_ocr_keeps_the_cleaned_page_image(tmp_path: Path) -> None:
    src = tmp_path / "photo.png"
    _photo(src)
    engine = one_line_engine()
    images = tmp_path / "images"
    [page] = read_document(src, engine, image_dir=images)
    kept = Image.open(images / "1.jpg")
    assert kept.size == (page.width, page.height)
    # a cached reading is served only when its images are there too; else the page is read again
    cache = tmp_path / "cache"
    read_document(src, engine, cache_dir=cache)
    calls = engine.calls
    read_document(src, engine, cache_dir=cache, image_dir=tmp_path / "other")
    assert engine.calls > calls and (tmp_path / "other" / "1.jpg").is_file()
    calls = engine.calls
    read_document(src, engine, cache_dir=cache, image_dir=tmp_path / "other")
    assert engine.calls == calls


def test_text_layer_pages_are_rasterised_where_their_boxes_are(tmp_path: Path) -> None:
    src = tmp_path / "e.pdf"
    text_pdf(src, "电子票据 金额 388.50")
    engine = one_line_engine()
    [page] = read_document(src, engine, image_dir=tmp_path / "images")
    assert engine.calls == 0 and page.source == "pdf_text"
    img = Image.open(tmp_path / "images" / "1.jpg").convert("L")
    assert abs(img.width - page.width) <= 1 and abs(img.height - page.height) <= 1  # pdfium rounds up
    assert abs(page.width - 400 * PDF_DPI / 72) <= 1
    x0, y0, x1, y1 = page.lines[0].bbox
    ink = np.asarray(img.crop((int(x0), int(y0), int(x1) + 1, int(y1) + 1)))
    assert ink.min() < 100  # the text is drawn inside its box


def test_app_rasterises_a_text_layer_page_without_a_kept_image(tmp_path: Path) -> None:
    """A reading stored before images were kept: the PDF page is rendered on first request."""
    import datetime as dt
    import hashlib

    from pipeline.records import Claim, Document
    from pipeline.settings import Settings
    from pipeline.store import open_store
    from review.app import page_jpeg

    settings = Settings(data_dir=tmp_path / "data")
    store = open_store(settings)
    src = tmp_path / "e.pdf"
    text_pdf(src, "电子票据 金额 388.50")
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    store.files.put(src, sha)
    doc = Document(
        id=sha, claim_id="C1", filename="e.pdf", media_type="application/pdf", size_bytes=1, page_count=1
    )
    store.save_claim(
        Claim(
            claim_id="C1",
            policy_number="P1",
            claimant="李雷",
            incident_date=dt.date(2026, 1, 1),
            submitted_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
            documents=[doc],
        )
    )
    pages = read_document(src, one_line_engine())
    store.save_pages(sha, "old-reading", pages)
    assert not (settings.page_images(sha, "old-reading") / "1.jpg").exists()
    data = page_jpeg(store, settings, "C1", sha, 1, masked=False)
    assert data is not None and data[:2] == b"\xff\xd8"
    assert (settings.page_images(sha, "old-reading") / "1.jpg").is_file()  # kept for next time
    assert page_jpeg(store, settings, "C1", sha, 2, masked=False) is None

"""A text-layer PDF page is rasterised into the review app's page images as `ocr` reads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from helpers.files import text_pdf
from PIL import Image

from ocr.images import render_pdf_page
from pipeline.page_images import write_pdf_page_image


def test_a_pdf_page_is_saved_as_the_jpeg_ocr_sees_with_no_temporary_file_left(tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "e-invoice.pdf", "医疗电子票据 合计 388.50")
    target = tmp_path / "page-images" / "claim-1" / "doc-1" / "1.jpg"

    write_pdf_page_image(pdf, 1, target)

    assert [p.name for p in target.parent.iterdir()] == ["1.jpg"]  # folders made, the temp file moved
    with Image.open(target) as im:
        assert im.format == "JPEG" and im.mode == "RGB"
        saved = np.asarray(im, dtype=np.int16)
    expected = render_pdf_page(pdf, 1)[..., ::-1].astype(np.int16)  # ocr's BGR, as RGB
    assert saved.shape == expected.shape
    assert np.abs(saved - expected).mean() < 4  # the same page, up to JPEG's loss
    assert saved.min() < 128  # the text is drawn: not a blank page


def test_writing_again_replaces_the_image(tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "e-invoice.pdf", "医疗电子票据")
    target = tmp_path / "1.jpg"
    target.write_bytes(b"stale")
    write_pdf_page_image(pdf, 1, target)
    assert target.read_bytes()[:3] == b"\xff\xd8\xff"

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.files import text_pdf
from PIL import Image

from ocr.images import DocumentError, load_document, load_image


def _asym(w: int = 120, h: int = 60) -> Image.Image:
    """A wide image whose left half is black: turning it is visible in shape and content."""
    arr = np.full((h, w, 3), 255, np.uint8)
    arr[:, : w // 2] = 0
    return Image.fromarray(arr)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    im = _asym()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    p = tmp_path / "phone.jpg"
    im.save(p, exif=exif.tobytes(), quality=95)
    out = load_image(p)
    assert out.shape[:2] == (120, 60)
    # after a clockwise turn the black left half is on top
    assert out[:50].mean() < 40 and out[70:].mean() > 215


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp", ".jpg"])
def test_formats_load_as_bgr(tmp_path: Path, suffix: str) -> None:
    arr = np.zeros((40, 50, 3), np.uint8)
    arr[..., 0] = 255  # red in RGB
    p = tmp_path / f"x{suffix}"
    Image.fromarray(arr).save(p, quality=95) if suffix in (".jpg", ".webp") else Image.fromarray(arr).save(p)
    out = load_image(p)
    assert out.shape == (40, 50, 3)
    assert out[..., 2].mean() > 200 and out[..., 0].mean() < 60  # BGR: red is the last channel


def test_unreadable_file_names_file(tmp_path: Path) -> None:
    p = tmp_path / "junk.png"
    p.write_bytes(b"not an image")
    with pytest.raises(DocumentError, match=r"junk\.png"):
        load_document(p)


def test_pdf_text_layer_is_read_not_ocrd(tmp_path: Path) -> None:
    p = tmp_path / "einvoice.pdf"
    text_pdf(p, "电子发票 金额 388.50")
    pages = load_document(p, dpi=144)
    assert len(pages) == 1
    pg = pages[0]
    assert pg.source == "pdf_text" and pg.image is None
    text = "".join(ln.text for ln in pg.lines).replace(" ", "")
    assert "388.50" in text
    if "INVOICE" not in text:  # the CJK font could be embedded
        assert pg.lines[0].text == "电子发票 金额 388.50"
    # boxes are pixels at 144 dpi (2x points) from the top-left: the baseline was at y=80 pt from the top
    x0, _, x1, y1 = pg.lines[0].bbox
    assert pg.width == 800 and pg.height == 400
    assert 70 < x0 < 90 and 120 < y1 < 175 and x1 > x0


def test_scanned_pdf_is_rasterised(tmp_path: Path) -> None:
    p = tmp_path / "scan.pdf"
    Image.fromarray(np.full((200, 300, 3), 255, np.uint8)).save(p, resolution=100)
    pages = load_document(p, dpi=200)
    assert pages[0].image is not None and pages[0].source == "ocr"
    assert abs(pages[0].width - 600) <= 2  # 3 inches at 200 dpi

"""QR codes decoded onto the page: whole page, small and blurred codes, text-layer PDFs, JSON."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ocr.elements import Page, TextLine
from ocr.images import load_document
from ocr.qr import decode_qr
from ocr.reader import pages_from_json, pages_to_json

PAYLOAD = "01,06,41060221,1700551023,51675.55,20210309,a1b2c3"


def _page_with_code(module_px: float, blur: float = 0.0, at: tuple[int, int] = (1300, 60)) -> np.ndarray:
    """A grey page of text lines with a QR code of `module_px` pixels per module, JPEG-compressed."""
    code = cv2.QRCodeEncoder.create().encode(PAYLOAD)
    size = round(code.shape[0] * module_px)
    code = cv2.resize(code, (size, size), interpolation=cv2.INTER_AREA)
    page = np.full((1000, 1600), 240, np.uint8)
    for k in range(18):
        text = f"line {k} 2021-03-09 51675.55"
        cv2.putText(page, text, (40, 60 + 50 * k), cv2.FONT_HERSHEY_SIMPLEX, 1, 30, 2)
    x, y = at
    page[y : y + size, x : x + size] = code
    if blur:
        page = cv2.GaussianBlur(page, (0, 0), blur)
    noise = np.random.default_rng(7).normal(0, 5, page.shape)
    page = np.clip(page + noise, 0, 255).astype(np.uint8)
    _, buf = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 70])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR)


@pytest.mark.parametrize(("module_px", "blur"), [(5, 0.0), (3, 0.0), (2.5, 1.0)])
def test_code_is_decoded_with_its_box(module_px: float, blur: float) -> None:
    found = decode_qr(_page_with_code(module_px, blur))
    assert [c.text for c in found] == [PAYLOAD]
    code = found[0]
    assert code.source == "qr" and code.score == 1.0
    x0, y0, x1, y1 = code.bbox
    side = 37 * module_px  # the encoder's matrix includes a 4-module quiet zone
    assert x0 >= 1300 - 5 and x1 <= 1300 + side + 5
    assert y0 >= 60 - 5 and y1 <= 60 + side + 5


def test_small_blurred_code_needs_the_upscaled_crop() -> None:
    """At 2.5 px per module under a blur the whole-page pass finds nothing; the crop does."""
    from ocr import qr

    image = _page_with_code(2.5, 1.0)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert qr._whole_page(gray) == []
    assert [c.text for c in decode_qr(image)] == [PAYLOAD]


def test_page_without_code_has_none() -> None:
    page = np.full((800, 1200, 3), 250, np.uint8)
    cv2.putText(page, "no code here 12345", (40, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (20, 20, 20), 2)
    assert decode_qr(page) == []
    assert decode_qr(np.zeros((0, 0), np.uint8)) == []


def test_codes_survive_the_json_round_trip() -> None:
    code = TextLine(text=PAYLOAD, box=((1, 2), (30, 2), (30, 31), (1, 31)), score=1.0, source="qr")
    page = Page(number=1, width=100, height=100, lines=[], codes=[code])
    back = pages_from_json(pages_to_json([page]))
    assert back[0].codes == [code] and back[0].lines == []


def test_text_layer_pdf_gets_its_code_from_the_raster(tmp_path: Path) -> None:
    """A born-digital e-bill: the text comes from the layer, the QR code from the page's pixels."""
    from synth.einvoice import write_pdf
    from synth.render import Canvas

    canvas = Canvas(1200, 700)
    canvas.text(80, 80, "医疗门诊收费票据（电子） 票据代码：41060121", 28)
    code = cv2.QRCodeEncoder.create().encode(PAYLOAD)
    code = cv2.resize(code, (185, 185), interpolation=cv2.INTER_NEAREST)
    canvas.image.paste(Image.fromarray(code), (980, 40))
    path = tmp_path / "ebill.pdf"
    path.write_bytes(write_pdf(canvas, 2.0, quality=80))
    (page,) = load_document(path)
    assert page.source == "pdf_text" and page.image is None
    assert [c.text for c in page.codes] == [PAYLOAD]
    x0, y0, _, _ = page.codes[0].bbox
    assert x0 > page.width * 0.7 and y0 < page.height * 0.3


def test_code_on_a_sheet_lying_on_a_dark_desk() -> None:
    """The desk around the sheet is dark too: the code inside the sheet is still a candidate."""
    sheet = _page_with_code(2.5, 1.0)
    desk = np.full((sheet.shape[0] + 240, sheet.shape[1] + 240, 3), (70, 85, 100), np.uint8)
    desk[120:-120, 120:-120] = sheet
    found = decode_qr(desk)
    assert [c.text for c in found] == [PAYLOAD] and found[0].bbox[0] > 1300 + 120 - 5

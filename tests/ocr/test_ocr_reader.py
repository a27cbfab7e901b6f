from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.files import text_pdf
from helpers.ocr_engine import FakeEngine
from ocr_fixtures import LINES, render_page

from ocr import clean
from ocr.engine import Detection, Reading
from ocr.qr import decode_qr
from ocr.reader import OcrCache, ReadOptions, pages_from_json, pages_to_json, read_document, read_image

REPO = Path(__file__).resolve().parents[2]


def _joined(page) -> str:
    return unicodedata.normalize("NFKC", "".join(ln.text for ln in page.lines)).replace(" ", "")


def test_real_ocr_reads_a_rendered_page(engine, page_image: np.ndarray) -> None:
    page, img, trace = read_image(page_image, engine)
    text = _joined(page)
    for line in LINES:
        assert line.replace(" ", "") in text
    assert page.width == img.shape[1] and all(0.5 <= ln.score <= 1 for ln in page.lines)
    assert trace.rotation == 0


def test_real_ocr_reads_a_turned_dim_photo(engine) -> None:
    img = render_page(size=34)
    w = img.shape[1]
    ramp = np.linspace(0.45, 1.0, w, dtype=np.float32)[None, :, None]
    photo = clean.rotate_quarter((img * ramp).astype(np.uint8), 270)
    page, _, trace = read_image(photo, engine)
    assert trace.rotation == 90 and page.rotation == 90
    assert "合计金额¥388.50" in _joined(page)


def test_a_qr_code_is_decoded_as_it_came_and_follows_the_page_upright(engine) -> None:
    """Turned sideways and dim: the code is read off the raw pixels, its box turned with the page."""
    img = render_page(size=34)
    payload = "01,06,41060221,1700551023,51675.55,20210309,a1b2c3"
    code = cv2.QRCodeEncoder.create().encode(payload)
    code = cv2.resize(code, (code.shape[1] * 3, code.shape[0] * 3), interpolation=cv2.INTER_NEAREST)
    img = np.vstack([img, np.full((code.shape[0] + 40, img.shape[1], 3), 255, np.uint8)])
    h = img.shape[0]
    img[h - code.shape[0] - 20 : h - 20, 600 : 600 + code.shape[1]] = code[:, :, None]
    photo = clean.rotate_quarter(img, 270)
    page, upright, trace = read_image(photo, engine)
    assert trace.rotation == 90 and [c.text for c in page.codes] == [payload]
    x0, y0, x1, y1 = (int(v) for v in page.codes[0].bbox)
    assert [c.text for c in decode_qr(upright[max(0, y0 - 15) : y1 + 15, max(0, x0 - 15) : x1 + 15])] == [
        payload
    ]


def test_cache_hit_skips_the_engine(tmp_path: Path) -> None:
    f = tmp_path / "doc.png"
    cv2.imwrite(str(f), render_page(["发票"]))
    eng = FakeEngine("发票")
    first = read_document(f, eng, cache_dir=tmp_path / "cache")
    calls = eng.calls
    second = read_document(f, eng, cache_dir=tmp_path / "cache")
    assert eng.calls == calls and second == first
    # another cleaning version or option is another key: no stale hit
    k1 = OcrCache.key(f, eng, ReadOptions())
    assert k1 != OcrCache.key(f, eng, ReadOptions(seals=False))
    f.write_bytes(f.read_bytes() + b"\0")
    assert OcrCache.key(f, eng, ReadOptions()) != k1


def test_json_round_trip_keeps_raw_reading() -> None:
    from ocr.elements import Page, TextLine

    line = TextLine(text="大厦", raw_text="大展", box=[[0, 0], [9, 0], [9, 5], [0, 5]], score=0.8)
    pages = [Page(number=1, width=10, height=6, lines=[line], rotation=90)]
    assert pages_from_json(pages_to_json(pages, raw=True)) == pages
    assert "大展" not in json.dumps(pages_to_json(pages), ensure_ascii=False)


def test_cli_json_has_every_line(tmp_path: Path) -> None:
    f = tmp_path / "page.png"
    cv2.imwrite(str(f), render_page())
    out = tmp_path / "drawn.png"
    p = subprocess.run(
        [sys.executable, "-m", "ocr", str(f), "--json", "--draw", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    doc = json.loads(p.stdout.strip().splitlines()[-1])
    lines = doc["pages"][0]["lines"]
    assert {"text", "box", "score"} <= set(lines[0])
    assert "合计金额¥388.50" in "".join(ln["text"] for ln in lines).replace(" ", "")
    assert out.is_file()
    # the OCR path stays lean: no layoutparser, pandas or Prefect at import
    heavy = "('layoutparser', 'pandas', 'prefect', 'sklearn', 'pipeline')"
    probe = f"import sys, ocr.reader; print(sorted(m for m in {heavy} if m in sys.modules))"
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    assert p.stdout.strip() == "[]"


def test_real_invoice_scan(engine, shared_invoices: Path) -> None:
    """One real scan (b1.jpg): its labelled fields read exactly, and so when it is upside down."""
    from ocr.images import load_image

    labels = dict(
        ln.split("\t", 1) for ln in (shared_invoices / "train.corrected.json").read_text().splitlines()
    )
    items = [
        unicodedata.normalize("NFKC", it["transcription"]).replace(" ", "")
        for it in json.loads(labels["b1.jpg"])
        if it["label"] != "other"
    ]
    img = load_image(shared_invoices / "imgs" / "b1.jpg")
    page, _, _ = read_image(img, engine)
    blob = _joined(page)
    assert sum(i in blob for i in items) >= len(items) - 1
    page, _, trace = read_image(clean.rotate_quarter(img, 180), engine)
    assert trace.rotation == 180
    blob = _joined(page)
    assert sum(i in blob for i in items) >= len(items) - 2


@pytest.mark.parametrize("missing", ["nope.pdf", "nope.jpg"])
def test_missing_file_is_a_document_error(tmp_path: Path, missing: str) -> None:
    from ocr.images import DocumentError

    with pytest.raises(DocumentError, match="no such file"):
        read_document(tmp_path / missing, FakeEngine("发票"))


def test_text_layer_pdf_is_not_ocrd(tmp_path: Path) -> None:
    f = text_pdf(tmp_path / "e.pdf", "电子发票 金额 388.50")
    eng = FakeEngine("发票")
    pages = read_document(f, eng)
    assert eng.calls == 0
    assert pages[0].source == "pdf_text" and pages[0].lines[0].source == "pdf_text"
    assert "388.50" in pages[0].text
    doc = pages_to_json(pages)
    assert doc["pages"][0]["source"] == "pdf_text"


class NumberEngine:
    """Reads one line of small print: a merged digit unless the crop is stretched sideways.
    Tests the re-read's rules (check digit, agreement, closeness), not OCR."""

    name = "fake-numbers"
    version = "1"

    def __init__(self, first: str, stretched: list[str]) -> None:
        self.first, self.stretched, self.calls = first, list(stretched), 0

    def detect(self, image: np.ndarray) -> list[Detection]:
        return [Detection(np.array([[10, 10], [410, 10], [410, 40], [10, 40]], np.float32), 0.9)]

    def recognize(self, crops: Sequence[np.ndarray]) -> list[Reading]:
        out = []
        for crop in crops:
            wide = crop.shape[1] / crop.shape[0] > 14  # the line's own crop is ~12:1
            text = self.stretched[self.calls % len(self.stretched)] if wide else self.first
            self.calls += wide
            out.append(Reading(text, 0.95, [[(c, 0.95)] for c in text]))
        return out


def _read_number_line(first: str, stretched: list[str]) -> tuple[object, object]:
    image = np.full((200, 600, 3), 255, np.uint8)
    opt = ReadOptions(orientation=False, perspective=False, seals=False, light=False, retry_kinds=())
    page, _, trace = read_image(image, NumberEngine(first, stretched), options=opt)
    return page.lines[0], trace


def test_a_number_failing_its_check_digit_is_read_again_from_a_stretched_crop() -> None:
    line, trace = _read_number_line("社会保障号码4201111880813911X", ["社会保障号码42011119880813911X"])
    assert line.text == "社会保障号码42011119880813911X" and trace.numbers_fixed == 1
    assert line.raw_text == "社会保障号码4201111880813911X"  # the first reading is kept beside it


@pytest.mark.parametrize(
    "stretched",
    [
        ["社会保障号码4201111880813911X"],  # the variants read the same wrong number
        ["社会保障号码42011119880813911X", "社会保障号码420111198808139128"],  # two valid numbers disagree
        ["社会保障号码11010519491231002X"],  # valid, but nothing like the print
    ],
)
def test_a_number_is_left_alone_unless_one_close_valid_reading_is_found(stretched: list[str]) -> None:
    line, trace = _read_number_line("社会保障号码4201111880813911X", stretched)
    assert line.text == "社会保障号码4201111880813911X" and trace.numbers_fixed == 0


class RetryEngine:
    """One line read with an unsure character; the enlarged, blurred crop of the second pass (twice
    the height) reads `again`. Tests which reading the retry keeps, not OCR."""

    name = "fake-retry"
    version = "1"

    def __init__(self, first: str, unsure_at: int, again: str) -> None:
        self.first, self.unsure_at, self.again = first, unsure_at, again

    def detect(self, image: np.ndarray) -> list[Detection]:
        return [Detection(np.array([[10, 10], [210, 10], [210, 50], [10, 50]], np.float32), 0.9)]

    def recognize(self, crops: Sequence[np.ndarray]) -> list[Reading]:
        out = []
        for crop in crops:
            if crop.shape[0] > 70:  # the second pass's enlarged crop
                out.append(Reading(self.again, 0.99, [[(c, 0.99)] for c in self.again]))
                continue
            probs = [0.4 if i == self.unsure_at else 0.98 for i in range(len(self.first))]
            if self.unsure_at < 0:  # no unsure character: a short line whose score is middling
                probs = [0.79] * len(self.first)
            alts = [[(c, p)] for c, p in zip(self.first, probs, strict=True)]
            out.append(Reading(self.first, float(np.mean(probs)), alts))
        return out


@pytest.mark.parametrize(
    ("first", "unsure_at", "again"),
    [
        ("展酒科技大厦", 1, "展滔科技大厦"),  # a character read differently, surer
        ("住院时间：20250702-20250/708", 19, "住院时间：20250702-20250708"),  # a speck dropped
        ("□重大疾病", 0, "重大疾病"),  # the blur erased the form's box: the first reading still has it
        ("吕", -1, "吕兰"),  # a short line read with middling confidence: two characters merged
    ],
)
def test_a_surer_second_reading_wins_and_the_first_stays_beside_it(
    first: str, unsure_at: int, again: str
) -> None:
    image = np.full((200, 600, 3), 255, np.uint8)
    opt = ReadOptions(orientation=False, perspective=False, seals=False, light=False, correct=False)
    page, _, trace = read_image(image, RetryEngine(first, unsure_at, again), options=opt)
    line = page.lines[0]
    assert (line.text, line.raw_text) == (again, first) and trace.retried == trace.improved == 1

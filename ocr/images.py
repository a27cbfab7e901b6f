"""Load documents as page images, or as text when a PDF already carries it.

Photos are turned the way the camera's EXIF tag says before anything else looks at them. PDFs go
through pdfium: a page with a usable text layer (an e-invoice, 电子发票) is read from that layer,
with each line's box, and never OCR'd; a scanned page is rasterised at `dpi`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ocr.elements import TextLine
from ocr.qr import decode_qr

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp"}
PDF_DPI = 200
LOADER_VERSION = "4"
"""Part of every OCR cache key: bump when loading changes what a page holds (2: text layer by
character; 3: every page of a TIFF, 16-bit and transparent images on white, PDF header anywhere in
the first KiB; 4: QR codes of text-layer pages)."""
"""Scanned PDF pages: 200 dpi puts 9-point print at ~25 px high, what the detector reads best."""
MIN_TEXT_CHARS = 8
"""A page whose text layer has fewer visible characters than this is treated as a scan."""


class DocumentError(ValueError):
    """A file we cannot read as a document; the message names the file and what to do."""


@dataclass
class PageImage:
    """One page as loaded: pixels to OCR, or lines already read from a PDF text layer."""

    number: int
    width: int
    height: int
    image: np.ndarray | None = None
    """BGR uint8, upright as the file or camera meant it; None for text-layer pages."""
    lines: list[TextLine] = field(default_factory=list)
    source: str = "ocr"
    codes: list[TextLine] = field(default_factory=list)
    """QR codes decoded from a text-layer page's raster (an OCR'd page's are decoded by the reader)."""


def load_image(path: Path | str, *, max_pixels: int = 80_000_000, frame: int = 0) -> np.ndarray:
    """A BGR uint8 image with EXIF orientation applied (phones store pictures sideways).

    `frame` picks a page of a multi-page TIFF. 16-bit scans are scaled to 8 bits and transparent
    pixels laid on white paper, so that neither comes out blank (Pillow clips 16-bit values to
    white, and drops the alpha of black text on a transparent background, leaving black on black).
    """
    from PIL import Image, ImageOps

    path = Path(path)
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with Image.open(path) as im:
            if im.width * im.height > max_pixels:
                raise DocumentError(
                    f"{path}: {im.width}x{im.height} pixels exceeds the {max_pixels} pixel limit; "
                    "resize the image before uploading."
                )
            im.seek(frame)
            im = ImageOps.exif_transpose(im)
            rgb = _on_white_rgb(im)
    except (OSError, EOFError, Image.DecompressionBombError) as e:
        raise DocumentError(
            f"{path}: not a readable image ({e}); upload a JPEG, PNG, TIFF, WebP or PDF."
        ) from e
    arr = np.asarray(rgb)
    return np.ascontiguousarray(arr[..., ::-1])


def _on_white_rgb(im: Any) -> Any:
    """8-bit RGB as a person would see the image printed: deep pixels scaled, transparency on white."""
    from PIL import Image

    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith("I;16") else max(255.0, float(a.max(initial=0)))
        im = Image.fromarray(np.clip(a * (255.0 / top), 0, 255).astype(np.uint8), "L")
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return im.convert("RGB")


_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"II*\x00", b"MM\x00*", b"RIFF")


def load_document(
    path: Path | str, *, dpi: int = PDF_DPI, max_pages: int = 200, max_pixels: int = 80_000_000
) -> list[PageImage]:
    """Every page of an image or PDF file, ready for OCR or already read.

    The type comes from the bytes as intake sniffed it (stored files have no extension): a PDF
    header may sit anywhere in the first KiB, after a mail gateway's junk. Every page of a
    multi-page TIFF is a page, as intake counted them.
    """
    path = Path(path)
    if not path.is_file():
        raise DocumentError(f"{path}: no such file.")
    with path.open("rb") as f:
        head = f.read(1024)
    if not head.startswith(_IMAGE_MAGIC) and (b"%PDF-" in head or path.suffix.lower() == ".pdf"):
        return load_pdf(path, dpi=dpi, max_pages=max_pages, max_pixels=max_pixels)
    frames = _tiff_frames(path) if head.startswith((b"II*\x00", b"MM\x00*")) else 1
    if frames > max_pages:
        raise DocumentError(f"{path}: {frames} pages exceeds the {max_pages} page limit; split the file.")
    pages = []
    for i in range(frames):
        img = load_image(path, max_pixels=max_pixels, frame=i)
        pages.append(PageImage(i + 1, img.shape[1], img.shape[0], image=img))
    return pages


def _tiff_frames(path: Path) -> int:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return int(getattr(im, "n_frames", 1))
    except (OSError, Image.DecompressionBombError):
        return 1  # load_image says what is wrong with it


def load_pdf(
    path: Path, *, dpi: int = PDF_DPI, max_pages: int = 200, max_pixels: int = 80_000_000
) -> list[PageImage]:
    """PDF pages: text-layer pages become lines (in pixels at `dpi`), scanned pages become images.

    Every page's raster size is checked before any page is drawn: a poster-sized page at `dpi`
    would take gigabytes.
    """
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        raise DocumentError(f"{path}: not a readable PDF ({e}); re-export or re-scan it.") from e
    try:
        if len(pdf) > max_pages:
            raise DocumentError(
                f"{path}: {len(pdf)} pages exceeds the {max_pages} page limit; split the file."
            )
        scale = dpi / 72.0
        for i in range(len(pdf)):
            width_pt, height_pt = pdf.get_page_size(i)
            w, h = round(width_pt * scale), round(height_pt * scale)
            if w * h > max_pixels:
                raise DocumentError(
                    f"{path}: page {i + 1} would be {w}x{h} pixels at {dpi} dpi, over the"
                    f" {max_pixels} pixel limit; send it as A4 pages."
                )
        pages: list[PageImage] = []
        for i in range(len(pdf)):
            page = pdf[i]
            width_pt, height_pt = page.get_size()
            w, h = max(1, round(width_pt * scale)), max(1, round(height_pt * scale))
            lines = _text_layer_lines(page, scale, height_pt)
            if sum(len(ln.text.replace(" ", "")) for ln in lines) >= MIN_TEXT_CHARS:
                # the text layer has no QR code in it: the raster does (boxes in the same pixels)
                codes = decode_qr(_render(page, scale))
                pages.append(PageImage(i + 1, w, h, lines=lines, source="pdf_text", codes=codes))
            else:
                img = _render(page, scale)
                pages.append(PageImage(i + 1, img.shape[1], img.shape[0], image=img))
            page.close()
        return pages
    finally:
        pdf.close()


def render_pdf_page(path: Path | str, number: int, *, dpi: int = PDF_DPI) -> np.ndarray:
    """One PDF page rasterised as `load_pdf` does (BGR, `dpi`), the pixels its text-layer boxes use."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[number - 1]
        img = _render(page, dpi / 72.0)
        page.close()
        return img
    finally:
        pdf.close()


def _render(page: Any, scale: float) -> np.ndarray:
    bitmap = page.render(scale=scale)
    return _to_bgr(bitmap.to_numpy(), bitmap.mode if hasattr(bitmap, "mode") else "BGRA")


def _to_bgr(arr: np.ndarray, mode: str) -> np.ndarray:
    # pdfium renders BGR(A) by default, which is OpenCV's order already
    if arr.ndim == 2:
        return np.ascontiguousarray(np.repeat(arr[..., None], 3, axis=2))
    return np.ascontiguousarray(arr[..., :3])


def _text_layer_lines(page: object, scale: float, height_pt: float) -> list[TextLine]:
    """Text-layer lines with their boxes, in pixels from the top-left at the page's raster scale.

    Built from characters and their loose boxes, not from pdfium's text rectangles: for a CJK font a
    PDF names but does not embed (the e-invoice's STSong-Light), pdfium reports the rectangles with
    zero height and text read by rectangle loses most Chinese runs; characters are always intact.
    A run ends at a line break, a jump in baseline, or a horizontal gap wider than 0.8 em.
    """
    textpage = page.get_textpage()  # type: ignore[attr-defined]
    runs: list[list[tuple[str, tuple[float, float, float, float]]]] = [[]]
    try:
        for i in range(textpage.count_chars()):
            ch = textpage.get_text_range(i, 1)
            if ch in ("\r", "\n", ""):
                runs.append([])
                continue
            box = textpage.get_charbox(i, loose=True)
            prev = next((b for c, b in reversed(runs[-1]) if c.strip()), None)
            if ch.strip() and prev is not None:
                em = max(1e-6, box[3] - box[1])
                if box[0] - prev[2] > 0.8 * em or abs(box[1] - prev[1]) > 0.25 * em:
                    runs.append([])
            runs[-1].append((ch, box))
    finally:
        textpage.close()
    lines: list[TextLine] = []
    for run in runs:
        text = " ".join("".join(c for c, _ in run).replace("\xa0", " ").split())
        boxes = [b for c, b in run if c.strip()]
        if not text or not boxes:
            continue
        x0, x1 = min(b[0] for b in boxes) * scale, max(b[2] for b in boxes) * scale
        y0, y1 = (
            (height_pt - max(b[3] for b in boxes)) * scale,
            (height_pt - min(b[1] for b in boxes)) * scale,
        )
        lines.append(
            TextLine(text=text, box=((x0, y0), (x1, y0), (x1, y1), (x0, y1)), score=1.0, source="pdf_text")
        )
    return lines

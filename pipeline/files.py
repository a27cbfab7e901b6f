"""Is this file what it says it is? Intake's checks of a file's bytes, before anything is stored.

The type is sniffed from the magic bytes, never taken from the name; size and pixel counts are read
from the header before anything is decoded (a 30000x30000 PNG is a decompression bomb, not a scan);
then images are fully decoded and PDFs opened, so truncated, corrupt and encrypted files are caught
here and not deep inside OCR.
"""

from __future__ import annotations

import hashlib
import io
import logging
import mmap
import re
import struct
import threading
from pathlib import Path
from typing import BinaryIO

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel

from ocr.images import PDF_DPI
from pipeline.settings import Settings

__all__ = [
    "ACCEPTED_MEDIA_TYPES",
    "PDFIUM_LOCK",
    "FileCheck",
    "inspect_file",
    "sha256_file",
    "sniff_media_type",
]

log = logging.getLogger(__name__)

ACCEPTED_MEDIA_TYPES: dict[str, str] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/tiff": "TIFF",
    "image/webp": "WebP",
    "application/pdf": "PDF",
}
"""What intake accepts, by sniffed media type, with the name used in messages."""

_REFUSED_KINDS: dict[str, str] = {
    "image/gif": "a GIF image",
    "image/bmp": "a BMP image",
    "image/heic": "a HEIC photo (iPhone; export it as JPEG)",
    "image/avif": "an AVIF image",
    "application/ofd": "an OFD e-invoice (convert it to PDF)",
    "application/zip": "a ZIP archive",
    "application/x-ole-storage": "an old-style Office file",
    "application/vnd.rar": "a RAR archive",
    "application/x-7z-compressed": "a 7-Zip archive",
    "application/gzip": "a gzip archive",
    "text/html": "an HTML page",
    "image/svg+xml": "an SVG drawing",
    "application/xml": "an XML file",
    "text/plain": "a text file",
}


_HEAD_BYTES = 4096
_CHUNK = 1 << 20
PDFIUM_LOCK = threading.Lock()  # PDFium is not thread-safe; flows may run ingest in worker threads


class FileCheck(BaseModel):
    """What one file turned out to be; `problem` is None when it may be stored."""

    media_type: str | None
    size: int
    sha256: str
    page_count: int = 0
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


# --- sniffing -----------------------------------------------------------------------------------


def sniff_media_type(head: bytes) -> str | None:
    """The media type the first bytes of a file announce, accepted or not; None if unknown.

    Refused types are recognised too, so the sender is told "a GIF image" rather than "unknown".
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "image/tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if b"%PDF-" in head[:1024]:  # readers accept the header anywhere in the first KiB
        return "application/pdf"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:2] == b"BM" and head[6:10] == b"\0\0\0\0":
        return "image/bmp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return "image/heic"
        if brand in (b"avif", b"avis"):
            return "image/avif"
    if head.startswith(b"PK\x03\x04"):
        return "application/ofd" if b"OFD.xml" in head[:512] else "application/zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"
    if head.startswith(b"Rar!\x1a\x07"):
        return "application/vnd.rar"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "application/x-7z-compressed"
    if head.startswith(b"\x1f\x8b"):
        return "application/gzip"
    return _sniff_text(head)


def _sniff_text(head: bytes) -> str | None:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text or b"\0" in text:
        return None
    lower = text[:1024].lower()
    if lower.startswith(b"<!doctype html") or b"<html" in lower or b"<body" in lower:
        return "text/html"
    if b"<svg" in lower:
        return "image/svg+xml"
    if lower.startswith(b"<?xml"):
        return "application/xml"
    for encoding in ("utf-8", "gb18030"):
        try:
            decoded = text.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start < len(text) - 4:  # a character cut by the end of `head` is fine
                continue
            decoded = text[: exc.start].decode(encoding)
        if all(c.isprintable() or c in "\r\n\t\f" for c in decoded):
            return "text/plain"
    return None


# --- one file -----------------------------------------------------------------------------------


class _Rejected(Exception):
    """A file is not acceptable; the message is the plain-English reason."""


def inspect_file(path: Path, settings: Settings, sha256: str | None = None) -> FileCheck:
    """Hash a file (unless the hash is known) and decide whether it may be stored, decoding it fully
    only after the cheap checks.

    Does not judge where the file lives: `ingest_batch` refuses paths that escape the batch first.
    """
    size = path.stat().st_size
    sha256 = sha256 or sha256_file(path)
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES)
    check = FileCheck(media_type=sniff_media_type(head), size=size, sha256=sha256)
    try:
        check.page_count = _validate(path, size, check.media_type, settings)
    except _Rejected as exc:
        check.problem = str(exc)
    return check


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks: the id a document is stored under."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _validate(path: Path, size: int, media_type: str | None, settings: Settings) -> int:
    """Raise `_Rejected` with the reason, or return the page count."""
    if size == 0:
        raise _Rejected("empty file (0 bytes)")
    if size > settings.max_file_bytes:
        raise _Rejected(f"file too large ({_mb(size)}; the limit is {_mb(settings.max_file_bytes)})")
    accepted = "send JPEG, PNG, TIFF, WebP or PDF"
    if media_type is None:
        raise _Rejected(f"unrecognised file type (not a JPEG, PNG, TIFF, WebP or PDF); {accepted}")
    if media_type not in ACCEPTED_MEDIA_TYPES:
        kind = _REFUSED_KINDS.get(media_type, media_type)
        raise _Rejected(f"unsupported file type: {kind} ({media_type}); {accepted}")
    if media_type == "application/pdf":
        return _check_pdf(path, size, settings)
    return _check_image(path, size, media_type, settings)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


# images ------------------------------------------------------------------------------------------

_PIL_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG", "image/tiff": "TIFF", "image/webp": "WEBP"}
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _check_image(path: Path, size: int, media_type: str, settings: Settings) -> int:
    kind = ACCEPTED_MEDIA_TYPES[media_type]
    with path.open("rb") as f:
        width, height = _header_size(f, media_type, size)
        _check_pixels(kind, width, height, settings)
        if media_type == "image/png":
            f.seek(max(0, size - 65536))
            tail = f.read()
            end = tail.rfind(b"IEND")
            if end < 0 or len(tail) - end < 8:  # type + CRC of the end chunk
                raise _Rejected("truncated PNG (image data ends early)")
    try:
        with Image.open(path, formats=[_PIL_FORMAT[media_type]]) as im:
            frames = getattr(im, "n_frames", 1) if media_type == "image/tiff" else 1
            if frames > settings.max_pdf_pages:
                raise _Rejected(f"TIFF has {frames} pages, more than the limit of {settings.max_pdf_pages}")
            for i in range(frames):
                im.seek(i)
                _check_pixels(kind, im.width, im.height, settings, page=i + 1 if frames > 1 else None)
                im.load()  # the full decode: truncation and corrupt data only show here
    except _Rejected:
        raise
    except Image.DecompressionBombError as exc:
        raise _Rejected(f"{kind} too large to decode safely (possible decompression bomb: {exc})") from exc
    except UnidentifiedImageError as exc:
        raise _Rejected(f"corrupt {kind} (the image cannot be read)") from exc
    except Exception as exc:  # decoders raise OSError, SyntaxError, ValueError... on hostile bytes
        log.debug("decoding %s failed", path, exc_info=True)
        if "truncated" in str(exc).lower():
            raise _Rejected(f"truncated {kind} (image data ends early)") from exc
        raise _Rejected(f"corrupt {kind} (cannot be decoded: {exc})") from exc
    return frames


def _check_pixels(kind: str, width: int, height: int, settings: Settings, page: int | None = None) -> None:
    where = f" (page {page})" if page else ""
    if width <= 0 or height <= 0:
        raise _Rejected(f"corrupt {kind}{where} (header says {width}x{height} pixels)")
    if max(width, height) > settings.max_image_side:
        raise _Rejected(
            f"{kind}{where} too large: header says {width}x{height} pixels, over the limit of"
            f" {settings.max_image_side} per side (possible decompression bomb)"
        )
    if width * height > settings.max_image_pixels:
        raise _Rejected(
            f"{kind}{where} too large: header says {width}x{height} = {width * height:,} pixels, over"
            f" the limit of {settings.max_image_pixels:,} (possible decompression bomb)"
        )


def _header_size(f: BinaryIO, media_type: str, size: int) -> tuple[int, int]:
    """Width and height as the header declares them, read without decoding any pixel data."""
    if media_type == "image/png":
        head = f.read(24)
        if len(head) < 24 or head[12:16] != b"IHDR":
            raise _Rejected("corrupt PNG (no IHDR header)")
        width, height = struct.unpack(">II", head[16:24])
        return width, height
    if media_type == "image/jpeg":
        return _jpeg_size(f)
    if media_type == "image/webp":
        return _webp_size(f, size)
    return _tiff_size(f, size)


def _jpeg_size(f: BinaryIO) -> tuple[int, int]:
    truncated = _Rejected("truncated JPEG (file ends inside the header)")
    f.seek(2)
    while True:
        byte = f.read(1)
        if not byte:
            raise truncated
        if byte != b"\xff":
            raise _Rejected("corrupt JPEG (bad marker in the header)")
        marker = f.read(1)
        while marker == b"\xff":  # fill bytes
            marker = f.read(1)
        if not marker:
            raise truncated
        m = marker[0]
        if m == 0x01 or 0xD0 <= m <= 0xD7:  # markers without a length
            continue
        if m in (0xD9, 0xDA):
            raise _Rejected("corrupt JPEG (no frame header before the image data)")
        raw_len = f.read(2)
        if len(raw_len) < 2:
            raise truncated
        length = int.from_bytes(raw_len, "big")
        if length < 2:
            raise _Rejected("corrupt JPEG (bad segment length in the header)")
        if m in _JPEG_SOF:
            frame = f.read(5)
            if len(frame) < 5:
                raise truncated
            height, width = struct.unpack(">HH", frame[1:5])
            return width, height
        f.seek(length - 2, io.SEEK_CUR)


def _webp_size(f: BinaryIO, size: int) -> tuple[int, int]:
    head = f.read(30)
    if len(head) < 30:
        raise _Rejected("truncated WebP (file ends inside the header)")
    if size < int.from_bytes(head[4:8], "little") + 8:
        raise _Rejected("truncated WebP (image data ends early)")
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", head[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    raise _Rejected("corrupt WebP (no image header)")


def _tiff_size(f: BinaryIO, size: int) -> tuple[int, int]:
    """Size of the first page; later pages are checked from their own directories before decoding."""
    head = f.read(8)
    order = "<" if head[:2] == b"II" else ">"
    if len(head) < 8:
        raise _Rejected("truncated TIFF (file ends inside the header)")
    if struct.unpack(order + "H", head[2:4])[0] == 43:
        raise _Rejected("BigTIFF is not supported (save it as an ordinary TIFF, PDF or JPEG)")
    offset = struct.unpack(order + "I", head[4:8])[0]
    if offset + 2 > size:
        raise _Rejected("truncated TIFF (its image directory lies past the end of the file)")
    f.seek(offset)
    (count,) = struct.unpack(order + "H", f.read(2))
    entries = f.read(12 * count)
    if len(entries) < 12 * count:
        raise _Rejected("truncated TIFF (its image directory lies past the end of the file)")
    found: dict[int, int] = {}
    for i in range(count):
        tag, typ = struct.unpack(order + "HH", entries[12 * i : 12 * i + 4])
        if tag in (256, 257) and typ in (3, 4):  # ImageWidth, ImageLength as SHORT or LONG
            value = entries[12 * i + 8 : 12 * i + 12]
            found[tag] = struct.unpack(order + ("H" if typ == 3 else "I"), value[: 2 if typ == 3 else 4])[0]
    if 256 not in found or 257 not in found:
        raise _Rejected("corrupt TIFF (no image width or height in its directory)")
    return found[256], found[257]


# PDFs --------------------------------------------------------------------------------------------


_JS_ACTION = re.compile(rb"/S\s*/JavaScript(?![A-Za-z0-9])")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def _has_javascript_action(path: Path) -> bool:
    """A JavaScript action (`/S /JavaScript`) anywhere outside compressed streams, `#xx` escapes undone.

    PDFium counts only the document-level scripts of the names tree; an open action or a page or
    link action is found here, in chunks that overlap so a name cut by a chunk's end is still seen.
    """
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            window = tail + chunk
            if b"#" in window:
                window = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), window)
            if _JS_ACTION.search(window):
                return True
            tail = chunk[-256:]
    return False


def _mentions(path: Path, token: bytes) -> bool:
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        return m.find(token) >= 0


def _check_pdf(path: Path, size: int, settings: Settings) -> int:
    with path.open("rb") as f:
        f.seek(max(0, size - 1024))
        if b"%%EOF" not in f.read():  # PDFium repairs cut files silently; the end marker does not lie
            raise _Rejected("truncated PDF (no %%EOF marker at the end)")
    javascript = _has_javascript_action(path)
    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            # PDFium's last error is process-wide and not reset by every failure (a PDF with no pages
            # leaves the previous file's code): a password error counts only if the file is encrypted
            encrypted = _mentions(path, b"/Encrypt")
            if exc.err_code == pdfium_raw.FPDF_ERR_PASSWORD and encrypted:
                raise _Rejected("password-protected PDF (ask the sender for an unprotected copy)") from exc
            if exc.err_code == pdfium_raw.FPDF_ERR_SECURITY and encrypted:
                raise _Rejected("encrypted PDF with an unsupported security handler") from exc
            raise _Rejected("corrupt PDF (not a readable PDF structure)") from exc
        try:
            if pdfium_raw.FPDF_GetSecurityHandlerRevision(pdf) != -1:
                raise _Rejected(
                    "encrypted PDF (opens without a password but its content is encrypted;"
                    " ask the sender for an unprotected copy)"
                )
            if javascript or pdfium_raw.FPDFDoc_GetJavaScriptActionCount(pdf) > 0:
                raise _Rejected(
                    "PDF contains JavaScript (active content a viewer could run; print it to a new"
                    " PDF or send a scan)"
                )
            pages = len(pdf)
            if pages == 0:
                raise _Rejected("PDF has no pages")
            if pages > settings.max_pdf_pages:
                raise _Rejected(f"PDF has {pages} pages, more than the limit of {settings.max_pdf_pages}")
            for i in range(pages):
                try:
                    page = pdf[i]
                except pdfium.PdfiumError as exc:
                    raise _Rejected(f"corrupt PDF (page {i + 1} cannot be read)") from exc
                width, height = page.get_size()
                page.close()
                if width <= 0 or height <= 0:
                    raise _Rejected(f"corrupt PDF (page {i + 1} has no size)")
                _check_page_raster(i + 1, width, height, settings)
        finally:
            pdf.close()
    return pages


def _check_page_raster(number: int, width_pt: float, height_pt: float, settings: Settings) -> None:
    """A scanned page is rasterised at PDF_DPI for OCR: a poster-sized page would be a pixel bomb."""
    scale = PDF_DPI / 72.0
    w, h = round(width_pt * scale), round(height_pt * scale)
    size = f"{width_pt / 72 * 2.54:.0f}x{height_pt / 72 * 2.54:.0f} cm"
    if max(w, h) > settings.max_image_side or w * h > settings.max_image_pixels:
        raise _Rejected(
            f"PDF page {number} is {size}: {w}x{h} pixels at {PDF_DPI} dpi, over the limit of"
            f" {settings.max_image_side} per side and {settings.max_image_pixels:,} in all"
            " (a poster-sized page; send it as A4 pages)"
        )

"""Files made byte by byte for the tests: good images and PDFs, and hostile ones (PDFs of any
structure, images whose headers lie, encrypted PDFs). Nothing binary is committed; every test package
makes its files here.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def noise(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Random pixels, so every seed gives other bytes and compression cannot hide truncation."""
    return (np.random.default_rng(seed).random((size[1], size[0], 3)) * 255).astype("uint8")


def save(im: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (64, 48), seed: int = 0, **options: object
) -> bytes:
    """An image of noise in `fmt` (Pillow's format name, with its save options)."""
    return save(Image.fromarray(noise(size, seed)), fmt, **options)


def jpeg(seed: int = 0, size: tuple[int, int] = (64, 48)) -> bytes:
    """Noise, so every seed gives other bytes (another SHA-256, another document)."""
    return image_bytes("JPEG", size, seed)


def gif_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF")
    return out.getvalue()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("invoice.jpg", image_bytes("JPEG"))
    return out.getvalue()


def pdf_bytes(pages: int) -> bytes:
    """`pages` blank A4 pages, written by pdfium."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(595, 842)
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def text_pdf(path: Path, text: str) -> Path:
    """A one-page PDF with a real text layer in an embedded CJK font (Helvetica and Latin text if
    pdfium cannot load the CJK font)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    from ocr.layout import cjk_font_path

    pdf = pdfium.PdfDocument.new()
    page = pdf.new_page(400, 200)
    data = cjk_font_path().read_bytes()
    buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    font = raw.FPDFText_LoadFont(pdf.raw, buf, len(data), raw.FPDF_FONT_TRUETYPE, 1)
    if not font:
        font = raw.FPDFText_LoadStandardFont(pdf.raw, b"Helvetica")
        text = "INVOICE 2024-03-15 TOTAL 388.50"
    obj = raw.FPDFPageObj_CreateTextObj(pdf.raw, font, 16.0)
    ws = (text + "\x00").encode("utf-16-le")
    raw.FPDFText_SetText(obj, ctypes.cast(ctypes.c_char_p(ws), ctypes.POINTER(raw.FPDF_WCHAR)))
    raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 40, 120)
    raw.FPDFPage_InsertObject(page.raw, obj)
    raw.FPDFPage_GenerateContent(page.raw)
    pdf.save(str(path))
    return path


# --- hostile ---------------------------------------------------------------------------------------


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims any size, with one tiny IDAT: the bomb is in the header, not in memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


_PAD = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")


def _rc4(key: bytes, data: bytes) -> bytes:
    s, j = list(range(256)), 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray()
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def encrypted_pdf(user_password: bytes) -> bytes:
    """A one-page PDF with a real RC4-40 Standard security handler (PDF 1.4, revision 2).

    With an empty user password it opens without one yet is still encrypted (an "owner password"
    PDF); with a user password it cannot be opened at all.
    """
    file_id = bytes(16)
    owner = _rc4(hashlib.md5((b"owner" + _PAD)[:32]).digest()[:5], (user_password + _PAD)[:32])
    perms = -44
    key = hashlib.md5(
        (user_password + _PAD)[:32] + owner + perms.to_bytes(4, "little", signed=True) + file_id
    ).digest()[:5]
    user = _rc4(key, _PAD)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
        % (owner.hex().encode(), user.hex().encode(), perms),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    ident = file_id.hex().encode()
    out += b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1, ident, ident,
    )  # fmt: skip
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def raw_pdf(
    objects: list[bytes], *, header: bytes = b"%PDF-1.7\n", xref: bool = True, wrong_offsets: bool = False
) -> bytes:
    """A PDF of the given object bodies (object 1 is the catalog); its xref table may lie or be absent."""
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    if xref:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % (7 if wrong_offsets else off) for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        99999 if wrong_offsets else start,
    )
    return bytes(out)


def pages_pdf(
    pages: int, *, box: bytes = b"[0 0 595 842]", catalog: bytes = b"", extra: tuple[bytes, ...] = ()
) -> bytes:
    """`pages` blank pages of one size; `catalog` adds entries to the catalog, `extra` more objects."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R %s>>" % catalog,
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        *(b"<< /Type /Page /Parent 2 0 R /MediaBox %s >>" % box for _ in range(pages)),
        *extra,
    ]
    return raw_pdf(objects)


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF) declares another size."""
    data = bytearray(save(Image.fromarray(noise((64, 48))), "JPEG"))
    i = 2
    while data[i + 1] not in (0xC0, 0xC2):
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    data[i + 5 : i + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def webp_claiming(width: int, height: int) -> bytes:
    """A small lossy WebP whose VP8 frame header declares another size (14 bits a side at most)."""
    data = bytearray(save(Image.fromarray(noise((64, 48))), "WEBP"))
    assert data[12:16] == b"VP8 "
    struct.pack_into("<HH", data, 26, width, height)
    return bytes(data)


def tiff_pages(pages: list[tuple[int, int, int, int]]) -> bytes:
    """An uncompressed 8-bit grey TIFF by hand: per page (real w, real h, declared w, declared h)."""
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    directories, next_links = [], []
    for w, h, dw, dh in pages:
        pixels = bytes([200]) * (w * h)
        offset = len(out)
        out += pixels + (b"\0" if len(pixels) % 2 else b"")
        entries = [
            (256, 4, dw), (257, 4, dh), (258, 3, 8), (259, 3, 1), (262, 3, 1),
            (273, 4, offset), (277, 3, 1), (278, 4, dh), (279, 4, len(pixels)),
        ]  # fmt: skip
        directories.append(len(out))
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, 1) + packed
        next_links.append(len(out))
        out += b"\0\0\0\0"
    struct.pack_into("<I", out, 4, directories[0])
    for link, target in zip(next_links, directories[1:], strict=False):
        struct.pack_into("<I", out, link, target)
    return bytes(out)


def png_bad_crc() -> bytes:
    """A PNG whose image data fails its checksum (a bit flipped in transit)."""
    data = bytearray(save(Image.fromarray(noise((64, 48))), "PNG"))
    at = data.index(b"IDAT") + 8
    data[at] ^= 0xFF
    return bytes(data)


def sixteen_bit_png(size: tuple[int, int] = (64, 48)) -> bytes:
    """A 16-bit grey scan: dark text (value 5000) on paper (value 60000)."""
    arr = np.full((size[1], size[0]), 60000, dtype=np.uint16)
    arr[size[1] // 3 : size[1] // 2, 4:-4] = 5000
    return save(Image.fromarray(arr), "PNG")


def transparent_png(size: tuple[int, int] = (64, 48)) -> bytes:
    """Black text on a transparent background, as screenshot and signature tools save it."""
    arr = np.zeros((size[1], size[0], 4), dtype=np.uint8)
    arr[size[1] // 3 : size[1] // 2, 4:-4, 3] = 255
    return save(Image.fromarray(arr, "RGBA"), "PNG")


def multipage_tiff(colours: tuple[str, ...] = ("white", "black", "gray")) -> bytes:
    frames = [Image.new("RGB", (40, 30), c) for c in colours]
    return save(frames[0], "TIFF", save_all=True, append_images=frames[1:])

"""The national medical e-invoice (医疗收费电子票据) as a PDF with a real text layer.

The page image is drawn with Pillow (so it looks exactly like the paper renders) and every string on
it is also written as PDF text, invisible (render mode 3) and placed over its pixels, in the
Adobe-GB1 CJK font `STSong-Light` with the `UniGB-UCS2-H` encoding. PDF readers (pdfium included)
know that font without it being embedded, so the text layer costs a few kilobytes instead of the
8 MB a full embedded Noto CJK font would (pdfium's FPDFText_LoadFont embeds the whole font file and
there is no subsetter in our dependencies). `pypdfium2` reads the text and the character boxes
back; see tests/synth/test_einvoice.py.
"""

from __future__ import annotations

import io

from synth.render import Canvas

# Adobe-GB1 CIDs 1..95 are the proportional ASCII glyphs; everything else we draw is full width
_ASCII_WIDTH = 500


def _hex(text: str) -> str:
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


def _natural_width(text: str, size: float) -> float:
    return sum((_ASCII_WIDTH if ord(ch) < 128 else 1000) for ch in text) * size / 1000


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(canvas: Canvas, scale: float, title: str = "", quality: int = 65) -> bytes:
    """One-page PDF: the canvas image as the page, plus an invisible text layer of every run."""
    w_pt, h_pt = canvas.width / scale, canvas.height / scale
    buf = io.BytesIO()
    canvas.image.convert("RGB").save(buf, "JPEG", quality=quality, optimize=True)
    jpeg = buf.getvalue()
    ops = [f"q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q", "BT 3 Tr"]
    for run in canvas.runs:
        x0, y0, x1, y1 = run.bbox
        ink_h = max(1.0, y1 - y0)
        size = ink_h / scale / 0.92 if any(ord(ch) > 127 for ch in run.text) else ink_h / scale / 0.72
        size = min(size, run.size / scale)
        natural = _natural_width(run.text, size)
        tz = 100.0 * ((x1 - x0) / scale) / natural if natural else 100.0
        baseline = h_pt - (y1 / scale) + 0.10 * size
        # pdfium's text extraction drops a text object of one lone CJK glyph (the invoice's 男/女);
        # a trailing space, outside the measured width, keeps it
        text = run.text + " " if len(run.text) == 1 and ord(run.text) > 127 else run.text
        ops.append(
            f"/F1 {size:.2f} Tf {tz:.1f} Tz 1 0 0 1 {x0 / scale:.2f} {baseline:.2f} Tm {_hex(text)} Tj"
        )
    ops.append("ET")
    content = "\n".join(ops).encode("ascii")

    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.2f} {h_pt:.2f}]"
            " /Resources << /Font << /F1 5 0 R >> /XObject << /Im0 4 0 R >> >> /Contents 8 0 R >>"
        ).encode(),
        (
            f"<< /Type /XObject /Subtype /Image /Width {canvas.width} /Height {canvas.height}"
            f" /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length {len(jpeg)} >>\nstream\n"
        ).encode()
        + jpeg
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H"
        b" /DescendantFonts [6 0 R] >>",
        (
            b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
            b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >>"
            b" /FontDescriptor 7 0 R /DW 1000 /W [1 95 500 814 939 500] >>"
        ),
        (
            b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880]"
            b" /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>"
        ),
        f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
        f"<< /Title ({_escape(title)}) /Producer (claims-di synth) >>".encode("latin-1", "replace"),
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    trailer = f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R /Info {len(objs)} 0 R >>\n"
    out += (trailer + f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)

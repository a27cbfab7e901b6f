"""Pages of OCR lines made up on the spot: each line's text and top-left, boxes sized by its text."""

from __future__ import annotations

from ocr.elements import Page, TextLine


def line(text: str, x: float, y: float, score: float = 0.98, height: float = 28) -> TextLine:
    """One read line at (x, y), about 24 px per character wide."""
    w = 24 * len(text)
    return TextLine(text=text, box=((x, y), (x + w, y), (x + w, y + height), (x, y + height)), score=score)


def page_of(*texts: tuple[str, float, float], codes: list[TextLine] | None = None, number: int = 1) -> Page:
    """A page of lines given as (text, x, y), with QR codes if any."""
    lines = [line(t, x, y) for t, x, y in texts]
    return Page(number=number, width=1600, height=1100, lines=lines, codes=codes or [])


def qr_code(payload: str, x: float = 1400, y: float = 40, side: float = 140) -> TextLine:
    """A decoded QR code as the OCR stage keeps it."""
    box = ((x, y), (x + side, y), (x + side, y + side), (x, y + side))
    return TextLine(text=payload, box=box, score=1.0, source="qr")

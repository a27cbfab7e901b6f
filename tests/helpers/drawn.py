"""Pages of generator-drawn documents as OCR would read them: each drawn string a line (no OCR)."""

from __future__ import annotations

from ocr.elements import Page
from synth.doc_samples import runs_to_lines
from synth.render import Canvas


def page_from_canvas(canvas: Canvas, number: int = 1) -> Page:
    """The canvas's strings as text lines, neighbours glued as OCR glues them."""
    return Page(number=number, width=canvas.width, height=canvas.height, lines=runs_to_lines(canvas.runs))

"""The OCR document tree: pages of text lines, each with its 4-point box and score.

Everything a later stage needs (geometry, confidence, where the text came from) travels with the
text, so an adjuster can always be shown where a number was read.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Point = tuple[float, float]
Box = tuple[Point, Point, Point, Point]
"""Four corners clockwise from top-left, in pixels of the page as stored (after clean-up)."""


class TextLine(BaseModel):
    """One line of text read from a page."""

    model_config = ConfigDict(frozen=True)

    text: str
    box: Box
    score: float = Field(ge=0.0, le=1.0)
    source: Literal["ocr", "pdf_text", "structured", "qr", "seal"] = "ocr"
    """Where the text came from; "qr" is a decoded QR code's payload (kept on `Page.codes`), "seal"
    a round seal's ring read straight (kept on `Page.seals`)."""
    raw_text: str | None = None
    """What the model first read, before a second reading or a domain correction changed it; None
    when nothing changed."""

    @field_validator("box", mode="before")
    @classmethod
    def _box_from_lists(cls, v: object) -> object:
        # numpy arrays and [[x, y], ...] lists from engines both become a tuple of 4 points
        if hasattr(v, "tolist"):
            v = v.tolist()  # type: ignore[union-attr]
        if isinstance(v, list | tuple) and len(v) == 4:
            return tuple((float(p[0]), float(p[1])) for p in v)
        return v

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """Axis-aligned (x0, y0, x1, y1) around the 4-point box."""
        xs = [p[0] for p in self.box]
        ys = [p[1] for p in self.box]
        return min(xs), min(ys), max(xs), max(ys)


class Page(BaseModel):
    """One page of a document, as read: its size after clean-up and its lines."""

    number: int = Field(ge=1)
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    lines: list[TextLine] = Field(default_factory=list)
    rotation: int = 0
    """Clockwise degrees (0/90/180/270) the clean-up turned the page to make it upright."""
    source: Literal["ocr", "pdf_text", "structured"] = "ocr"
    codes: list[TextLine] = Field(default_factory=list)
    """QR codes decoded on the page (`source="qr"`, score 1.0): each payload as text, with the
    code's box. Kept apart from `lines` so that reading order, pairing and layout never see them."""
    seals: list[TextLine] = Field(default_factory=list)
    """Round seals read along their ring (`source="seal"`; ocr/seals.py), with the seal's square as
    box: apart from `lines` like the codes, for the extractors to take a name from where the print
    has none."""

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

"""Drawing primitives for claim documents: a canvas that remembers where every field was drawn.

Every string drawn through `Canvas.text` is kept as a run (for the e-invoice's PDF text layer);
strings drawn with a field name are also kept as ground-truth fields with their box. Chinese is
drawn with the Noto CJK faces from the `pylopdf_fonts_zh_cn` wheel, never with system fonts.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pylopdf_fonts_zh_cn
from PIL import Image, ImageChops, ImageDraw, ImageFont

from ocr.elements import Box
from pipeline.records import FieldKind
from synth.truth import FieldTruth

FONT_DIR = Path(pylopdf_fonts_zh_cn.__file__).parent
FACES = {"sans": FONT_DIR / "NotoSansSC-Regular.otf", "serif": FONT_DIR / "NotoSerifSC-Regular.otf"}

INK = (25, 25, 30)
PRINTER_INK = (40, 40, 60)  # dot-matrix / laser values printed onto pre-printed forms
BLUE_INK = (30, 50, 140)  # ballpoint: filled-in application forms
SEAL_RED = (215, 30, 35)


@lru_cache(maxsize=64)
def font(size: int, face: str = "sans") -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FACES[face]), size)


def rect_box(x0: float, y0: float, x1: float, y1: float) -> Box:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


@dataclass
class Run:
    """A string as drawn: its text, top-left, size in pixels and face (for the PDF text layer)."""

    text: str
    x: float
    y: float
    size: int
    face: str
    bbox: tuple[float, float, float, float]


@dataclass
class Canvas:
    """A page being drawn, with the fields and runs drawn on it so far."""

    width: int
    height: int
    paper: tuple[int, int, int] = (255, 255, 255)
    image: Image.Image = field(init=False)
    fields: list[FieldTruth] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    offset: tuple[float, float] = (0.0, 0.0)
    """Printer misregistration: added to every value drawn with `value_text`."""

    def __post_init__(self) -> None:
        self.image = Image.new("RGB", (self.width, self.height), self.paper)
        self.draw = ImageDraw.Draw(self.image)

    # --- text -----------------------------------------------------------------------------------

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: int = 24,
        *,
        face: str = "sans",
        fill=INK,
        anchor: str = "la",
        name: str | None = None,
        kind: FieldKind = FieldKind.TEXT,
        value: str | None = None,
        page: int = 1,
    ) -> tuple[float, float, float, float]:
        """Draw `text` with its top-left (or `anchor`) at x, y; record it as field `name` if given."""
        if not text:
            return (x, y, x, y)
        f = font(size, face)
        self.draw.text((x, y), text, font=f, fill=fill, anchor=anchor)
        bbox = self.draw.textbbox((x, y), text, font=f, anchor=anchor)
        self.runs.append(Run(text, bbox[0], bbox[1], size, face, bbox))
        if name:
            self.fields.append(
                FieldTruth(
                    name=name,
                    kind=kind,
                    value=value if value is not None else text,
                    text=text,
                    box=rect_box(*bbox),
                    page=page,
                )
            )
        return bbox

    def value_text(
        self, x: float, y: float, text: str, size: int = 24, **kw
    ) -> tuple[float, float, float, float]:
        """A value printed onto a pre-printed form, shifted by the printer's misregistration."""
        kw.setdefault("fill", PRINTER_INK)
        return self.text(x + self.offset[0], y + self.offset[1], text, size, **kw)

    def text_width(self, text: str, size: int, face: str = "sans") -> float:
        return self.draw.textlength(text, font=font(size, face))

    def fit_size(self, text: str, size: int, width: float, face: str = "sans") -> int:
        """The largest size <= `size` at which `text` fits in `width` pixels."""
        while size > 10 and self.text_width(text, size, face) > width:
            size -= 1
        return size

    def paragraph(
        self, x: float, y: float, text: str, width: float, size: int = 22, *, line_gap: float = 1.5, **kw
    ) -> float:
        """Wrap Chinese text (any character may break) into `width`; returns the y below it."""
        line = ""
        for ch in text:
            if self.text_width(line + ch, size) > width:
                self.text(x, y, line, size, **kw)
                y += size * line_gap
                line = ""
            line += ch
        if line:
            self.text(x, y, line, size, **kw)
            y += size * line_gap
        return y

    # --- lines and boxes --------------------------------------------------------------------------

    def hline(self, x0: float, x1: float, y: float, fill=INK, width: int = 2) -> None:
        self.draw.line([(x0, y), (x1, y)], fill=fill, width=width)

    def vline(self, x: float, y0: float, y1: float, fill=INK, width: int = 2) -> None:
        self.draw.line([(x, y0), (x, y1)], fill=fill, width=width)

    def rect(
        self, x0: float, y0: float, x1: float, y1: float, outline=INK, width: int = 2, fill=None
    ) -> None:
        self.draw.rectangle([x0, y0, x1, y1], outline=outline, width=width, fill=fill)

    def grid(
        self,
        x0: float,
        y0: float,
        col_widths: list[float],
        row_heights: list[float],
        fill=INK,
        width: int = 2,
    ) -> tuple[list[float], list[float]]:
        """Ruled table; returns the x of every column edge and the y of every row edge."""
        xs = [x0]
        for w in col_widths:
            xs.append(xs[-1] + w)
        ys = [y0]
        for h in row_heights:
            ys.append(ys[-1] + h)
        for y in ys:
            self.hline(xs[0], xs[-1], y, fill, width)
        for x in xs:
            self.vline(x, ys[0], ys[-1], fill, width)
        return xs, ys

    def crop_height(self, height: int) -> None:
        """Cut the page at `height` (fields keep their boxes: the origin does not move)."""
        height = min(height, self.height)
        self.image = self.image.crop((0, 0, self.width, height))
        self.height = height
        self.draw = ImageDraw.Draw(self.image)

    def field(self, name: str) -> FieldTruth | None:
        return next((f for f in self.fields if f.name == name), None)

    # --- seals, stamps, patches -----------------------------------------------------------------

    def seal(
        self,
        cx: float,
        cy: float,
        radius: int,
        ring_text: str,
        center_text: str = "",
        *,
        rng: random.Random,
        oval: bool = False,
        color=SEAL_RED,
    ) -> None:
        """A red round (or oval) seal stamped over whatever is below it, as real ink: multiplied."""
        rx, ry = (radius * 1.35, radius) if oval else (radius, radius)
        size = int(2 * max(rx, ry) + 20)
        layer = Image.new("L", (size, size), 0)
        d = ImageDraw.Draw(layer)
        c = size / 2
        d.ellipse([c - rx, c - ry, c + rx, c + ry], outline=255, width=max(4, radius // 14))
        # ring text runs clockwise along the upper arc
        n = len(ring_text)
        glyph = max(14, int(radius * 0.30))
        f = font(glyph, "sans")
        span = min(250.0, 22.0 * n)
        for i, ch in enumerate(ring_text):
            ang = -90 - span / 2 + span * (i + 0.5) / n
            a = math.radians(ang)
            gx, gy = c + (rx - glyph * 0.95) * math.cos(a), c + (ry - glyph * 0.95) * math.sin(a)
            tile = Image.new("L", (glyph * 2, glyph * 2), 0)
            ImageDraw.Draw(tile).text((glyph, glyph), ch, font=f, fill=255, anchor="mm")
            tile = tile.rotate(-(ang + 90), resample=Image.BICUBIC)
            layer.paste(255, (int(gx - glyph), int(gy - glyph)), tile)
        # five-pointed star
        star_r = radius * 0.24
        pts = []
        for k in range(10):
            r = star_r if k % 2 == 0 else star_r * 0.4
            a = math.radians(-90 + 36 * k)
            pts.append((c + r * math.cos(a), c - radius * 0.05 + r * math.sin(a)))
        d.polygon(pts, fill=255)
        if center_text:
            ct = font(max(12, int(radius * 0.2)), "sans")
            d.text((c, c + radius * 0.48), center_text, font=ct, fill=255, anchor="mm")
        # uneven ink: speckle the stamp so it is never a perfect vector shape
        noise = np.random.default_rng(rng.getrandbits(32)).normal(128, 60, (size, size))
        speck = Image.fromarray(np.where(noise > 70, 255, 0).astype(np.uint8), "L")
        layer = ImageChops.multiply(layer, speck)
        layer = layer.rotate(rng.uniform(-25, 25), resample=Image.BICUBIC)
        alpha = layer.point(lambda v: int(v * rng.uniform(0.72, 0.9)))
        ink = Image.new("RGB", (size, size), color)
        region = (int(cx - size / 2), int(cy - size / 2))
        below = self.image.crop((region[0], region[1], region[0] + size, region[1] + size))
        stamped = ImageChops.multiply(below, ink)
        below.paste(stamped, (0, 0), alpha)
        self.image.paste(below, region)

    def patch(self, bbox: tuple[float, float, float, float], margin: int = 6, tint: int = 6) -> None:
        """Cover a region with slightly different paper: the trace of an edited amount."""
        x0, y0, x1, y1 = bbox
        color = tuple(min(255, c + tint) for c in self.paper)
        self.draw.rectangle([x0 - margin, y0 - margin, x1 + margin, y1 + margin], fill=color)

    def qr(self, x: float, y: float, size: int, rng: random.Random, data: str | None = None) -> None:
        """A QR code of `data` (at a whole number of pixels per module, about `size` wide, quiet zone
        included); without data, a QR-code-like square of random modules that decodes to nothing."""
        if data is not None:
            matrix = cv2.QRCodeEncoder.create().encode(data)
            per = max(2, round(size / matrix.shape[0]))
            side = matrix.shape[0] * per
            code = Image.fromarray(matrix).resize((side, side), Image.NEAREST)
            self.image.paste(code.convert("RGB"), (int(x), int(y)))
            return
        n = 25
        cell = size / n
        for i in range(n):
            for j in range(n):
                finder = (i < 7 and j < 7) or (i < 7 and j >= n - 7) or (i >= n - 7 and j < 7)
                if finder:
                    ii, jj = i % (n - 7) if i >= 7 else i, j % (n - 7) if j >= 7 else j
                    on = ii in (0, 6) or jj in (0, 6) or (2 <= ii <= 4 and 2 <= jj <= 4)
                else:
                    on = rng.random() < 0.5
                if on:
                    self.draw.rectangle(
                        [x + j * cell, y + i * cell, x + (j + 1) * cell - 1, y + (i + 1) * cell - 1], fill=INK
                    )

    def watermark(self, text: str, size: int, fill=(200, 200, 200)) -> None:
        """Large diagonal text (e.g. 样本) over the page: specimen identity documents."""
        layer = Image.new("L", (self.width, self.height), 0)
        d = ImageDraw.Draw(layer)
        d.text((self.width / 2, self.height / 2), text, font=font(size, "sans"), fill=110, anchor="mm")
        layer = layer.rotate(20, resample=Image.BICUBIC)
        self.image.paste(Image.new("RGB", self.image.size, fill), (0, 0), layer)

"""Lines into rows and reading order, as layoutparser blocks, and a picture of a page with its boxes.

Key-value pairing downstream works on rows (a key 名称 and its value sit on one row), so rows are
built here once: lines whose vertical extents overlap enough belong to one row, rows run top to
bottom and lines left to right within a row. layoutparser is imported only when a `Layout` is asked
for, so plain OCR does not pay for it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ocr.elements import Page, TextLine

if TYPE_CHECKING:
    import layoutparser as lp

log = logging.getLogger(__name__)


def group_rows(lines: Sequence[TextLine], overlap: float = 0.5) -> list[list[TextLine]]:
    """Rows of lines, top to bottom, each row left to right.

    A line joins a row when its vertical overlap with the row's current band is at least `overlap`
    of the smaller of the two heights; this holds on slightly skewed pages where a fixed y
    threshold does not.
    """
    items = sorted(lines, key=lambda ln: (ln.bbox[1] + ln.bbox[3]) / 2)
    rows: list[tuple[float, float, list[TextLine]]] = []
    for ln in items:
        _, y0, _, y1 = ln.bbox
        h = max(y1 - y0, 1.0)
        placed = False
        for k in range(len(rows) - 1, max(-1, len(rows) - 4), -1):
            ry0, ry1, members = rows[k]
            inter = min(y1, ry1) - max(y0, ry0)
            if inter >= overlap * min(h, max(ry1 - ry0, 1.0)):
                members.append(ln)
                # keep the band at the median line's extent so tall lines do not swallow rows
                rows[k] = (
                    float(np.median([m.bbox[1] for m in members])),
                    float(np.median([m.bbox[3] for m in members])),
                    members,
                )
                placed = True
                break
        if not placed:
            rows.append((y0, y1, [ln]))
    rows.sort(key=lambda r: (r[0] + r[1]) / 2)
    return [sorted(r[2], key=lambda ln: ln.bbox[0]) for r in rows]


def reading_order(lines: Sequence[TextLine]) -> list[TextLine]:
    """Lines in reading order: rows top to bottom, left to right within a row."""
    return [ln for row in group_rows(lines) for ln in row]


def to_layout(page: Page) -> lp.Layout:
    """The page as a layoutparser `Layout` of `TextBlock`s in reading order.

    Each block's `id` is its reading-order index, `parent` its row index, `type` the line's source,
    and `score` the recognition confidence; the 4-point box is kept as a `Quadrilateral`.
    """
    import layoutparser as lp

    blocks = []
    for row_no, row in enumerate(group_rows(page.lines)):
        for ln in row:
            shape = lp.Quadrilateral(np.array(ln.box, dtype=float))
            blocks.append(
                lp.TextBlock(
                    shape, text=ln.text, id=len(blocks), type=ln.source, parent=row_no, score=ln.score
                )
            )
    return lp.Layout(blocks, page_data={"number": page.number, "width": page.width, "height": page.height})


def cjk_font_path() -> Path:
    """The Noto Sans SC font shipped as a wheel, so drawing never depends on system fonts."""
    import pylopdf_fonts_zh_cn

    return Path(pylopdf_fonts_zh_cn.__file__).parent / "NotoSansSC-Regular.otf"


def draw_page(
    image: np.ndarray | None, page: Page, out: Path | str | None = None, *, labels: bool = True
) -> Any:
    """A picture of the page with every line's box and its text, for humans checking the OCR.

    `image` is the cleaned BGR page the boxes refer to (None draws on white). Labels are drawn with
    Pillow and a CJK font ourselves: layoutparser's `draw_box(show_element_id=True)` breaks on
    current Pillow. Returns the PIL image, and saves it when `out` is given.
    """
    from PIL import Image, ImageDraw, ImageFont

    if image is None:
        canvas = Image.new("RGB", (page.width, page.height), "white")
    else:
        canvas = Image.fromarray(np.ascontiguousarray(image[..., ::-1]))
    draw = ImageDraw.Draw(canvas, "RGBA")
    size = max(12, round(max(page.width, page.height) / 110))
    font = ImageFont.truetype(str(cjk_font_path()), size)
    for i, ln in enumerate(reading_order(page.lines)):
        pts = [tuple(p) for p in ln.box]
        colour = (
            (0, 160, 0, 255)
            if ln.score >= 0.9
            else (230, 120, 0, 255)
            if ln.score >= 0.7
            else (220, 0, 0, 255)
        )
        draw.polygon(pts, outline=colour, width=max(1, size // 8))
        if labels:
            label = f"{i}: {ln.text}"
            x, y = pts[0][0], max(0.0, pts[0][1] - size - 2)
            tb = draw.textbbox((x, y), label, font=font)
            draw.rectangle(tb, fill=(255, 255, 255, 190))
            draw.text((x, y), label, font=font, fill=colour)
    if out is not None:
        canvas.save(out)
    return canvas

from __future__ import annotations

from pathlib import Path

import numpy as np

from ocr.elements import Page, TextLine
from ocr.layout import draw_page, group_rows, reading_order, to_layout


def _line(text: str, x0: float, y0: float, x1: float, y1: float) -> TextLine:
    return TextLine(text=text, box=((x0, y0), (x1, y0), (x1, y1), (x0, y1)), score=0.95)


LINES = [
    _line("金额", 500, 102, 600, 130),
    _line("名称", 10, 100, 90, 128),
    _line("深圳市某某有限公司", 120, 98, 400, 131),  # slightly taller, same row
    _line("开票日期", 10, 40, 110, 66),
    _line("2024年03月15日", 130, 44, 330, 70),  # a little lower on a skewed page
]


def test_rows_and_reading_order() -> None:
    rows = group_rows(LINES)
    assert [[ln.text for ln in r] for r in rows] == [
        ["开票日期", "2024年03月15日"],
        ["名称", "深圳市某某有限公司", "金额"],
    ]
    assert next(ln.text for ln in reading_order(LINES)) == "开票日期"


def test_layout_blocks_and_drawing(tmp_path: Path) -> None:
    page = Page(number=1, width=700, height=200, lines=LINES)
    layout = to_layout(page)
    assert len(layout) == 5
    assert layout[0].text == "开票日期" and layout[0].id == 0 and layout[2].parent == 1
    out = tmp_path / "page.png"
    im = draw_page(None, page, out)
    assert out.is_file() and im.size == (700, 200)
    # labels were drawn: the picture is not just boxes on white
    assert len(np.unique(np.asarray(im).reshape(-1, 3), axis=0)) > 5

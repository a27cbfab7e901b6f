"""Helpers for the OCR tests: pages of Chinese text rendered on the spot with the CJK font wheel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr.layout import cjk_font_path

LINES = [
    "深圳市人民医院门诊收费票据",
    "开票日期 2024年03月15日",
    "患者姓名 张三 医保类型 职工医保",
    "西药费 ¥128.50 检查费 ¥260.00",
    "合计金额 ¥388.50",
]
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "vat_invoices"


def render_page(lines: list[str] = LINES, size: int = 30, width: int = 900, margin: int = 50) -> np.ndarray:
    """A white page with the lines in black, as a BGR array."""
    font = ImageFont.truetype(str(cjk_font_path()), size)
    height = margin * 2 + len(lines) * int(size * 2.0)
    im = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(im)
    for i, text in enumerate(lines):
        d.text((margin, margin + i * int(size * 2.0)), text, font=font, fill=(20, 20, 20))
    return np.ascontiguousarray(np.asarray(im)[..., ::-1])

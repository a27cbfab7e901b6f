"""Pixels to text lines: image loading, OpenCV clean-up, PP-OCR engines and layout.

Knows nothing of claims; `pipeline.records` reuses its `TextLine` and `Page`.
"""

from ocr.elements import Box, Page, TextLine

__all__ = ["Box", "Page", "TextLine"]

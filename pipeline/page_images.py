"""Page images (`data/page-images`): the pictures the review app draws the OCR boxes over.

An OCR'd page is saved by the reader as it cleaned it. A text-layer PDF page has no cleaning: it is
rasterised here, by `ocr` at the loader's dpi, the first time someone looks at it. The doors get
their page images through the spine, so none of them imports `ocr`.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from PIL import Image

from ocr.images import render_pdf_page

__all__ = ["write_pdf_page_image"]


def write_pdf_page_image(source: Path, number: int, target: Path) -> None:
    """Page `number` (1-based) of the PDF `source`, as `ocr` reads it, saved as a JPEG at `target`.

    Written to a temporary name and moved into place, so a reader never sees half a file.
    """
    rgb = render_pdf_page(source, number)[..., ::-1]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    Image.fromarray(rgb).save(tmp, format="JPEG", quality=90)
    tmp.replace(target)

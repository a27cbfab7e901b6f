"""Stand-ins for OCR and for extraction in tests that are about a flow or a bench, not about reading.

`fake_ocr` keeps the real loaders (what intake let through must load, page for page) and returns
every page without text, in milliseconds; `truth_facts` makes extraction assemble the facts the
synthetic corpus's truth gives (`synth.facts`), so claims are decided, paid and queued as their
documents say. Both are installed with monkeypatch inside a test, never in product code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from helpers.ocr_engine import FakeEngine
from ocr.elements import Page


def blank_pages(path: Path | str) -> list[Page]:
    """The file's pages as the real loader gives them, without OCR: text-layer lines are kept."""
    from ocr.images import load_document

    return [
        Page(
            number=p.number,
            width=p.width,
            height=p.height,
            lines=p.lines,
            source="pdf_text" if p.image is None else "ocr",
        )
        for p in load_document(path)
    ]


def fake_ocr(
    monkeypatch: pytest.MonkeyPatch,
    engine: FakeEngine | None = None,
    read: Callable[[Path], list[Page]] | None = None,
) -> FakeEngine:
    """Every OCR task and the reader key use `engine`; documents are read by `read` (blank pages)."""
    import ocr.engine
    import ocr.reader

    eng = engine or FakeEngine()
    reader = read or blank_pages

    def read_document(path: Path | str, *args: Any, **kwargs: Any) -> list[Page]:
        return reader(Path(path))

    monkeypatch.setattr(ocr.engine, "get_engine", lambda *a, **k: eng)
    monkeypatch.setattr(ocr.reader, "read_document", read_document)
    return eng


def structured_batch(folder: Path, claims: int, seed: int) -> Path:
    """A structured synthetic batch (`render=False`) whose listed documents exist as small distinct
    JPEGs, so intake stores them and OCR tasks run; the truth stays in `.truth/`."""
    import csv
    import io

    from PIL import Image

    from synth.documents import generate_corpus

    generate_corpus(folder, claims, seed, render=False)
    with (folder / "claims.csv").open(encoding="utf-8-sig", newline="") as fh:
        names = [n for row in csv.DictReader(fh) for n in row["documents"].split(";") if n]
    rng = np.random.default_rng(seed)
    for name in names:
        out = io.BytesIO()
        Image.fromarray((rng.random((24, 32, 3)) * 255).astype("uint8")).save(out, "JPEG")
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(out.getvalue())
    return folder


def truth_facts(monkeypatch: pytest.MonkeyPatch, corpus: Path) -> None:
    """Extraction assembles each claim's facts from the corpus truth (as its documents show them)."""
    from flows import steps
    from synth.facts import load_facts

    truth = {f.claim.claim_id: f for f in load_facts(corpus)}
    monkeypatch.setattr(steps, "assemble_facts", lambda claim, extractions, policy: truth[claim.claim_id])

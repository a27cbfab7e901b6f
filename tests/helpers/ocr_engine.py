"""The one stand-in OCR engine: for tests of what is done around reading (the cache, page images,
the flows), never of the reading itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ocr.engine import Detection, Reading

Box = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


class FakeEngine:
    """Finds `text` in one fixed box on every page (nothing when `text` is empty) and counts the pages
    it looked at; `explode(image)` may raise instead (a crash on one page)."""

    name = "fake"
    version = "1"

    def __init__(
        self,
        text: str = "",
        box: Box = ((10, 10), (200, 10), (200, 40), (10, 40)),
        explode: Callable[[np.ndarray], bool] | None = None,
    ) -> None:
        self.text, self.box, self.explode = text, box, explode
        self.calls = 0
        self.crashes = 0

    def detect(self, image: np.ndarray) -> list[Detection]:
        self.calls += 1
        if self.explode is not None and self.explode(image):
            self.crashes += 1
            raise RuntimeError("the OCR engine crashed on this page (onnxruntime: invalid input)")
        return [Detection(np.array(self.box, np.float32), 0.9)] if self.text else []

    def recognize(self, crops: Sequence[np.ndarray]) -> list[Reading]:
        if not self.text:
            return [Reading("", 0.0, []) for _ in crops]
        return [Reading(self.text, 0.99, [[(c, 0.99)] for c in self.text]) for _ in crops]

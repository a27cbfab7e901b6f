"""Round seals (印章) read along their ring: the hospital's name where the page prints it nowhere else.

A bill's 收款单位 is often left blank for the hospital's 收费专用章, or printed where the stamp lands
on it; the seal itself carries the name, curved along its top arc. The clean-up fades seal ink so
the text under a stamp can be read (`clean.suppress_seals`); this reads the stamp instead, from the
pixels as they came: circles of red ink found by a Hough transform, each ring unrolled by a polar
warp into one straight strip (characters upright, left to right as the arc runs clockwise) and
recognised as a line. The readings are kept on `Page.seals`, apart from the page's lines, with the
seal's square as their box; the extractors take a name from them only where the print has none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ocr.engine import OcrEngine

SEALS_VERSION = "1"
"""Part of the OCR cache key: bump when what a seal reads as changes."""

HOUGH_SIDE = 800
"""Long side of the page copy the circles are looked for on."""
MIN_RADIUS, MAX_RADIUS = 0.025, 0.15
"""A stamp's radius as a share of the page's long side: about 1.5 to 9 cm on A4."""
MAX_SEALS = 4
RING = (0.5, 0.98)
"""The band of the radius the ring's text sits in."""
ARC = (150.0, 390.0)
"""Degrees (clockwise from the right, as image coordinates run) the text spans on an upright page:
the top arc, from lower left over the top to lower right."""


@dataclass(frozen=True)
class Circle:
    x: float
    y: float
    r: float

    def box(self) -> np.ndarray:
        return np.array(
            [[self.x - self.r, self.y - self.r], [self.x + self.r, self.y - self.r],
             [self.x + self.r, self.y + self.r], [self.x - self.r, self.y + self.r]],
            dtype=np.float32,
        )  # fmt: skip


def seal_ink(image: np.ndarray) -> np.ndarray:
    """Red ink as dark on white, anything else white: black print under or beside a stamp is gone."""
    b, g, r = (image[..., i].astype(np.int16) for i in range(3))
    redness = np.clip(r - np.maximum(g, b), 0, 255)
    return np.clip(255 - redness * 3, 0, 255).astype(np.uint8)


def find_circles(ink: np.ndarray) -> list[Circle]:
    """Circles of red ink, strongest first (a stamp's ring is the page's clearest red circle)."""
    h, w = ink.shape[:2]
    if int((ink < 128).sum()) < 200:
        return []
    scale = HOUGH_SIDE / max(h, w)
    small = cv2.resize(255 - ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 1.5)
    found = cv2.HoughCircles(
        small, cv2.HOUGH_GRADIENT, dp=1, minDist=40, param1=80, param2=25,
        minRadius=int(MIN_RADIUS * HOUGH_SIDE), maxRadius=int(MAX_RADIUS * HOUGH_SIDE),
    )  # fmt: skip
    if found is None:
        return []
    return [Circle(float(x) / scale, float(y) / scale, float(r) / scale) for x, y, r in found[0][:MAX_SEALS]]


def unroll(ink: np.ndarray, circle: Circle, turned: int = 0) -> np.ndarray:
    """The ring's text as one straight BGR strip. `turned`: clockwise degrees that make the page
    upright, so the arc is looked for where the page's top is."""
    r = circle.r
    around = max(64, int(2 * math.pi * 0.75 * r))  # pixels per turn: the text's own spacing mid-ring
    polar = cv2.warpPolar(ink, (max(8, int(r)), around), (circle.x, circle.y), r, cv2.WARP_POLAR_LINEAR)
    twice = np.vstack([polar, polar])
    a0 = (ARC[0] - turned) % 360
    a1 = a0 + (ARC[1] - ARC[0])
    band = twice[int(a0 / 360 * around) : int(a1 / 360 * around), int(RING[0] * r) : int(RING[1] * r)]
    strip = cv2.flip(np.ascontiguousarray(band.T), 0)  # angle left to right, the rim on top
    return cv2.cvtColor(strip, cv2.COLOR_GRAY2BGR)


def read_seals(
    engine: OcrEngine, ink: np.ndarray, circles: list[Circle], turned: int = 0, min_score: float = 0.5
) -> list[tuple[str, float, Circle]]:
    """Each circle's ring text, its confidence and the circle; nothing for a ring read as nothing."""
    if not circles:
        return []
    readings = engine.recognize([unroll(ink, c, turned) for c in circles])
    return [
        (rd.text.strip(), round(rd.score, 4), c)
        for rd, c in zip(readings, circles, strict=True)
        if rd.text.strip() and rd.score >= min_score
    ]

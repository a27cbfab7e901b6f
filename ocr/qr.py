"""QR codes on a page, decoded with OpenCV: the payload as text and where the code sits.

Decoding is exact or nothing (a QR code carries its own error correction), so a decoded payload is
kept as a `TextLine` with `source="qr"` and score 1.0 on `Page.codes`, never among the read lines.
What the payload means is not this module's business: it knows nothing of invoices.

Phone photos and low-resolution scans print a code with two or three pixels per module, which the
detector misses on the whole page. So square, dense, dark regions are cut out as candidates and
decoded again upscaled and binarised, by both of OpenCV's detectors, before giving up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import cv2
import numpy as np

from ocr.elements import TextLine

log = logging.getLogger(__name__)

QR_VERSION = "3"
"""Part of the reader's version (ocr.reader.READ_VERSION says what a page reads as)."""
MAX_SIDE = 2400
"""The whole-page pass runs on at most this many pixels on the long side."""
MAX_CANDIDATES = 4
"""Square dark regions tried one by one when the whole-page pass found nothing."""
CROP_SIDES = (360, 640)
"""A candidate region is scaled to about these many pixels before decoding again."""


def decode_qr(image: np.ndarray) -> list[TextLine]:
    """Every QR code decoded on a BGR or grey page image, with its box in the image's pixels."""
    if image is None or image.size == 0:
        return []
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    found = _whole_page(gray)
    if not found:
        for x0, y0, x1, y1 in _candidates(gray):
            hit = _decode_crop(gray, x0, y0, x1, y1)
            if hit is not None and all(hit[0] != text for text, _ in found):
                found.append(hit)
    return [
        TextLine(text=text, box=tuple((float(x), float(y)) for x, y in pts), score=1.0, source="qr")
        for text, pts in found
    ]


def _whole_page(gray: np.ndarray) -> list[tuple[str, np.ndarray]]:
    scale = min(1.0, MAX_SIDE / max(gray.shape[:2]))
    small = gray if scale >= 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    out: list[tuple[str, np.ndarray]] = []
    for text, pts in _decode_all(small, both=False):
        out.append((text, pts / scale))
    return out


def _decode_all(gray: np.ndarray, *, both: bool = True) -> Iterable[tuple[str, np.ndarray]]:
    """(payload, 4 points) for every code decoded in `gray`: by the Aruco-based detector (fast on
    a whole page), then, when `both`, by the classic one (slow on a page, fine on a small crop)."""
    seen: set[str] = set()
    detectors = (cv2.QRCodeDetectorAruco(), cv2.QRCodeDetector()) if both else (cv2.QRCodeDetectorAruco(),)
    for detector in detectors:
        try:
            ok, texts, points, _ = detector.detectAndDecodeMulti(gray)
        except cv2.error as e:  # a degenerate image: nothing to decode, not a failure of the page
            log.debug("QR detector failed: %s", e)
            continue
        if not ok or points is None:
            continue
        for text, pts in zip(texts, points, strict=False):
            if text and text not in seen:
                seen.add(text)
                yield text, np.asarray(pts, dtype=np.float64).reshape(4, 2)
        if seen:
            return


def _candidates(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Square regions dense with dark and light modules, the most code-like first."""
    h, w = gray.shape[:2]
    # dark against its surroundings (a photo's desk or shadow is dark too), every contour (a code
    # on a sheet lying on a dark desk sits inside the desk's outline)
    dark = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 51, 15)
    k = max(3, round(min(h, w) / 300))
    blob = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    contours, _ = cv2.findContours(blob, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    scored: list[tuple[float, tuple[int, int, int, int]]] = []
    for c in contours:
        x, y, cw, ch = cv2.boundingRect(c)
        side = max(cw, ch)
        if side < 30 or side > 0.5 * min(h, w) or not 0.75 <= cw / max(ch, 1) <= 1.33:
            continue
        cell = dark[y : y + ch, x : x + cw]
        fill = float(np.count_nonzero(cell)) / cell.size
        if not 0.25 <= fill <= 0.75:
            continue
        # modules make many dark/light changes along rows and columns; text makes fewer, lines none
        ink = cell > 0
        flips = np.count_nonzero(np.diff(ink, axis=1)) + np.count_nonzero(np.diff(ink, axis=0))
        changes = flips / (2.0 * ink.size)
        if changes < 0.04:
            continue
        # a code is larger than a character, which is as dense: size counts
        scored.append((changes * min(fill, 1 - fill) * side, (x, y, x + cw, y + ch)))
    scored.sort(key=lambda t: -t[0])
    return [box for _, box in scored[:MAX_CANDIDATES]]


def _decode_crop(gray: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> tuple[str, np.ndarray] | None:
    """One candidate region with a quiet zone around it, upscaled, then as it is, sharpened and
    binarised by local contrast (a blurred module edge is grey, which one global threshold splits badly)."""
    h, w = gray.shape[:2]
    pad = max(8, (x1 - x0) // 5)
    ax0, ay0, ax1, ay1 = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
    crop = gray[ay0:ay1, ax0:ax1]
    crop = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    for side in CROP_SIDES:
        scale = max(1.0, side / max(crop.shape[:2]))
        big = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        sharp = cv2.addWeighted(big, 2.0, cv2.GaussianBlur(big, (0, 0), 3), -1.0, 0)
        local = cv2.adaptiveThreshold(big, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 5)
        for variant in (big, sharp, local):
            for text, pts in _decode_all(variant):
                return text, pts / scale - pad + np.array([ax0, ay0])
    return None

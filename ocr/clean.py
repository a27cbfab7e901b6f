"""Page clean-up with OpenCV, before and around the OCR models.

Claims arrive as phone photos: turned, tilted, photographed at an angle, dim, stamped with red seals
(印章) over the text. PP-OCR reads flat, upright, evenly lit pages best, so every step here turns a
photo back into something like a scan. Each step is cautious: it acts only when it measures a
problem, because the same code also sees clean scans and e-invoice renders, which it must not harm.

Orientation uses the engine (text-line shapes from a fast detection pass, then recognition scores of
a few lines read both ways up); the rest is plain image processing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from ocr.engine import OcrEngine

log = logging.getLogger(__name__)

CLEAN_VERSION = "3"
"""Bump when any step here changes what the engine sees; it is part of the OCR cache key."""


# --------------------------------------------------------------------------------------------------
# geometry helpers


def resize_to(image: np.ndarray, scale: float) -> np.ndarray:
    """Resize by a factor; INTER_AREA down (no aliasing of thin strokes), INTER_CUBIC up."""
    if abs(scale - 1.0) < 1e-3:
        return image
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=interp)


def box_sides(box: np.ndarray) -> tuple[float, float]:
    """(width, height) of a 4-point box ordered clockwise from top-left."""
    w = (np.linalg.norm(box[0] - box[1]) + np.linalg.norm(box[3] - box[2])) / 2
    h = (np.linalg.norm(box[0] - box[3]) + np.linalg.norm(box[1] - box[2])) / 2
    return float(w), float(h)


def order_points(pts: np.ndarray) -> np.ndarray:
    """Four points ordered clockwise from top-left."""
    pts = np.asarray(pts, dtype=np.float32).reshape(4, 2)
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array([pts[s.argmin()], pts[d.argmin()], pts[s.argmax()], pts[d.argmax()]], dtype=np.float32)


def crop_box(image: np.ndarray, box: np.ndarray, pad: float = 0.0) -> np.ndarray:
    """Warp a (possibly rotated) quadrilateral to an upright crop, as PP-OCR's own crop does.

    `pad` widens the box by that share of its height on every side. Tall crops (vertical text) are
    turned 90 degrees so the recogniser always sees a horizontal line.
    """
    box = np.asarray(box, dtype=np.float32)
    w, h = box_sides(box)
    if pad:
        center = box.mean(axis=0)
        ux = (box[1] - box[0]) / max(np.linalg.norm(box[1] - box[0]), 1e-6)
        uy = (box[3] - box[0]) / max(np.linalg.norm(box[3] - box[0]), 1e-6)
        p = pad * min(w, h)
        signs = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float32)
        box = np.array(
            [center + sx * (w / 2 + p) * ux + sy * (h / 2 + p) * uy for sx, sy in signs], dtype=np.float32
        )
        w, h = w + 2 * p, h + 2 * p
    cw, ch = max(1, round(w)), max(1, round(h))
    dst = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(box, dst)
    crop = cv2.warpPerspective(image, m, (cw, ch), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    if ch >= 1.5 * cw:
        crop = np.rot90(crop).copy()
    return crop


def rotate_quarter(image: np.ndarray, degrees: int) -> np.ndarray:
    """Turn clockwise by 0/90/180/270 degrees, losslessly."""
    code = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return image if degrees % 360 == 0 else cv2.rotate(image, code[degrees % 360])


def rotate_quarter_points(pts: np.ndarray, degrees: int, width: int, height: int) -> np.ndarray:
    """Where points of a width x height image land after `rotate_quarter(image, degrees)`."""
    pts = np.asarray(pts, dtype=np.float32)
    x, y = pts[..., 0], pts[..., 1]
    d = degrees % 360
    if d == 90:
        out = np.stack([height - 1 - y, x], axis=-1)
    elif d == 180:
        out = np.stack([width - 1 - x, height - 1 - y], axis=-1)
    elif d == 270:
        out = np.stack([y, width - 1 - x], axis=-1)
    else:
        out = pts.copy()
    return out.astype(np.float32)


# --------------------------------------------------------------------------------------------------
# perspective


def find_page_quad(image: np.ndarray, min_area: float = 0.3) -> np.ndarray | None:
    """Corners of the photographed sheet, if a clear four-sided outline covers enough of the frame."""
    h, w = image.shape[:2]
    scale = 640 / max(h, w)
    small = resize_to(image, scale) if scale < 1 else image
    scale = min(scale, 1.0)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    gray = cv2.GaussianBlur(gray, (5, 5), 0)
    edges = cv2.Canny(gray, 40, 120)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    area_img = small.shape[0] * small.shape[1]
    best, best_area = None, 0.0
    for c in sorted(contours, key=cv2.contourArea, reverse=True)[:8]:
        hull = cv2.convexHull(c)
        peri = cv2.arcLength(hull, True)
        approx = cv2.approxPolyDP(hull, 0.02 * peri, True)
        area = cv2.contourArea(approx)
        if len(approx) == 4 and area > min_area * area_img and area > best_area:
            best, best_area = approx, area
    if best is None:
        return None
    return order_points(best.reshape(4, 2) / scale)


def quad_needs_warp(quad: np.ndarray, min_skew_deg: float = 2.5) -> bool:
    """True when opposite sides disagree enough that the sheet was shot at an angle."""
    q = order_points(quad)

    def angle(a: np.ndarray, b: np.ndarray) -> float:
        return math.degrees(math.atan2(float(b[1] - a[1]), float(b[0] - a[0])))

    top, bottom = angle(q[0], q[1]), angle(q[3], q[2])
    left, right = angle(q[0], q[3]), angle(q[1], q[2])
    w_top, w_bot = np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3])
    h_l, h_r = np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1])
    ratio = max(w_top / w_bot, w_bot / w_top, h_l / h_r, h_r / h_l)
    return abs(top - bottom) > min_skew_deg or abs(left - right) > min_skew_deg or ratio > 1.04


def warp_quad(image: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Warp the quadrilateral to a flat rectangle; returns the image and the homography used."""
    q = order_points(quad)
    w = int(max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3])))
    h = int(max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1])))
    dst = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(q, dst)
    return cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), m


def transform_points(pts: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply a 3x3 homography (or 2x3 affine) to an array of (..., 2) points."""
    pts = np.asarray(pts, dtype=np.float32)
    flat = pts.reshape(-1, 1, 2)
    out = cv2.perspectiveTransform(flat, m) if m.shape == (3, 3) else cv2.transform(flat, m)
    return out.reshape(pts.shape)


# --------------------------------------------------------------------------------------------------
# orientation and skew from a fast detection pass


@dataclass(frozen=True)
class Orientation:
    rotation: int
    """Clockwise degrees to turn the image so text reads upright."""
    upright_score: float
    flipped_score: float
    vertical_share: float


def vertical_share(boxes: Sequence[np.ndarray]) -> float:
    """Share of elongated text-line length that runs vertically: near 1 on a page turned 90 degrees."""
    horiz = vert = 0.0
    for b in boxes:
        w, h = box_sides(b)
        if max(w, h) < 2.5 * max(min(w, h), 1.0):
            continue
        if w > h:
            horiz += w
        else:
            vert += h
    total = horiz + vert
    return vert / total if total else 0.0


def _probe_crops(image: np.ndarray, boxes: Sequence[np.ndarray], n: int = 6) -> list[np.ndarray]:
    """Crops of the n longest horizontal lines, each cut to ~10 characters so recognition is cheap."""
    wide = []
    for b in boxes:
        w, h = box_sides(b)
        if w >= 3 * h and h >= 4:
            wide.append((w, b))
    wide.sort(key=lambda t: -t[0])
    crops = []
    for _, b in wide[:n]:
        c = crop_box(image, b)
        ch, cw = c.shape[:2]
        crops.append(c[:, : min(cw, 10 * ch)])
    return crops


def detect_orientation(
    image: np.ndarray, boxes: Sequence[np.ndarray], engine: OcrEngine, margin: float = 0.12
) -> Orientation:
    """0/90/180/270 from line shapes, then 0 vs 180 settled by reading a few lines both ways up.

    PaddleOCR's 0/180 line classifier is known to flip upright lines (short lines, digits, seals),
    so instead we compare recognition confidence of the same crops as they are and turned 180
    degrees. A page is flipped only when the turned reading wins clearly, on most lines: an upright
    page must never be turned.
    """
    h, w = image.shape[:2]
    share = vertical_share(boxes)
    coarse = 90 if share > 0.6 else 0
    if coarse:
        image = rotate_quarter(image, 90)
        boxes = [order_points(rotate_quarter_points(b, 90, w, h)) for b in boxes]
    crops = _probe_crops(image, boxes)
    if not crops:
        return Orientation(coarse, 0.0, 0.0, share)
    up = engine.recognize(crops)
    up_scores = np.array([r.score * min(len(r.text), 8) / 8 for r in up])
    if coarse == 0 and up_scores.mean() >= 0.85:
        return Orientation(0, float(up_scores.mean()), 0.0, share)
    down = engine.recognize([np.ascontiguousarray(c[::-1, ::-1]) for c in crops])
    down_scores = np.array([r.score * min(len(r.text), 8) / 8 for r in down])
    wins = float((down_scores > up_scores).mean())
    flip = down_scores.mean() > up_scores.mean() + margin and wins >= 0.6
    rotation = (coarse + (180 if flip else 0)) % 360
    log.debug(
        "orientation %s: up %.2f down %.2f wins %.2f", rotation, up_scores.mean(), down_scores.mean(), wins
    )
    return Orientation(rotation, float(up_scores.mean()), float(down_scores.mean()), share)


def skew_angle(boxes: Sequence[np.ndarray], max_deg: float = 15.0) -> float:
    """Median slope in degrees of the long horizontal lines (positive: text runs downhill)."""
    angles, weights = [], []
    for b in boxes:
        w, h = box_sides(b)
        if w < 4 * h:
            continue
        a = math.degrees(math.atan2(float(b[1][1] - b[0][1]), float(b[1][0] - b[0][0])))
        if abs(a) <= max_deg:
            angles.append(a)
            weights.append(w)
    if len(angles) < 3:
        return 0.0
    order = np.argsort(angles)
    cum = np.cumsum(np.array(weights)[order])
    return float(np.array(angles)[order][np.searchsorted(cum, cum[-1] / 2)])


def deskew(image: np.ndarray, angle: float, min_deg: float = 0.4) -> tuple[np.ndarray, np.ndarray | None]:
    """Rotate by -angle around the centre, growing the canvas so no corner is cut."""
    if abs(angle) < min_deg:
        return image, None
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out, m


def text_height(boxes: Sequence[np.ndarray]) -> float:
    """Median height of horizontal text lines, in the boxes' pixels (0 when none)."""
    hs = [box_sides(b)[1] for b in boxes if box_sides(b)[0] >= 1.5 * box_sides(b)[1]]
    return float(np.median(hs)) if hs else 0.0


def detection_scale(
    image_shape: tuple[int, ...],
    line_height: float,
    target: float = 32.0,
    min_side: int = 960,
    max_side: int = 2400,
) -> float:
    """The one resize factor for detection: lines about `target` px high, within a pixel budget.

    The raw model squeezes every image to 2000 px; on a 1600 px phone photo that is fine but on a
    large photo of a small receipt it shrinks 8-point print below what the detector finds. Sizing by
    measured line height keeps small text readable and big scans cheap.
    """
    long_side = max(image_shape[:2])
    scale = target / line_height if line_height > 0 else 2000 / long_side
    scale = min(scale, max_side / long_side, 2.0)
    scale = max(scale, min(min_side / long_side, 1.0))
    return scale


# --------------------------------------------------------------------------------------------------
# seals, light and contrast


def seal_mask(image: np.ndarray, min_size: float = 0.04, max_size: float = 0.3) -> np.ndarray:
    """Mask of red-seal (印章) pixels: strongly red, inside a large red blob, not red print.

    Only pixels inside red connected regions between `min_size` and `max_size` of the page's long
    side wide count, so red form print or a red amount is left alone, and so is a brown wooden desk
    around a photographed sheet, while stamps (round or oval, ~4 cm) are found.
    """
    h, w = image.shape[:2]
    b, g, r = (image[..., i].astype(np.int16) for i in range(3))
    redness = r - np.maximum(g, b)
    red = (redness > 25) & (r > 90)
    mask = red.astype(np.uint8)
    if mask.sum() < 50:
        return np.zeros((h, w), dtype=bool)
    scale = 512 / max(h, w)
    small = cv2.resize(mask, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = cv2.morphologyEx((small > 0).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(small)
    region = np.zeros_like(small)
    lo, hi = min_size * 512, max_size * 512
    for i in range(1, n):
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        if lo <= bw <= hi and lo <= bh <= hi and 0.4 <= bw / bh <= 2.5:
            # the whole oval: the seal's inner text and star are separate blobs inside its ring
            cv2.ellipse(region, (x + bw // 2, y + bh // 2), (bw // 2 + 3, bh // 2 + 3), 0, 0, 360, 1, -1)
    if not region.any():
        return np.zeros((h, w), dtype=bool)
    region = cv2.resize(region, (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
    # inside a seal, pale and blurred ink counts too (a light 样本 stamp, a stamp's soft edge): text
    # under it is grey, black or blue, never redder than it is green or blue
    faint = region & (redness > 15) & (r > 90)
    # and the stroke's fringe: JPEG and blur mix ink with paper into a pink halo that, left in
    # place, draws a grey ghost of the stamp across the text it crosses (a 样本 stamp over an ID
    # card's address); a fringe pixel is next to seal ink and still redder than it is anything else
    near = cv2.dilate(faint.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return faint | (near & (redness > 6) & (r > 90))


def suppress_seals(image: np.ndarray) -> tuple[np.ndarray, int]:
    """Fade red-seal ink to paper so the black or blue text under a stamp is what the model sees.

    A seal pixel is replaced by its red channel as grey: red ink is bright in red, so it turns
    pale, while dark text under the stamp is dark in every channel and stays dark. Pale is then made
    paper: a grey ghost of the stamp's strokes across a line costs the recogniser more than the
    red stamp did.
    """
    mask = seal_mask(image)
    n = int(mask.sum())
    if not n:
        return image, 0
    out = image.copy()
    red = image[..., 2][mask]
    paper = float(np.percentile(image.max(axis=2), 90))
    red = np.where(red >= 0.8 * paper, paper, red).astype(np.uint8)
    out[mask] = np.repeat(red[:, None], 3, axis=1)
    return out, n


def normalise_light(
    image: np.ndarray, min_spread: float = 0.18, dim: float = 120.0
) -> tuple[np.ndarray, bool]:
    """Flatten uneven lighting and lift dim photos; leaves evenly lit pages untouched.

    The paper's brightness is estimated with a large morphological closing (text removed), and every
    pixel is divided by it: shadows and vignetting disappear and paper becomes white.
    """
    h, w = image.shape[:2]
    scale = 256 / max(h, w)
    gray = cv2.cvtColor(resize_to(image, scale), cv2.COLOR_BGR2GRAY)
    bg = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    bg = cv2.GaussianBlur(bg, (0, 0), 6).astype(np.float32)
    # judge the paper, not the desk around it: the brighter half of the background estimate
    mid, top = np.percentile(bg, [50, 98])
    paper = bg[bg >= mid]
    spread = (top - float(np.percentile(paper, 5))) / max(top, 1.0)
    if spread < min_spread and top >= dim:
        return image, False
    bg_full = cv2.resize(np.maximum(bg, 8.0).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(image, cv2.merge([bg_full, bg_full, bg_full]), scale=235.0), True


def enhance_crop(crop: np.ndarray, kind: str) -> np.ndarray:
    """Variants of a line crop for a second recognition pass on uncertain lines.

    Dot-matrix print (针式打印) leaves gaps between dots that the model reads as different strokes:
    a slight blur or a closing of dark strokes joins the dots back into lines.
    """
    if kind == "blur":
        up = resize_to(crop, 2.0)
        return cv2.GaussianBlur(up, (0, 0), 1.6)
    if kind == "close":
        k = max(2, round(crop.shape[0] / 24))
        return cv2.erode(crop, np.ones((k, k), np.uint8))
    if kind.startswith("stretch_"):  # small print: wider digits, more of the recogniser's time steps
        sx = float(kind.removeprefix("stretch_"))
        return cv2.resize(crop, (round(crop.shape[1] * sx), crop.shape[0]), interpolation=cv2.INTER_CUBIC)
    if kind == "contrast":
        lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB)
        clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(1, 8))
        lab[..., 0] = clahe.apply(lab[..., 0])
        return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
    raise ValueError(f"unknown crop enhancement {kind!r}")

"""Phone-photo degradations, with the same geometry applied to every ground-truth box.

Most claim photos are mildly off (a slight tilt, some blur, JPEG); some are hard (perspective,
turned sideways or upside down, uneven light, low resolution). Geometric steps are one 3x3
homography plus an optional quarter turn and a final resize, so a box's four corners are moved by
exactly the transform that moved the pixels.
"""

from __future__ import annotations

import io
import logging
import math

import cv2
import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from ocr.elements import Box

log = logging.getLogger(__name__)

KINDS = (
    "rotation",
    "turn_90",
    "turn_180",
    "perspective",
    "blur",
    "uneven_light",
    "jpeg_noise",
    "low_resolution",
)
"""Every degradation the generator applies; a document's truth lists the ones it received."""

SEVERITIES = (("clean", 0.10), ("mild", 0.62), ("moderate", 0.18), ("hard", 0.10))


class Photo(BaseModel):
    """A degraded page: the final file's bytes (JPEG or WebP), its size, and how it was made."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    data: bytes
    width: int
    height: int
    severity: str
    kinds: list[str] = Field(default_factory=list)
    rotation: int = 0
    matrix: list[list[float]] = Field(description="3x3 map from render pixels to final pixels (before turns)")


def pick_severity(rng: np.random.Generator) -> str:
    names = [s for s, _ in SEVERITIES]
    return str(rng.choice(names, p=[p for _, p in SEVERITIES]))


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A desk or bedsheet behind the paper: a flat tone with faint texture."""
    tone = rng.choice([[95, 110, 130], [185, 185, 180], [60, 62, 70], [140, 160, 175]])
    bg = np.empty((h, w, 3), np.float32)
    bg[:] = tone
    texture = rng.normal(0, 5, (h // 16 + 1, w // 16 + 1)).astype(np.float32)
    bg += cv2.resize(texture, (w, h), interpolation=cv2.INTER_CUBIC)[:, :, None]
    return np.clip(bg, 0, 255).astype(np.uint8)


def degrade(
    image: Image.Image,
    rng: np.random.Generator,
    severity: str,
    long_side: int = 1400,
    fmt: str = "JPEG",
) -> tuple[Photo, object]:
    """Photograph `image` at `severity`; returns the photo and a function mapping render boxes to it."""
    src = np.asarray(image.convert("RGB"))[:, :, ::-1]  # BGR for OpenCV
    kinds: list[str] = []
    warped, mat, out_w, out_h = _framed(src, rng, severity, kinds)

    # resolution: what the phone (or the upload) kept
    target = long_side
    if severity == "hard" and rng.random() < 0.6:
        target = int(long_side * rng.uniform(0.7, 0.86))
        kinds.append("low_resolution")
    scale = target / max(out_w, out_h)
    fw, fh = round(out_w * scale), round(out_h * scale)
    warped = cv2.resize(warped, (fw, fh), interpolation=cv2.INTER_AREA)
    mat = np.diag([fw / out_w, fh / out_h, 1.0]) @ mat

    img = warped.astype(np.float32)
    light_p = {"clean": 0.0, "mild": 0.25, "moderate": 0.8, "hard": 0.8}[severity]
    if light_p and rng.random() < light_p:
        # uneven light: a soft gradient plus a darker corner where the phone's shadow falls
        yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
        ang = rng.uniform(0, 2 * math.pi)
        grad = (xx * math.cos(ang) + yy * math.sin(ang)) / max(fw, fh)
        strength = {"mild": 0.12, "moderate": 0.22, "hard": 0.35}[severity]
        cx, cy = rng.uniform(0, fw), rng.uniform(0, fh)
        shadow = np.exp(-(((xx - cx) / (0.5 * fw)) ** 2 + ((yy - cy) / (0.5 * fh)) ** 2))
        light = 1.0 - strength * (grad - grad.min()) / (np.ptp(grad) + 1e-6) - 0.5 * strength * shadow
        img *= light[:, :, None]
        kinds.append("uneven_light")
    if severity != "clean":  # phone optics are never perfectly sharp
        sigma = {"mild": 0.6, "moderate": 1.0, "hard": 1.6}[severity] * rng.uniform(0.7, 1.2)
        img = cv2.GaussianBlur(img, (0, 0), sigma)
        kinds.append("blur")
    quality = 75
    if severity != "clean":
        # sensor noise in luma only: phones' denoisers remove the chroma noise (and with it the
        # colour speckle that would triple a JPEG's size without making it any harder to read)
        sigma_n = {"mild": 1.0, "moderate": 2.5, "hard": 5.0}[severity]
        img += rng.normal(0, sigma_n, (fh, fw, 1)).astype(np.float32)
        quality = int(
            {"mild": rng.integers(60, 76), "moderate": rng.integers(50, 66), "hard": rng.integers(35, 51)}[
                severity
            ]
        )
        kinds.append("jpeg_noise")
    final = np.clip(img, 0, 255).astype(np.uint8)

    final, turn, rotation = _turned(final, rng, severity, kinds)
    full = turn @ mat

    buf = io.BytesIO()
    if fmt == "WEBP":
        Image.fromarray(final[:, :, ::-1]).save(buf, "WEBP", quality=quality, method=4)
    else:
        Image.fromarray(final[:, :, ::-1]).save(
            buf, "JPEG", quality=quality, optimize=True, progressive=True, subsampling=2
        )
    height, width = final.shape[:2]

    def move(box: Box | None) -> Box | None:
        if box is None:
            return None
        pts = np.hstack([np.asarray(box, float), np.ones((4, 1))]) @ full.T
        pts = pts[:, :2] / pts[:, 2:3]
        return tuple((round(float(x), 1), round(float(y), 1)) for x, y in pts)  # type: ignore[return-value]

    photo = Photo(
        data=buf.getvalue(),
        width=width,
        height=height,
        severity=severity,
        kinds=kinds,
        rotation=rotation,
        matrix=full.round(6).tolist(),
    )
    return photo, move


def _framed(
    src: np.ndarray, rng: np.random.Generator, severity: str, kinds: list[str]
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The page as the phone framed it: on a background, in perspective, a little rotated. Returns
    the picture, the render-to-picture matrix and the picture's size."""
    h, w = src.shape[:2]
    mat = np.eye(3)
    out_w, out_h = w, h
    if severity != "clean":
        margin = {"mild": 0.04, "moderate": 0.07, "hard": 0.10}[severity]
        mx, my = int(w * margin) + 10, int(h * margin) + 10
        out_w, out_h = w + 2 * mx, h + 2 * my
        corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        moved = corners + np.float32([mx, my])
        jitter = {"mild": 0.0, "moderate": 0.03, "hard": 0.06}[severity]
        if jitter and rng.random() < 0.85:
            moved += rng.uniform(-jitter, jitter, (4, 2)).astype(np.float32) * np.float32([w, h])
            kinds.append("perspective")
        mat = cv2.getPerspectiveTransform(corners, moved).astype(np.float64)
        max_angle = {"mild": 1.5, "moderate": 3.0, "hard": 6.0}[severity]
        angle = float(rng.uniform(0.3, max_angle) * rng.choice([-1, 1]))
        rot = np.vstack([cv2.getRotationMatrix2D((out_w / 2, out_h / 2), angle, 1.0), [0, 0, 1]])
        mat = rot @ mat
        kinds.append("rotation")
        bg = _background(rng, out_w, out_h)
        warped = cv2.warpPerspective(
            src, mat, (out_w, out_h), dst=bg, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
        )
    else:
        warped = src.copy()

    return warped, mat, out_w, out_h


def _turned(
    final: np.ndarray, rng: np.random.Generator, severity: str, kinds: list[str]
) -> tuple[np.ndarray, np.ndarray, int]:
    """The photo turned a quarter or half way, as some are sent; returns it, its matrix and the turn."""
    fh, fw = final.shape[:2]
    rotation = 0
    if severity != "clean":
        u = rng.random()
        turn_p = {"mild": 0.04, "moderate": 0.15, "hard": 0.3}[severity]
        if u < turn_p:
            rotation = int(rng.choice([90, 180, 270], p=[0.45, 0.3, 0.25]))
            kinds.append("turn_180" if rotation == 180 else "turn_90")
    turn = np.eye(3)
    if rotation == 90:  # clockwise: (x, y) -> (h - 1 - y, x)
        final = cv2.rotate(final, cv2.ROTATE_90_CLOCKWISE)
        turn = np.array([[0, -1, fh - 1], [1, 0, 0], [0, 0, 1]], float)
    elif rotation == 180:
        final = cv2.rotate(final, cv2.ROTATE_180)
        turn = np.array([[-1, 0, fw - 1], [0, -1, fh - 1], [0, 0, 1]], float)
    elif rotation == 270:
        final = cv2.rotate(final, cv2.ROTATE_90_COUNTERCLOCKWISE)
        turn = np.array([[0, 1, 0], [-1, 0, fw - 1], [0, 0, 1]], float)
    return final, turn, rotation

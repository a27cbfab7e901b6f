"""Flatbed scans: how A4 medical records often reach an insurer (scanned by the hospital's copy
room or the claimant's office printer), unlike bills, which are mostly photographed.

A scan is flat and evenly lit: a slight skew (the sheet laid by hand), a page a little greyer than
white with scanner noise and specks, toner a little faint or heavy, saved at about 144 dpi as a JPEG.
The same one homography moves every truth box, as `synth.degrade` does for photos.
"""

from __future__ import annotations

import io
import zlib

import cv2
import numpy as np
from PIL import Image

from ocr.elements import Box
from pipeline.records import DocType
from synth.degrade import Photo

SCAN_SHARE = {DocType.DISCHARGE_SUMMARY: 0.6, DocType.DIAGNOSIS_CERTIFICATE: 0.5}
"""Share of these papers that arrive as flatbed scans rather than phone photos."""
SCAN_LONG_SIDE = 1684
"""A4 at 144 dpi: the long side of a typical scan."""


def scan_rng(file: str, salt: str) -> np.random.Generator:
    """The scan's own random stream, so choosing a scan leaves the photos' stream alone."""
    return np.random.default_rng([zlib.crc32(file.encode()), zlib.crc32(salt.encode())])


def is_scanned(doc_type: DocType, rng: np.random.Generator) -> bool:
    return bool(rng.random() < SCAN_SHARE.get(doc_type, 0.0))


def scan(
    image: Image.Image, rng: np.random.Generator, long_side: int = SCAN_LONG_SIDE
) -> tuple[Photo, object]:
    """Scan `image`; returns the scan and a function mapping render boxes onto it."""
    src = np.asarray(image.convert("RGB"))[:, :, ::-1]
    h, w = src.shape[:2]
    angle = float(rng.uniform(-1.2, 1.2))
    shift = rng.uniform(-0.01, 0.01, 2) * np.array([w, h])
    rot = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0), [0, 0, 1]])
    rot[:2, 2] += shift
    paper = int(rng.integers(236, 252))
    warped = cv2.warpPerspective(src, rot, (w, h), flags=cv2.INTER_LINEAR, borderValue=(paper, paper, paper))
    scale = long_side / max(w, h)
    fw, fh = round(w * scale), round(h * scale)
    img = cv2.resize(warped, (fw, fh), interpolation=cv2.INTER_AREA).astype(np.float32)
    mat = np.diag([fw / w, fh / h, 1.0]) @ rot
    gray = img.mean(axis=2, keepdims=True)
    img = gray * rng.uniform(0.0, 0.25) + img * (1 - rng.uniform(0.0, 0.25))  # copiers wash colour out
    toner = rng.uniform(0.8, 1.15)  # <1 heavy toner, >1 faint
    img = 255 - (255 - img) / toner
    img = img * (paper / 255.0) + rng.normal(0, rng.uniform(1.0, 4.0), (fh, fw, 1)).astype(np.float32)
    specks = rng.random((fh, fw)) < rng.uniform(0.0, 0.0006)
    img[specks] = rng.uniform(20, 120)
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 0.8))
    final = np.clip(img, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(final[:, :, ::-1]).save(buf, "JPEG", quality=int(rng.integers(70, 90)), optimize=True)

    def move(box: Box | None) -> Box | None:
        if box is None:
            return None
        pts = np.hstack([np.asarray(box, float), np.ones((4, 1))]) @ mat.T
        pts = pts[:, :2] / pts[:, 2:3]
        return tuple((round(float(x), 1), round(float(y), 1)) for x, y in pts)  # type: ignore[return-value]

    photo = Photo(
        data=buf.getvalue(),
        width=fw,
        height=fh,
        severity="mild",
        kinds=["scan", "rotation"],
        rotation=0,
        matrix=mat.round(6).tolist(),
    )
    return photo, move

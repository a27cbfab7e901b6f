from __future__ import annotations

import cv2
import numpy as np
import pytest
from ocr_fixtures import render_page

from ocr import clean


def test_quarter_rotation_points_follow_image() -> None:
    img = np.zeros((30, 50, 3), np.uint8)
    img[5, 40] = 255
    for deg in (90, 180, 270):
        out = clean.rotate_quarter(img, deg)
        x, y = clean.rotate_quarter_points(np.array([[40.0, 5.0]]), deg, 50, 30)[0]
        assert out[int(y), int(x)].max() == 255


@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_orientation_of_turned_render(engine, page_image: np.ndarray, turn: int) -> None:
    """A page turned by `turn` degrees counter-clockwise needs `turn` degrees clockwise back."""
    turned = clean.rotate_quarter(page_image, (360 - turn) % 360)
    boxes = [d.box for d in engine.detect(turned)]
    o = clean.detect_orientation(turned, boxes, engine)
    assert o.rotation == turn


def test_upright_page_of_digits_is_never_flipped(engine) -> None:
    # digits and symbols read almost as well upside down: the page must still stay as it is
    img = render_page(["12345 67890 11.00", "2024-03-15 08:00", "00110 88.88 ¥100"])
    boxes = [d.box for d in engine.detect(img)]
    assert clean.detect_orientation(img, boxes, engine).rotation == 0


def test_skew_is_measured_and_removed(engine, page_image: np.ndarray) -> None:
    h, w = page_image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 4.0, 1.0)  # counter-clockwise 4 degrees
    tilted = cv2.warpAffine(page_image, m, (w, h), borderValue=(255, 255, 255))
    angle = clean.skew_angle([d.box for d in engine.detect(tilted)])
    assert -5.0 < angle < -3.0
    straight, _ = clean.deskew(tilted, angle)
    assert abs(clean.skew_angle([d.box for d in engine.detect(straight)])) < 1.0


def _seal(img: np.ndarray, center: tuple[int, int]) -> np.ndarray:
    out = img.copy()
    cv2.circle(out, center, 90, (40, 40, 220), 8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(out, "SEAL", (center[0] - 60, center[1] + 15), font, 1.5, (40, 40, 220), 5)
    return out


def test_seal_is_faded_but_text_under_it_kept(page_image: np.ndarray) -> None:
    stamped = _seal(page_image, (300, 150))
    # a thin red underline elsewhere is form print, not a seal
    cv2.line(stamped, (600, 380), (850, 380), (30, 30, 210), 3)
    out, n = clean.suppress_seals(stamped)
    assert n > 1000
    ring = (stamped[..., 2] > 150) & (stamped[..., 0] < 80)
    ring[:, 500:] = False
    assert out[ring].min() > 140 and out[ring].mean() > 200  # red ink now pale grey
    dark = page_image.max(axis=2) < 80
    assert out[dark].mean() < 90  # the black text under and around the seal is still black
    assert out[379:382, 600:850, 2].mean() > 150 and out[379:382, 600:850, 0].mean() < 100  # line still red


def test_a_blurred_seal_leaves_no_pink_ghost(page_image: np.ndarray) -> None:
    # a phone photo: the stamp's strokes blur into the paper, so their edges are only faintly red
    stamped = cv2.GaussianBlur(_seal(page_image, (300, 150)), (0, 0), 1.5)
    out, _ = clean.suppress_seals(stamped)
    b, g, r = (stamped[..., i].astype(int) for i in range(3))
    fringe = (r - np.maximum(g, b) > 6) & (r - np.maximum(g, b) <= 15)
    fringe[:, 500:] = False
    assert fringe.sum() > 200
    o = out.astype(int)
    left = o[..., 2] - np.maximum(o[..., 1], o[..., 0])
    assert (left[fringe] > 6).mean() < 0.05  # the halo is grey or paper now, not pink
    plain = cv2.GaussianBlur(page_image, (0, 0), 1.5)
    dark = plain.max(axis=2) < 100
    assert out[dark].mean() < plain[dark].mean() + 25  # and the text it crossed is still dark


def test_page_outline_found_and_warped() -> None:
    page = render_page()
    h, w = page.shape[:2]
    canvas = np.full((h + 400, w + 400, 3), (60, 70, 80), np.uint8)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    dst = np.array([[260, 180], [w + 150, 220], [w + 260, h + 300], [120, h + 230]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    photo = cv2.warpPerspective(page, m, canvas.shape[1::-1], dst=canvas, borderMode=cv2.BORDER_TRANSPARENT)
    quad = clean.find_page_quad(photo)
    assert quad is not None and np.abs(quad - dst).max() < 15
    assert clean.quad_needs_warp(quad)
    flat, _ = clean.warp_quad(photo, quad)
    assert abs(flat.shape[1] / flat.shape[0] - w / h) < 0.25
    # a flat scan's outline is a rectangle: nothing to correct
    scan = cv2.copyMakeBorder(page, 100, 100, 100, 100, cv2.BORDER_CONSTANT, value=(60, 70, 80))
    q2 = clean.find_page_quad(scan)
    assert q2 is not None and not clean.quad_needs_warp(q2)


def test_uneven_light_flattened_even_page_untouched(page_image: np.ndarray) -> None:
    same, changed = clean.normalise_light(page_image)
    assert not changed and same is page_image
    w = page_image.shape[1]
    ramp = np.linspace(0.35, 1.0, w, dtype=np.float32)[None, :, None]
    dim = (page_image.astype(np.float32) * ramp).astype(np.uint8)
    flat, changed = clean.normalise_light(dim)
    assert changed
    paper = page_image.min(axis=2) > 200
    left, right = flat[:, : w // 4][paper[:, : w // 4]], flat[:, -w // 4 :][paper[:, -w // 4 :]]
    assert abs(float(left.mean()) - float(right.mean())) < 20
    text = page_image.max(axis=2) < 80
    assert flat[text].mean() < flat[paper].mean() - 100  # contrast kept


def test_detection_scale_keeps_small_text() -> None:
    # 4000 px photo of a receipt with 12 px lines: enlarge, do not shrink to 2000 px
    assert clean.detection_scale((3000, 4000, 3), 12.0, 32.0, max_side=4800) > 1.0
    # a 4208 px scan with 90 px lines: shrink well below the raw model's 2000 px
    s = clean.detection_scale((3120, 4208, 3), 90.0, 32.0)
    assert 0.3 < s < 0.4

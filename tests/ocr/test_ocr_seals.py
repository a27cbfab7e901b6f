"""Round seals are read along their ring, whichever way up the page came, and kept apart."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from ocr.reader import pages_from_json, pages_to_json, read_image
from ocr.seals import find_circles, read_seals, seal_ink
from synth.render import Canvas

NAME = "江城市第一人民医院"


def _stamped(angle_seed: int = 3) -> np.ndarray:
    c = Canvas(1240, 900)
    c.text(80, 80, "门诊收费票据", size=40)
    c.text(80, 700, "收款单位（章）：", size=28)
    c.seal(420, 640, 120, NAME, "收费专用章", rng=random.Random(angle_seed))
    return cv2.cvtColor(np.asarray(c.image), cv2.COLOR_RGB2BGR)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_seal_is_found_and_its_ring_read(engine, seed: int) -> None:
    image = _stamped(seed)
    ink = seal_ink(image)
    circles = find_circles(ink)
    assert circles and abs(circles[0].x - 420) < 20 and abs(circles[0].y - 640) < 20
    texts = [t for t, _, _ in read_seals(engine, ink, circles)]
    assert NAME in texts


def test_a_seal_on_a_page_turned_a_quarter_is_read_where_the_page_top_is(engine) -> None:
    turned = cv2.rotate(_stamped(), cv2.ROTATE_90_COUNTERCLOCKWISE)  # 90° clockwise makes it upright
    ink = seal_ink(turned)
    texts = [t for t, _, _ in read_seals(engine, ink, find_circles(ink), turned=90)]
    assert NAME in texts


def test_a_page_without_red_has_no_seals(engine) -> None:
    image = np.full((800, 1000, 3), 255, np.uint8)
    cv2.circle(image, (500, 400), 150, (0, 0, 0), 6)  # a black circle is no stamp
    assert find_circles(seal_ink(image)) == []


def test_the_reader_keeps_seals_apart_and_through_json(engine) -> None:
    page, _, _ = read_image(_stamped(), engine)
    assert any(s.text == NAME and s.source == "seal" for s in page.seals)
    assert all(NAME not in ln.text for ln in page.lines)  # the faded stamp is not a line
    again = pages_from_json(pages_to_json([page]))[0]
    assert [(s.text, s.source) for s in again.seals] == [(s.text, "seal") for s in page.seals]

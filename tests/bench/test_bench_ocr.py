"""bench.ocr's scoring and image variants: a field read exactly counts, a miss is put down to its
cause, and the variants are the same page turned or photographed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from bench.ocr import classify_miss, make_variant, norm, phone_photo, score, turned


def test_fields_are_scored_against_the_lines_read() -> None:
    exact, errors, chars, misses = score(
        ["合计 388.50", "张三", "11060125"], ["合计３８８.５０", "张 三", "11O60125"]
    )
    assert (exact, errors, chars) == (2, 1, 18)  # widths and spaces are no errors; O for 0 is one
    assert misses == [("11060125", "11O60125")]
    assert norm("ＡＢ　１ 2") == "AB12"


def test_a_miss_is_a_detection_failure_or_misread_characters() -> None:
    assert classify_miss("11060125", "") == Counter({"not_detected_or_split": 1})
    assert classify_miss("11060125", "11O60125") == Counter({"digit_substituted": 1})
    assert classify_miss("门诊收费票据", "门诊收费票") == Counter({"chars_dropped": 1})
    assert classify_miss("李静芳", "李静方") == Counter({"cjk_substituted": 1})


def test_variants_turn_or_photograph_the_page(tmp_path: Path) -> None:
    import cv2

    page = np.full((300, 200, 3), 255, np.uint8)
    page[20:40, 20:120] = 0
    assert turned(page, 90).shape == (200, 300, 3) and (turned(turned(page, 180), 180) == page).all()
    photo = phone_photo(page, seed=1)
    assert max(photo.shape[:2]) == 1600 and photo.dtype == np.uint8
    assert (phone_photo(page, seed=1) == photo).all()  # a seed is one photo
    path = tmp_path / "page.png"
    cv2.imwrite(str(path), page)
    assert make_variant(str(path), "turned270", 0).shape == (200, 300, 3)
    assert make_variant(str(path), "real", 0).shape == page.shape

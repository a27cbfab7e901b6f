from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.ceiling import OnnxRecogniser, crop_variants
from ocr.engine import RAPID_MODELS, get_engine, rapidocr_models_dir
from ocr.layout import cjk_font_path


def _line(text: str, size: int = 32) -> np.ndarray:
    font = ImageFont.truetype(str(cjk_font_path()), size)
    im = Image.new("RGB", (int(size * 1.1 * len(text)) + 20, int(size * 1.6)), "white")
    ImageDraw.Draw(im).text((10, size // 4), text, font=font, fill=(20, 20, 20))
    return np.ascontiguousarray(np.asarray(im)[..., ::-1])


def test_another_recogniser_is_read_the_way_the_engine_reads() -> None:
    """The comparison is only fair if a model file given by path is fed and decoded as ours is."""
    crop = _line("医疗收费票据 2025年10月24日")
    shipped = OnnxRecogniser(rapidocr_models_dir() / RAPID_MODELS["rec"])
    ours = get_engine().recognize([crop])[0]
    theirs = shipped.recognize([crop])[0]
    assert theirs.text == ours.text
    assert "2025年10月24日" in theirs.text
    assert abs(theirs.score - ours.score) < 1e-3


def test_every_variant_is_a_crop_the_recogniser_can_take() -> None:
    crop = _line("门诊号")
    variants = crop_variants(crop)
    assert len(variants) == 7 and all(v.ndim == 3 and v.shape[2] == 3 for v in variants)
    assert max(v.shape[1] for v in variants) > crop.shape[1]  # the stretches and the upscale

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocr.engine import EngineUnavailable, OcrEngine, RapidOcrEngine, get_engine


def test_engine_is_built_once_and_reused(engine) -> None:
    assert get_engine() is engine
    assert isinstance(engine, OcrEngine)
    assert "PP-OCRv6" in engine.version


def test_the_box_threshold_reaches_the_detector_and_the_cache_key(engine) -> None:
    """Its default keeps a lone 男 beside 性别 that 0.5 drops at some scales (bench.extract, seed 8484)."""
    from ocr.engine import BOX_THRESH

    assert engine._det.postprocess_op.box_thresh == BOX_THRESH == 0.4
    stricter = get_engine(box_thresh=0.5)
    assert stricter._det.postprocess_op.box_thresh == 0.5 and stricter.version != engine.version


def test_missing_model_folder_fails_with_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="not found; reinstall the rapidocr wheel"):
        RapidOcrEngine(models_dir=tmp_path)


def test_paddle_extra_or_folders_missing_says_what_to_do(tmp_path: Path) -> None:
    try:
        import paddleocr  # noqa: F401
    except ImportError:
        with pytest.raises(EngineUnavailable, match=r"pip install \"claims-di\[paddle\]\""):
            get_engine("paddle", det_dir=tmp_path, rec_dir=tmp_path)
    else:
        with pytest.raises(EngineUnavailable, match=r"inference\.yml"):
            get_engine("paddle", det_dir=tmp_path, rec_dir=tmp_path)


def test_batched_recognition_keeps_order_and_alternatives(engine, page_image: np.ndarray) -> None:
    dets = engine.detect(page_image)
    assert len(dets) >= 5
    from ocr.clean import crop_box

    crops = [crop_box(page_image, d.box) for d in dets]
    batched = engine.recognize(crops)
    single = [engine.recognize([c])[0] for c in crops]
    assert [r.text for r in batched] == [r.text for r in single]
    for r in batched:
        assert len(r.alternatives) == len(r.text)
        assert all(r.alternatives[i][0][0] == ch for i, ch in enumerate(r.text))

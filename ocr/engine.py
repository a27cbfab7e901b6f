"""OCR engines: text detection and batched text recognition behind one small protocol.

The default engine runs PaddleOCR's PP-OCRv6 small models as ONNX through `rapidocr`, straight from
the files its wheel carries, so nothing is ever downloaded. The `[paddle]` extra runs the same
models through native PaddleOCR 3.x. Engines are expensive to build (model load, session warm-up),
so `get_engine()` builds each kind once per process and hands back the same object.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

log = logging.getLogger(__name__)

TOP_K = 5
"""Alternatives kept per recognised character, for the domain correction to choose among."""


class EngineUnavailable(RuntimeError):
    """An engine cannot be built on this machine; the message says what to install or set."""


@dataclass(frozen=True)
class Detection:
    """One detected text region: 4 corners clockwise from top-left, in the input image's pixels."""

    box: np.ndarray
    score: float


@dataclass
class Reading:
    """What the recogniser read in one crop.

    `alternatives[i]` lists the model's top candidates (char, prob) for `text[i]`, best first; it is
    empty when the engine cannot expose them (then no character is ever corrected).
    """

    text: str
    score: float
    alternatives: list[list[tuple[str, float]]] = field(default_factory=list)


@runtime_checkable
class OcrEngine(Protocol):
    """Detection and recognition, nothing else: clean-up and layout live outside the engine."""

    name: str
    version: str
    """Engine and model identity; part of every cache key."""

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Text regions in a BGR image, at the image's own scale (the caller picks the scale)."""
        ...

    def recognize(self, crops: Sequence[np.ndarray]) -> list[Reading]:
        """Read many horizontal line crops (BGR) in batches; one Reading per crop, same order."""
        ...


# --------------------------------------------------------------------------------------------------
# RapidOCR (default)


def rapidocr_models_dir() -> Path:
    """The ONNX models the rapidocr wheel ships (the bench's ceiling loads them into its own session)."""
    try:
        import rapidocr
    except ImportError as e:  # pragma: no cover - rapidocr is a core dependency
        raise EngineUnavailable(
            'rapidocr is not installed; install it with `pip install "rapidocr>=3.10,<4"`.'
        ) from e
    return Path(rapidocr.__file__).parent / "models"


RAPID_MODELS = {
    "det": "PP-OCRv6_det_small.onnx",
    "rec": "PP-OCRv6_rec_small.onnx",
    "cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}
BOX_THRESH = 0.4
"""Mean text probability a detected box needs to be kept. The models' default, 0.5, drops a short
word standing alone (a form's 男, 女 or 汉 beside its label) at some detection scales; boxes of
nothing are still dropped, by the recogniser's own score (`ReadOptions.min_score`)."""


class RapidOcrEngine:
    """PP-OCRv6 small det + rec as ONNX via rapidocr, using only the model files in its wheel.

    We call rapidocr's detector and recogniser objects directly instead of `RapidOCR.__call__`, so
    that the caller controls the detection scale (one resize, no hidden 2000 px cap), crops come
    from the full-resolution page, and recognition returns per-character alternatives.
    """

    name = "rapidocr"

    def __init__(
        self,
        models_dir: Path | None = None,
        *,
        rec_batch: int = 8,
        threads: int = -1,
        box_thresh: float = BOX_THRESH,
    ):
        from rapidocr import RapidOCR
        from rapidocr._version import __version__ as rapid_version

        models_dir = Path(models_dir) if models_dir else rapidocr_models_dir()
        paths = {k: models_dir / v for k, v in RAPID_MODELS.items()}
        missing = [str(p) for k, p in paths.items() if k != "cls" and not p.is_file()]
        if missing:
            raise EngineUnavailable(
                f"PP-OCR model file(s) {', '.join(missing)} not found; reinstall the rapidocr wheel "
                '(`pip install --force-reinstall "rapidocr>=3.10,<4"`) or pass models_dir= a folder '
                "holding them."
            )
        params: dict[str, Any] = {
            "Global.log_level": "warning",
            "Global.use_cls": False,
            "Global.model_root_dir": str(models_dir),
            "Det.model_path": str(paths["det"]),
            # we size the image ourselves; "max" with a large limit keeps the detector from resizing
            "Det.limit_type": "max",
            "Det.limit_side_len": 8192,
            "Det.box_thresh": box_thresh,
            "Rec.model_path": str(paths["rec"]),
            "Rec.rec_batch_num": rec_batch,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        }
        if paths["cls"].is_file():
            params["Cls.model_path"] = str(paths["cls"])
        self._rapid = RapidOCR(params=params)
        self._det = self._rapid._load_det_model()
        self._rec = self._rapid._load_rec_model()
        self._chars: list[str] = list(self._rec.postprocess_op.character)
        self._batch = rec_batch
        self._lock = threading.Lock()
        self.version = f"rapidocr-{rapid_version}/{RAPID_MODELS['det']}/{RAPID_MODELS['rec']}/box{box_thresh}"

    def detect(self, image: np.ndarray) -> list[Detection]:
        with self._lock:
            out = self._det(image)
        if out.boxes is None:
            return []
        return [
            Detection(np.asarray(b, dtype=np.float32), float(s))
            for b, s in zip(out.boxes, out.scores, strict=True)
        ]

    def recognize(self, crops: Sequence[np.ndarray]) -> list[Reading]:
        if not crops:
            return []
        _, height, base_w = self._rec.rec_image_shape
        ratios = np.array([c.shape[1] / max(c.shape[0], 1) for c in crops])
        order = np.argsort(ratios)
        result: list[Reading | None] = [None] * len(crops)
        for start in range(0, len(crops), self._batch):
            idx = order[start : start + self._batch]
            # pad to a width bucket of 64 px: fewer distinct shapes, same results
            max_ratio = max(base_w / height, *(ratios[i] for i in idx))
            width = int(math.ceil(height * max_ratio / 64) * 64)
            batch = np.zeros((len(idx), 3, height, width), dtype=np.float32)
            for j, i in enumerate(idx):
                batch[j] = rec_tensor(crops[i], height, width)
            with self._lock:
                preds = self._rec.session(batch)
            for j, i in enumerate(idx):
                result[i] = ctc_decode(preds[j], self._chars)
        return [r for r in result if r is not None]


def rec_tensor(crop: np.ndarray, height: int, width: int) -> np.ndarray:
    """A line crop as the recogniser's input: `height` high, right-padded to `width`, in [-1, 1]."""
    h, w = crop.shape[:2]
    new_w = min(width, max(1, math.ceil(height * w / max(h, 1))))
    resized = cv2.resize(crop, (new_w, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    out = np.zeros((3, height, width), dtype=np.float32)
    out[:, :, :new_w] = resized.transpose(2, 0, 1) / 127.5 - 1.0
    return out


def ctc_decode(pred: np.ndarray, chars: list[str]) -> Reading:
    """Greedy CTC decoding that also keeps the top-k alternatives at each emitted character."""
    idx = pred.argmax(axis=1)
    keep = np.ones(len(idx), dtype=bool)
    keep[1:] = idx[1:] != idx[:-1]
    keep &= idx != 0
    steps = np.flatnonzero(keep)
    if len(steps) == 0:
        return Reading("", 0.0, [])
    probs = pred[steps]
    part = np.argpartition(-probs, TOP_K, axis=1)[:, :TOP_K]
    order = np.argsort(-np.take_along_axis(probs, part, axis=1), axis=1)
    top = np.take_along_axis(part, order, axis=1)
    text_chars: list[str] = []
    confs: list[float] = []
    alts: list[list[tuple[str, float]]] = []
    for row, t in enumerate(top):
        text_chars.append(chars[t[0]])
        confs.append(float(probs[row, t[0]]))
        alts.append([(chars[k], float(probs[row, k])) for k in t if k != 0 and k < len(chars)])
    return Reading("".join(text_chars), float(np.mean(confs)), alts)


# --------------------------------------------------------------------------------------------------
# Native PaddleOCR (the [paddle] extra)


class PaddleOcrEngine:
    """Native PaddleOCR 3.x text detection + recognition from local model folders.

    Each folder holds `inference.yml` plus `inference.onnx` (or Paddle's own `inference.json` and
    `.pdiparams`). With `engine="onnxruntime"` PaddleOCR runs the same PP-OCRv6 ONNX files we ship.
    Only the detection and recognition modules are built: no document-orientation, unwarping or
    text-line-orientation sub-models, which we do not ship (clean-up is ours, in `ocr.clean`).
    """

    name = "paddleocr"

    def __init__(
        self,
        det_dir: Path | str | None,
        rec_dir: Path | str | None,
        *,
        engine: str = "onnxruntime",
        box_thresh: float = BOX_THRESH,
    ):
        try:
            import paddleocr
        except ImportError as e:
            raise EngineUnavailable(
                "The paddle engine needs the [paddle] extra; install it with "
                '`pip install "claims-di[paddle]"`.'
            ) from e
        folders = {"det": det_dir, "rec": rec_dir}
        for kind, folder in folders.items():
            if folder is None or not (Path(folder) / "inference.yml").is_file():
                raise EngineUnavailable(
                    f"PaddleOCR {kind} model folder {folder!r} has no inference.yml; set "
                    f"CLAIMS_OCR_PADDLE_{kind.upper()}_DIR (or pass {kind}_dir=) to a folder holding "
                    "inference.yml and inference.onnx."
                )
        self._det = paddleocr.TextDetection(model_dir=str(det_dir), engine=engine, box_thresh=box_thresh)
        self._rec = paddleocr.TextRecognition(model_dir=str(rec_dir), engine=engine)
        self._lock = threading.Lock()
        self.version = (
            f"paddleocr-{getattr(paddleocr, '__version__', '?')}/{Path(det_dir).name}/{Path(rec_dir).name}"  # type: ignore[arg-type]
            f"/box{box_thresh}"
        )

    def detect(self, image: np.ndarray) -> list[Detection]:
        with self._lock:
            res = list(self._det.predict(image))
        if not res:
            return []
        r = res[0]
        polys, scores = r["dt_polys"], r["dt_scores"]
        return [
            Detection(np.asarray(p, dtype=np.float32), float(s)) for p, s in zip(polys, scores, strict=True)
        ]

    def recognize(self, crops: Sequence[np.ndarray]) -> list[Reading]:
        if not crops:
            return []
        with self._lock:
            res = list(self._rec.predict(list(crops), batch_size=8))
        return [Reading(str(r["rec_text"]), float(r["rec_score"]), []) for r in res]


# --------------------------------------------------------------------------------------------------
# One engine per kind per process

_ENGINES: dict[str, OcrEngine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(kind: str = "rapidocr", **kwargs: Any) -> OcrEngine:
    """The process-wide engine of this kind, built on first use (model load costs ~1 s)."""
    key = kind + repr(sorted(kwargs.items()))
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            if kind == "rapidocr":
                _ENGINES[key] = RapidOcrEngine(**kwargs)
            elif kind == "paddle":
                import os

                kwargs.setdefault("det_dir", os.environ.get("CLAIMS_OCR_PADDLE_DET_DIR"))
                kwargs.setdefault("rec_dir", os.environ.get("CLAIMS_OCR_PADDLE_REC_DIR"))
                _ENGINES[key] = PaddleOcrEngine(**kwargs)
            else:
                raise EngineUnavailable(f"Unknown OCR engine {kind!r}; use 'rapidocr' or 'paddle'.")
        return _ENGINES[key]

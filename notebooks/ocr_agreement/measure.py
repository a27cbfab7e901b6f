"""Experiment (issue 20, not product code): agreement of a second reading on crop variants.

Principle fixed before looking at results: the recogniser resizes every crop to 48 px high, so a
second reading informs only if its input differs in a way that cannot change the text. Variants:
  scale15  uniform 1.5x (the brief's example; expected near no-op: a control)
  pad      same crop, 0.25 x height of background margin added on every side (framing: glyphs
           smaller in the 48 px input, on other CTC time steps), fill = median of the crop's border
  stretch  horizontal stretch 1.3 (existing number_kinds variant: each glyph over more time steps)
Agreement: NFKC text without whitespace equal to the first reading's.
"""

from __future__ import annotations

import json
import re
import sys
import time
import unicodedata
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
LINES = Path("data/ocr_agreement/lines.json")  # relative to the repository root, like bench caches
import ocr.reader as R  # noqa: E402
from bench.extract import cached_pages, doc_type_model  # noqa: E402
from bench.real import REAL, labels, score  # noqa: E402
from ocr import clean  # noqa: E402
from ocr.engine import get_engine  # noqa: E402

CAP: list[dict] = []
_orig_retry = R._retry_uncertain
_orig_lines = R._text_lines


def retry(engine, crops, initial, opt, trace):
    CAP.append({"crops": crops, "initial": initial})
    return _orig_retry(engine, crops, initial, opt, trace)


def text_lines(boxes, initial, checked, opt, trace):
    CAP[-1]["boxes"] = boxes
    CAP[-1]["checked"] = checked
    return _orig_lines(boxes, initial, checked, opt, trace)


R._retry_uncertain = retry
R._text_lines = text_lines


def pad(crop: np.ndarray, share: float = 0.25) -> np.ndarray:
    h = crop.shape[0]
    p = max(1, round(share * h))
    border = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]]).reshape(-1, crop.shape[2])
    fill = [int(v) for v in np.median(border, axis=0)]
    return cv2.copyMakeBorder(crop, p, p, p, p, cv2.BORDER_CONSTANT, value=fill)


VARIANTS = {
    "scale15": lambda c: clean.resize_to(c, 1.5),
    "pad": pad,
    "stretch": lambda c: clean.enhance_crop(c, "stretch_1.3"),
}


def norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def main() -> None:
    from classifiers.doc_type import predict_doc_type
    from pipeline.extract.documents import extract

    engine = get_engine()
    model = doc_type_model()
    out = []
    for label in labels():
        path = REAL / "images" / label["file"]
        CAP.clear()
        t0 = time.perf_counter()
        pages = cached_pages(path)
        if not CAP and path.suffix.lower() != ".pdf":
            pages = R.read_document(path, engine)
        t_ocr = time.perf_counter() - t0
        caps = list(CAP)
        lines = []
        t_var = {}
        for pi, cap in enumerate(caps):
            for name, fn in VARIANTS.items():
                t1 = time.perf_counter()
                reads = engine.recognize([fn(c) for c in cap["crops"]])
                t_var[name] = t_var.get(name, 0.0) + time.perf_counter() - t1
                cap[name] = reads
            for i, first in enumerate(cap["initial"]):
                lines.append(
                    {
                        "page": pi + 1,
                        "i": i,
                        "box": np.asarray(cap["boxes"][i]).tolist(),
                        "first": first.text,
                        "first_score": round(first.score, 4),
                        "final": cap["checked"][i].text,
                        **{n: cap[n][i].text for n in VARIANTS},
                        **{n + "_score": round(cap[n][i].score, 4) for n in VARIANTS},
                    }
                )
        ex = extract(pages, lambda p: predict_doc_type(model, p))
        fields = score(label, ex)
        got = {f.name: f for f in ex.fields}
        for f in fields:
            fld = got.get(f["field"])
            f["line"] = None
            if fld is None or fld.box is None or not lines:
                continue
            cx = np.mean([p[0] for p in fld.box])
            cy = np.mean([p[1] for p in fld.box])
            best = None
            for ln in lines:
                if ln["page"] != fld.page:
                    continue
                b = np.asarray(ln["box"])
                if (
                    b[:, 0].min() - 2 <= cx <= b[:, 0].max() + 2
                    and b[:, 1].min() - 2 <= cy <= b[:, 1].max() + 2
                ):
                    area = np.ptp(b[:, 0]) * np.ptp(b[:, 1])
                    if best is None or area < best[0]:
                        best = (area, ln)
            if best is not None:
                f["line"] = (best[1]["page"], best[1]["i"])
                f["raw_text"] = fld.raw_text
        out.append(
            {
                "file": label["file"],
                "doc_type": label["doc_type"],
                "person": bool(ex.needs_review),
                "got_type": ex.doc_type.value,
                "t_ocr": round(t_ocr, 2),
                "t_var": {k: round(v, 2) for k, v in t_var.items()},
                "pages": len(caps),
                "lines": lines,
                "fields": fields,
            }
        )
        print(
            label["file"], round(t_ocr, 1), {k: round(v, 2) for k, v in t_var.items()}, len(lines), flush=True
        )
    LINES.parent.mkdir(parents=True, exist_ok=True)
    LINES.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()

"""Recognition ceiling: how many fields of each photo severity a recogniser reads given a perfect box.

The extraction benchmark's first-photo misses sit almost all on the generator's "hard" photos. This
measures whether better detection, clean-up or pairing could recover them: every truth field of
every photo is cut out at the truth's own box (perfect detection and deskew, as `ocr.clean.crop_box`
cuts a detected line) and recognised as it is and in the crop variants the OCR stage re-reads with
(`ocr.clean.enhance_crop`, plus a x2 upscale). A field counts as read when the normalised printed
text is inside a reading (generous: neighbours caught by the crop are forgiven).

Beside it, per severity, the pipeline's own exact-match (stage told the true type) and the bound
the ceiling puts on the first-photo figure: every field off the hard photos read right and the hard
photos' fields at the best the recognisers do on perfect boxes with every variant.

Other recognisers (any PP-OCR CTC recogniser exported to ONNX with its character list in the model's
metadata, as PaddleOCR's exports carry it) are compared with `--model NAME=PATH`; the shipped
PP-OCRv6 small from the rapidocr wheel is always measured.

    python -m bench.ceiling [--json] [--claims 40] [--seed 5151] [--severities hard,moderate]
        [--model v5_mobile=/path/rec.onnx ...]

The last stdout line is one JSON object; it is also written to bench/results/ceiling.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench.extract import SKIP_FIELDS, WORK, cached_pages, extract_pages, norm_text, score_document
from ocr.clean import crop_box, enhance_crop, resize_to
from ocr.engine import Reading, ctc_decode, get_engine, rec_tensor

RESULTS = Path(__file__).resolve().parent / "results" / "ceiling.json"
VARIANTS = ("blur", "close", "stretch_1.3", "stretch_1.6", "contrast", "x2")
PAD = 0.15
"""Share of the line height added around the truth's box, as a detector's box has some margin."""


class OnnxRecogniser:
    """A PP-OCR CTC recogniser from one ONNX file, preprocessed and decoded as our engine does."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        self._session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        meta = self._session.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise SystemExit(f"{path}: no character list in the model's metadata; not a PP-OCR export")
        self._chars = ["blank", *meta["character"].splitlines(), " "]
        self._input = self._session.get_inputs()[0].name

    def recognize(self, crops: Sequence[np.ndarray]) -> list[Reading]:
        out = []
        for crop in crops:
            width = max(320, int(np.ceil(48 * crop.shape[1] / max(crop.shape[0], 1) / 64) * 64))
            pred = self._session.run(None, {self._input: rec_tensor(crop, 48, width)[None]})[0][0]
            out.append(ctc_decode(pred, self._chars))
        return out


def crop_variants(crop: np.ndarray) -> list[np.ndarray]:
    """The crop as read, then each enhancement the ceiling tries (`VARIANTS`)."""
    return [crop] + [resize_to(crop, 2.0) if v == "x2" else enhance_crop(crop, v) for v in VARIANTS]


def ceiling(claims: int, seed: int, severities: set[str], models: dict[str, Any]) -> dict[str, Any]:
    from synth.documents import generate_corpus
    from synth.facts import read_truth

    corpus = WORK / f"corpus-s{seed}-n{claims}"
    if not (corpus / "claims.csv").exists():
        generate_corpus(corpus, claims, seed)
    scored: Counter[str] = Counter()  # every field the extraction bench scores, by severity
    pipeline: Counter[str] = Counter()
    boxed: Counter[str] = Counter()
    read: dict[str, Counter[str]] = defaultdict(Counter)  # model -> severity -> fields read
    read_plain: dict[str, Counter[str]] = defaultdict(Counter)  # without variants
    for claim in read_truth(corpus):
        for doc in claim.documents:
            sev = "pdf" if doc.media_type == "application/pdf" else doc.severity
            pages = cached_pages(corpus / doc.file)
            results = score_document(doc, pages, extract_pages(pages, None, doc.doc_type))
            scored[sev] += len(results)
            pipeline[sev] += sum(r["ok"] for r in results)
            if sev not in severities:
                continue
            image = cv2.imread(str(corpus / doc.file), cv2.IMREAD_COLOR)
            if image is None:
                raise SystemExit(f"{corpus / doc.file}: not an image the bench can read")
            for f in doc.fields:
                want = norm_text(f.text)
                if f.name in SKIP_FIELDS or f.box is None or not want or f.page != 1:
                    continue
                boxed[sev] += 1
                crop = crop_box(image, np.asarray(f.box, dtype=np.float32), pad=PAD)
                crops = crop_variants(crop)
                hit_any = False
                for name, model in models.items():
                    texts = [norm_text(r.text) for r in model.recognize(crops)]
                    hit = any(want in t for t in texts)
                    read[name][sev] += hit
                    read_plain[name][sev] += want in texts[0]
                    hit_any |= hit
                read["any"][sev] += hit_any
    total = sum(scored.values())
    per_severity = {
        sev: {
            "fields": scored[sev],
            "pipeline_exact": round(pipeline[sev] / scored[sev], 4) if scored[sev] else None,
            "fields_with_box": boxed[sev],
            "perfect_box_read": {
                name: {
                    "plain": read_plain[name][sev] if name != "any" else None,
                    "with_variants": read[name][sev],
                    "rate": round(read[name][sev] / boxed[sev], 4) if boxed[sev] else None,
                }
                for name in [*models, "any"]
            },
        }
        for sev in sorted(scored)
    }
    report: dict[str, Any] = {
        "corpus": str(corpus),
        "fields": total,
        "pipeline_exact": round(sum(pipeline.values()) / total, 4) if total else None,
        "per_severity": per_severity,
        "variants": list(VARIANTS),
    }
    if "hard" in severities and total:
        # every field right except the hard photos' boxed fields beyond what any recogniser reads
        unread = boxed["hard"] - read["any"]["hard"]
        report["first_photo_bound"] = round((total - unread) / total, 4)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print only the JSON line")
    ap.add_argument("--claims", type=int, default=40)
    ap.add_argument("--seed", type=int, default=5151)
    ap.add_argument("--severities", default="hard,moderate", help="photo severities to cut fields from")
    ap.add_argument("--model", action="append", default=[], metavar="NAME=PATH", help="another recogniser")
    args = ap.parse_args(argv)
    models: dict[str, Any] = {"pp-ocrv6_small": get_engine("rapidocr")}
    for spec in args.model:
        name, _, path = spec.partition("=")
        if not path or not Path(path).is_file():
            ap.error(f"--model {spec!r}: give NAME=PATH to an ONNX recogniser file")
        models[name] = OnnxRecogniser(Path(path))
    t0 = time.perf_counter()
    report = ceiling(args.claims, args.seed, set(args.severities.split(",")), models)
    report["seconds"] = round(time.perf_counter() - t0, 1)
    if not args.json:
        print(f"{report['corpus']}: {report['fields']} fields, pipeline exact {report['pipeline_exact']}")
        for sev, r in report["per_severity"].items():
            line = f"  {sev}: {r['fields']} fields, pipeline exact {r['pipeline_exact']}"
            if r["fields_with_box"]:
                line += "; perfect box: " + ", ".join(
                    f"{m} {v['with_variants']}/{r['fields_with_box']}"
                    for m, v in r["perfect_box_read"].items()
                )
            print(line)
        if "first_photo_bound" in report:
            bound = report["first_photo_bound"]
            print(f"  bound on the first-photo exact-match, hard photos at the ceiling: {bound}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""OCR benchmark: our stage against the raw `RapidOCR()` call, on the same images in the same run.

Sets: (a) the real scanned VAT invoices, upright; (b) the same invoices turned 90 and 180 degrees
and as simulated phone photos (perspective tilt, 1600 px, blur, uneven light, JPEG 60); (c) the
synthetic corpus from `synth.documents` when it exists. Fields are scored as
`../shared/tools/score_ocr.py` scores them: a labelled text counts as exact when it appears in the
concatenation of all read lines (spaces removed, NFKC), otherwise its edit distance to the closest
line counts against character accuracy.

Each engine runs in its own worker process (so peak memory is its own), and the two are called in
turn image by image, so load from other work on the machine hits both alike.

    python -m bench.ocr [--json] [--limit N] [--sets real,turned90,turned180,photo,synth]

The last stdout line is one JSON object; it is also written to bench/results/ocr.json.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import multiprocessing as mp
import statistics
import sys
import time
import unicodedata
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.extract.pairing import edit_distance

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
INVOICES = DATA / "vat_invoices"
RESULTS = REPO / "bench" / "results" / "ocr.json"
ALL_SETS = ("real", "turned90", "turned180", "photo", "synth")


# --------------------------------------------------------------------------------------------------
# scoring, as ../shared/tools/score_ocr.py does it


def norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s).replace(" ", "")


def score(items: list[str], texts: list[str]) -> tuple[int, int, int, list[tuple[str, str]]]:
    """(exact fields, char errors, chars, [(missed field, closest line)])."""
    texts = [norm(t) for t in texts]
    items = [norm(t) for t in items]
    blob = "".join(texts)
    err = chars = exact = 0
    misses = []
    for gt in items:
        if gt in blob:
            best = 0
        else:
            dists = [(edit_distance(gt, t), t) for t in texts]
            best, line = min(dists, default=(len(gt), ""))
            misses.append((gt, line))
        err += min(best, len(gt))
        chars += len(gt)
        exact += best == 0
    return exact, err, chars, misses


def _kind(ch: str) -> str:
    if ch.isdigit():
        return "digit"
    if "\u4e00" <= ch <= "\u9fff":
        return "cjk"
    return "other"


def classify_miss(gt: str, line: str) -> Counter[str]:
    """Why a field was missed: not found at all (detection), or which characters were misread."""
    if not line or edit_distance(gt, line) >= 0.6 * len(gt) + max(0, len(line) - len(gt)):
        return Counter({"not_detected_or_split": 1})
    sm = difflib.SequenceMatcher(None, gt, line, autojunk=False)
    blocks = [b for b in sm.get_matching_blocks() if b.size]
    lo, hi = blocks[0].b, blocks[-1].b + blocks[-1].size
    sm = difflib.SequenceMatcher(
        None, gt, line[max(0, lo - blocks[0].a) : hi + len(gt) - blocks[-1].a - blocks[-1].size]
    )
    kinds: Counter[str] = Counter()
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "replace":
            for c in gt[i1:i2]:
                kinds[f"{_kind(c)}_substituted"] += 1
        elif tag == "delete":
            kinds["chars_dropped"] += i2 - i1
        elif tag == "insert":
            kinds["chars_added"] += j2 - j1
    return kinds


# --------------------------------------------------------------------------------------------------
# image variants


def turned(img: np.ndarray, degrees: int) -> np.ndarray:
    """The page turned clockwise by `degrees`, as a sideways or upside-down upload."""
    import cv2

    code = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return cv2.rotate(img, code[degrees])


def phone_photo(img: np.ndarray, seed: int) -> np.ndarray:
    """A simulated phone photo of the page: shot at an angle on a desk, 1600 px, soft, unevenly lit."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    margin = int(0.08 * max(h, w))
    ch, cw = h + 2 * margin, w + 2 * margin
    desk = np.empty((ch, cw, 3), np.uint8)
    desk[:] = (70, 95, 120)  # brownish desk (BGR)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    jitter = rng.uniform(-0.06, 0.06, size=(4, 2)) * np.array([w, h])
    dst = (src + margin + jitter).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    photo = cv2.warpPerspective(img, m, (cw, ch), dst=desk, borderMode=cv2.BORDER_TRANSPARENT)
    scale = 1600 / max(ch, cw)
    photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ph, pw = photo.shape[:2]
    # light falls off from one corner: 100% to ~55%
    yy, xx = np.mgrid[0:ph, 0:pw].astype(np.float32)
    cx, cy = rng.uniform(0, pw), rng.uniform(0, ph)
    dist = np.hypot(xx - cx, yy - cy) / np.hypot(pw, ph)
    light = 1.0 - 0.45 * np.clip(dist / 0.9, 0, 1)
    photo = np.clip(photo.astype(np.float32) * light[..., None], 0, 255).astype(np.uint8)
    photo = cv2.GaussianBlur(photo, (0, 0), 0.8)
    ok, jpg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 60])
    assert ok
    return cv2.imdecode(jpg, cv2.IMREAD_COLOR)


def make_variant(path: str, variant: str, seed: int) -> np.ndarray:
    from ocr.images import load_image

    img = load_image(path)
    if variant.startswith("turned"):
        return turned(img, int(variant[len("turned") :]))
    if variant == "photo":
        return phone_photo(img, seed)
    return img


# --------------------------------------------------------------------------------------------------
# workers: one process per engine, kept alive across images

_WORKER: dict[str, Any] = {}


def _init_worker(who: str) -> None:
    logging.basicConfig(level=logging.WARNING)
    if who == "ours":
        from ocr.engine import get_engine

        _WORKER["engine"] = get_engine()
    else:
        from rapidocr import RapidOCR

        _WORKER["engine"] = RapidOCR(params={"Global.log_level": "error"})
    _WORKER["who"] = who


def _run_one(path: str, variant: str, seed: int) -> dict[str, Any]:
    img = make_variant(path, variant, seed)
    t = time.perf_counter()
    if _WORKER["who"] == "ours":
        from ocr.reader import read_image

        page, _, trace = read_image(img, _WORKER["engine"])
        texts = [ln.text for ln in page.lines]
        info = {"rotation": trace.rotation, "warped": trace.warped, "light": trace.light}
    else:
        r = _WORKER["engine"](img)
        texts = list(r.txts or [])
        info = {}
    return {"texts": texts, "seconds": time.perf_counter() - t, "info": info}


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------------------------------
# sets


def invoice_cases(limit: int | None) -> list[tuple[str, list[str]]]:
    labels = INVOICES / "train.corrected.json"
    cases = []
    for line in labels.read_text(encoding="utf-8").splitlines():
        name, js = line.split("\t", 1)
        items = [it["transcription"] for it in json.loads(js) if it["label"] in ("question", "answer")]
        cases.append((str(INVOICES / "imgs" / name), items))
    return cases[:limit] if limit else cases


def synth_cases(limit: int | None, workdir: Path, claims: int = 6) -> list[tuple[str, list[str]]] | str:
    """Photos of synthetic claim documents with the text printed in each field, or why skipped.

    The synth photos are already degraded (turned, tilted, blurred, dim, small) by `synth.degrade`,
    so they are read as they are. PDFs (e-invoices with a text layer) are left out: the raw model
    cannot read a PDF, and our stage reads their text layer instead of OCR.
    """
    try:
        from synth.documents import generate_corpus
    except ImportError as e:
        return f"synth.documents.generate_corpus is not available ({e})"
    generate_corpus(workdir, max(1, (limit or 3 * claims) // 3), seed=7)
    truth = workdir / ".truth" / "truth.jsonl"
    if not truth.is_file():
        return f"synthetic corpus at {workdir} has no .truth/truth.jsonl"
    cases = []
    for line in truth.read_text(encoding="utf-8").splitlines():
        for doc in json.loads(line).get("documents", []):
            if not doc["file"].lower().endswith((".jpg", ".jpeg", ".png", ".webp")):
                continue
            items = [f["text"] for f in doc.get("fields", []) if norm(f.get("text") or "")]
            if items:
                cases.append((str(workdir / doc["file"]), items))
    return cases[:limit] if limit else cases


def run_set(
    name: str, cases: list[tuple[str, list[str]]], variant: str, pools: dict[str, ProcessPoolExecutor]
) -> dict[str, Any]:
    tot = {who: {"exact": 0, "err": 0, "chars": 0, "n": 0, "secs": [], "misses": []} for who in pools}
    infos: Counter[str] = Counter()
    for k, (path, items) in enumerate(cases):
        for who, pool in pools.items():
            res = pool.submit(_run_one, path, variant, k).result()
            e, r, c, misses = score(items, res["texts"])
            t = tot[who]
            t["exact"] += e
            t["err"] += r
            t["chars"] += c
            t["n"] += len(items)
            t["secs"].append(res["seconds"])
            t["misses"].extend((Path(path).name, gt, line) for gt, line in misses)
            if who == "ours":
                infos[f"rotation_{res['info']['rotation']}"] += 1
                infos["warped"] += bool(res["info"]["warped"])
                infos["light_fixed"] += bool(res["info"]["light"])
        log.info("%s %d/%d", name, k + 1, len(cases))
    out: dict[str, Any] = {}
    for who, t in tot.items():
        kinds: Counter[str] = Counter()
        for _, gt, line in t["misses"]:
            kinds.update(classify_miss(norm(gt), norm(line)))
        out[who] = {
            "exact_field_rate": round(t["exact"] / max(t["n"], 1), 4),
            "char_acc": round(1 - t["err"] / max(t["chars"], 1), 4),
            "median_s_per_page": round(statistics.median(t["secs"]), 3) if t["secs"] else None,
            "fields": t["n"],
            "missed": len(t["misses"]),
            "miss_kinds": dict(kinds.most_common()),
        }
        if who == "ours":
            out[who]["clean_up"] = dict(infos)
            out[who]["miss_examples"] = [
                {"image": img, "truth": norm(gt), "read": norm(line)} for img, gt, line in t["misses"][:40]
            ]
    out["images"] = len(cases)
    out["time_ratio_ours_over_raw"] = (
        round(out["ours"]["median_s_per_page"] / out["raw"]["median_s_per_page"], 2)
        if out["raw"]["median_s_per_page"]
        else None
    )
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print only the JSON line")
    ap.add_argument("--limit", type=int, default=None, help="first N images per set (development)")
    ap.add_argument("--sets", default=",".join(ALL_SETS))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.json else logging.INFO, format="%(message)s")
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    result: dict[str, Any] = {"sets": {}, "skipped": {}}
    ctx = mp.get_context("spawn")
    pools = {
        who: ProcessPoolExecutor(1, mp_context=ctx, initializer=_init_worker, initargs=(who,))
        for who in ("ours", "raw")
    }
    started = time.perf_counter()
    try:
        invoices_ok = (INVOICES / "train.corrected.json").is_file()
        for s in sets:
            if s in ("real", "turned90", "turned180", "photo"):
                if not invoices_ok:
                    result["skipped"][s] = f"real invoices not found at {INVOICES} (no ../shared/data here)"
                    continue
                variant = "upright" if s == "real" else s
                result["sets"][s] = run_set(s, invoice_cases(args.limit), variant, pools)
            elif s == "synth":
                import tempfile

                with tempfile.TemporaryDirectory() as tmp:
                    cases = synth_cases(args.limit, Path(tmp))
                    if isinstance(cases, str):
                        result["skipped"][s] = cases
                        continue
                    result["sets"][s] = run_set(s, cases, "as_is", pools)
            if not args.json and s in result["sets"]:
                r = result["sets"][s]
                ours, raw = r["ours"], r["raw"]
                print(
                    f"{s:10s} ours exact {ours['exact_field_rate']:.3f} chars {ours['char_acc']:.3f} "
                    f"{ours['median_s_per_page']:.2f}s | raw exact {raw['exact_field_rate']:.3f} "
                    f"chars {raw['char_acc']:.3f} {raw['median_s_per_page']:.2f}s",
                    flush=True,
                )
        peaks = {who: pool.submit(_peak_mb).result() for who, pool in pools.items()}
    finally:
        for pool in pools.values():
            pool.shutdown()
    result["peak_rss_mb"] = {who: round(v, 1) for who, v in peaks.items()}
    result["limit"] = args.limit
    result["seconds_total"] = round(time.perf_counter() - started, 1)
    for s, msg in result["skipped"].items():
        print(f"skipped {s}: {msg}", file=sys.stderr)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()

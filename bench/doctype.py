"""Document type: how well the doc-type model types layouts it never trained on, and real documents.

`python -m bench.doctype [--json] [--claims 60] [--no-real]`

Synthetic, leave one layout family out: the corpus the bench trains on (claim documents re-drawn from
the generator's truth, pharmacy invoices in their four layouts, the drawn `other` kinds) is grouped by
family (document type and layout: `outpatient_invoice/ebill`, `pharmacy_invoice/digital`,
`other/lab_report`); for each family whose type has another family to learn from, a model is
trained without it and tested on it. A type drawn in one layout only (the discharge summary) cannot
be left out and is listed as such. Real: the model `bench.extract` trains (every family) types the
real development set (`bench.real`'s images and labels, OCR cached), scored against the labels.
Both report accuracy, mean confidence of the chosen type, and the share typed right at or above the
product's confidence threshold (`settings.doc_type_min_confidence`), below which a person confirms
the type. Results in bench/results/doctype.json; the last stdout line is the same JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.extract import TRAIN_SEEDS, WORK, cached_pages, doc_type_model
from bench.real import REAL, labels

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "doctype.json"

Sample = tuple[list[Any], str, str]
"""(pages, doc type, family)."""


def synthetic_samples(claims: int = 60, seed: int = TRAIN_SEEDS[0]) -> list[Sample]:
    """The training corpus of `bench.extract` with each document's layout family."""
    from synth.doc_samples import drawn_others, pharmacy_documents, render_documents, text_others
    from synth.documents import generate_corpus

    out = WORK / "doc-type-train" / f"corpus-s{seed}-n{claims}"
    if not (out / "claims.csv").exists():
        generate_corpus(out, claims, seed, render=False)
    samples: list[Sample] = []
    with (out / ".truth" / "truth.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            claim = json.loads(line)
            for doc, (pages, label, _) in zip(claim["documents"], render_documents(claim), strict=True):
                samples.append((pages, label, f"{label}/{doc['layout']}"))
    n = len(samples)
    samples += [(p, y, f"{y}/{k}") for p, y, k in pharmacy_documents(max(24, n // 12), seed)]
    samples += [(p, y, f"{y}/{k}") for p, y, k in drawn_others(max(35, n // 10), seed)]
    samples += [(p, y, f"{y}/text_forms") for p, y in text_others(max(12, n // 20), seed)]
    return samples


def _score(model: Any, docs: list[Sample], threshold: float) -> dict[str, Any]:
    from classifiers.doc_type import predict_doc_type

    got = [predict_doc_type(model, pages) for pages, _, _ in docs]
    right = [t.value == y for (t, _), (_, y, _) in zip(got, docs, strict=True)]
    confident = [ok and c >= threshold for ok, (_, c) in zip(right, got, strict=True)]
    wrong: dict[str, int] = defaultdict(int)
    for ok, (t, _) in zip(right, got, strict=True):
        if not ok:
            wrong[t.value] += 1
    return {
        "documents": len(docs),
        "accuracy": round(sum(right) / len(docs), 4),
        "mean_confidence": round(sum(c for _, c in got) / len(docs), 4),
        "right_above_threshold": round(sum(confident) / len(docs), 4),
        "taken_for": dict(wrong),
    }


def leave_one_family_out(
    samples: list[Sample], threshold: float, max_test: int = 60
) -> tuple[dict[str, Any], list[str]]:
    """Per family: a model trained on every other family, tested on this one."""
    from classifiers.doc_type import fit_doc_type

    families: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        families[s[2]].append(s)
    per_type: dict[str, set[str]] = defaultdict(set)
    for fam in families:
        per_type[fam.split("/")[0]].add(fam)
    results, single = {}, []
    for fam in sorted(families):
        if len(per_type[fam.split("/")[0]]) < 2:
            single.append(fam)
            continue
        train = [(p, y) for p, y, f in samples if f != fam]
        model, _ = fit_doc_type(train, test_size=0, seed=0)
        results[fam] = _score(model, families[fam][:max_test], threshold)
    return results, single


def real_set(threshold: float) -> dict[str, Any] | None:
    """The bench's full model on the real development images, scored against their labels."""
    if not (REAL / "labels").is_dir():
        return None
    model = doc_type_model()
    docs: list[Sample] = []
    for label in labels():
        pages = cached_pages(REAL / "images" / label["file"])
        docs.append((pages, label["doc_type"], f"{label['doc_type']}/{label['capture']}"))
    by_family: dict[str, list[Sample]] = defaultdict(list)
    for d in docs:
        by_family[d[1]].append(d)
    return {
        "all": _score(model, docs, threshold),
        "claim_documents": _score(model, [d for d in docs if d[1] != "other"], threshold),
        "by_type": {k: _score(model, v, threshold) for k, v in sorted(by_family.items())},
    }


def _mean(rows: dict[str, dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in rows.values()]
    return round(sum(vals) / len(vals), 4) if vals else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print only the JSON line")
    ap.add_argument("--claims", type=int, default=60, help="claims in the synthetic corpus")
    ap.add_argument("--no-real", action="store_true", help="skip the real development set")
    args = ap.parse_args(argv)
    from pipeline.settings import get_settings

    threshold = get_settings().doc_type_min_confidence
    t0 = time.perf_counter()
    lofo, single = leave_one_family_out(synthetic_samples(args.claims), threshold)
    report: dict[str, Any] = {
        "threshold": threshold,
        "synthetic_lofo": {
            "families": len(lofo),
            "mean_accuracy": _mean(lofo, "accuracy"),
            "mean_confidence": _mean(lofo, "mean_confidence"),
            "mean_right_above_threshold": _mean(lofo, "right_above_threshold"),
            "by_family": lofo,
            "single_family_types": single,
        },
        "real": None if args.no_real else real_set(threshold),
    }
    report["seconds"] = round(time.perf_counter() - t0, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if not args.json:
        s = report["synthetic_lofo"]
        print(
            f"synthetic, leave one family out ({s['families']} families): accuracy {s['mean_accuracy']},"
            f" confidence {s['mean_confidence']}, right and >= {threshold}: {s['mean_right_above_threshold']}"
        )
        for fam, r in lofo.items():
            print(f"  {fam:40s} {r}")
        if report["real"] is None:
            print(f"real: skipped (no real bills at {REAL})" if not args.no_real else "real: skipped")
        else:
            for k, r in report["real"].items():
                print(f"real {k}: {r}")
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

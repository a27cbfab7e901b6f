"""Experiment (issue 20, not product code): what the product rule would do on bench.real's own figures.

Rule simulated: a key field (pipeline.extract.plausible.KEY_FIELDS, every one the extraction read,
labelled or not) whose value line's second reading disagrees with its first sends the document to a
person. Pages come from the warm bench cache; the line readings from data/ocr_agreement/lines.json.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
LINES = Path("data/ocr_agreement/lines.json")  # relative to the repository root, like bench caches
from bench.extract import cached_pages, doc_type_model  # noqa: E402
from bench.real import REAL, labels, score  # noqa: E402
from pipeline.extract.plausible import KEY_FIELDS  # noqa: E402


def norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def line_for(lines, fld):
    cx = np.mean([p[0] for p in fld.box])
    cy = np.mean([p[1] for p in fld.box])
    best = None
    for ln in lines:
        if ln["page"] != fld.page:
            continue
        b = np.asarray(ln["box"])
        if b[:, 0].min() - 2 <= cx <= b[:, 0].max() + 2 and b[:, 1].min() - 2 <= cy <= b[:, 1].max() + 2:
            area = np.ptp(b[:, 0]) * np.ptp(b[:, 1])
            if best is None or area < best[0]:
                best = (area, ln)
    return best[1] if best else None


RULES = {
    "none": lambda ln: False,
    "scale15": lambda ln: norm(ln["scale15"]) != norm(ln["first"]),
    "pad": lambda ln: norm(ln["pad"]) != norm(ln["first"]),
    "stretch": lambda ln: norm(ln["stretch"]) != norm(ln["first"]),
    "pad&stretch": lambda ln: (
        norm(ln["pad"]) != norm(ln["first"]) and norm(ln["stretch"]) != norm(ln["first"])
    ),
}


def main() -> None:
    from classifiers.doc_type import predict_doc_type
    from pipeline.extract.documents import extract

    data = {d["file"]: d for d in json.loads(LINES.read_text(encoding="utf-8"))}
    model = doc_type_model()
    rows = []
    for label in labels():
        if label["doc_type"] == "other":
            continue
        pages = cached_pages(REAL / "images" / label["file"])
        ex = extract(pages, lambda p: predict_doc_type(model, p))
        fields = score(label, ex)
        lines = data[label["file"]]["lines"]
        key_lines = [line_for(lines, f) for f in ex.fields if f.name in KEY_FIELDS and f.box is not None]
        rows.append((label["file"], bool(ex.needs_review), fields, [ln for ln in key_lines if ln]))
    for name, rule in RULES.items():
        person = [p or any(rule(ln) for ln in kl) for _, p, _, kl in rows]
        unseen = [f for (_, _, fs, _), p in zip(rows, person, strict=True) if not p for f in fs if f["found"]]
        wrong = sum(not f["ok"] for f in unseen)
        extra = [r[0] for r, p in zip(rows, person, strict=True) if p and not r[1]]
        print(
            f"{name:12s} to a person {sum(person)}/{len(rows)} = {sum(person) / len(rows):.3f}; silent"
            f" {wrong}/{len(unseen)} = {wrong / max(len(unseen), 1):.4f}; extra docs {extra}"
        )


if __name__ == "__main__":
    main()

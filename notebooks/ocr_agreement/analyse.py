"""Experiment (issue 20, not product code): agreement figures from data/ocr_agreement/lines.json."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
LINES = Path("data/ocr_agreement/lines.json")  # relative to the repository root, like bench caches
from pipeline.extract.plausible import KEY_FIELDS  # noqa: E402

docs = json.loads(LINES.read_text(encoding="utf-8"))
VARS = ["scale15", "pad", "stretch"]


def norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def disagree(ln: dict, v: str) -> bool:
    return norm(ln[v]) != norm(ln["first"])


RULES = {v: (lambda ln, v=v: disagree(ln, v)) for v in VARS}
RULES["pad|stretch"] = lambda ln: disagree(ln, "pad") or disagree(ln, "stretch")
RULES["pad&stretch"] = lambda ln: disagree(ln, "pad") and disagree(ln, "stretch")

all_lines = [ln for d in docs for ln in d["lines"]]
print(f"documents {len(docs)}, OCR'd lines {len(all_lines)}")
print("all lines: disagreement rate per rule")
for r, fn in RULES.items():
    print(f"  {r:12s} {sum(map(fn, all_lines)) / len(all_lines):.3f}")

claim = [d for d in docs if d["doc_type"] != "other"]


def line_of(d, f):
    if f["line"] is None:
        return None
    p, i = f["line"]
    return next(ln for ln in d["lines"] if ln["page"] == p and ln["i"] == i)


print("\n(a) fields wrong on documents no person sees (silent errors), and their lines:")
for d in claim:
    if d["person"]:
        continue
    for f in d["fields"]:
        if f["found"] and not f["ok"]:
            ln = line_of(d, f)
            print(f"  {d['file']} {f['field']}: want {f['want']} got {f['got']} conf {f['confidence']}")
            if ln:
                print(
                    f"     first {ln['first']!r} ({ln['first_score']}) | "
                    + " | ".join(f"{v} {ln[v]!r} ({ln[v + '_score']})" for v in VARS)
                )
                print("     disagree:", {r: fn(ln) for r, fn in RULES.items()})

print("\n(b) lines feeding correctly read fields (claim documents):")
for scope in ("key, no person", "key, all", "any, no person"):
    sel = []
    for d in claim:
        if "no person" in scope and d["person"]:
            continue
        for f in d["fields"]:
            if not f["ok"] or (scope.startswith("key") and f["field"] not in KEY_FIELDS):
                continue
            ln = line_of(d, f)
            if ln:
                sel.append((d, f, ln))
    print(f"  {scope}: {len(sel)} field lines")
    for r, fn in RULES.items():
        bad = [(d["file"], f["field"], ln["first"], ln["pad"], ln["stretch"]) for d, f, ln in sel if fn(ln)]
        print(f"    {r:12s} {len(bad) / max(len(sel), 1):.3f} ({len(bad)})")
        if r in ("pad", "stretch", "pad|stretch") and scope == "key, no person":
            for b in bad:
                print("       ", b)

print("\ndocument cost: claim documents no person sees today, that the rule would send (any labelled-field")
print("line among the extraction's fields disagreeing; key fields only / all fields):")
unseen = [d for d in claim if not d["person"]]
for r, fn in RULES.items():
    for scope in ("key", "any"):
        sent = 0
        caught = 0
        for d in unseen:
            fl = [
                (f, line_of(d, f))
                for f in d["fields"]
                if f["found"] and (scope == "any" or f["field"] in KEY_FIELDS)
            ]
            flag = any(ln is not None and fn(ln) for f, ln in fl)
            sent += flag
            caught += flag and any(not f["ok"] for f in d["fields"] if f["found"])
        print(
            f"  {r:12s} {scope}: sent {sent}/{len(unseen)} unseen docs, of which with a silent error {caught}"
        )

t_ocr = sum(d["t_ocr"] for d in docs if d["pages"])
pages = sum(d["pages"] for d in docs)
print(f"\ntime: OCR {t_ocr / pages:.1f} s/page; extra recognition per variant, s/page:")
for v in VARS:
    print(f"  {v}: {sum(d['t_var'].get(v, 0) for d in docs) / pages:.2f}")

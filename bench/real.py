"""Real bills: the product's own reading of every labelled image in ../shared/data/real_bills.

`python -m bench.real [--json] [--misses FILE] [--limit N]`

Each image is read as `claims extract` reads it (OCR, the doc-type model, the extractors, the checks)
and scored against its label (`real_bills/README.md`): document type; every labelled field and the
key fields exact after normalising (NFKC, no spaces, no surrounding brackets, money with two
decimals, dates ISO; a diagnosis printed with its ICD code before it is right when the name and
the code are both read, each in its field); documents sent to a person; retakes asked (the
`legible` check); silent errors (a wrong value on a document no person looks at, as a share of the
fields read without a person); seconds per page. Per document family (type, capture) as well. The
images are for measuring only: nothing is fitted to them. Results in `bench/results/real.json`; a
skip with a message where the folder is absent (a fresh clone has no ../shared).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from bench.extract import cached_pages, doc_type_model

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real_bills"
RESULTS = REPO / "bench" / "results" / "real.json"

KEY_FIELDS = (
    "total_amount",
    "invoice_number",
    "issue_date",
    "hospital",
    "payer_name",
    "patient_name",
    "fund_paid",
    "cash_paid",
    "visit_date",
    "admission_date",
    "discharge_date",
    "diagnosis",
)
MONEY = {"total_amount", "fund_paid", "account_paid", "cash_paid", "copay", "self_pay"}
DATES = {"issue_date", "visit_date", "admission_date", "discharge_date", "birth_date"}
_BRACKETS = "()（）[]【】"


def normalise(name: str, value: object) -> str:
    """The issue's comparison: NFKC, no spaces, no surrounding brackets, money 2dp, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
    text = text.strip(_BRACKETS)
    if name in MONEY:
        try:
            return format(Decimal(text.replace(",", "").lstrip("¥￥")).quantize(Decimal("0.01")), "f")
        except InvalidOperation:
            return text
    if name in DATES:
        m = re.fullmatch(r"(\d{4})[-年./]?(\d{1,2})[-月./]?(\d{1,2})日?", text)
        if m:
            return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    return text


def labels(limit: int | None = None) -> list[dict[str, Any]]:
    """The real set's labels in file order (the first `limit`); bench.doctype scores with them too."""
    files = sorted((REAL / "labels").glob("*.json"))
    labels = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    return labels[:limit] if limit else labels


_CODED = re.compile(r"^[(（]([A-Z]\d{2}(?:\.[0-9xX]+)?)[)）](.+)$")
"""A diagnosis printed with its ICD-10 code before it: `(C50.801)乳腺恶性肿瘤，上部`."""


def _labelled(name: str, value: object, got: dict[str, Any]) -> str:
    """The label as the product reads it: a diagnosis printed with its code is read as its name,
    the code going to `diagnosis_code`, so the name is what is compared, if the code was read too."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
    coded = _CODED.match(text) if name.startswith("diagnosis") else None
    code = got.get(name.replace("diagnosis", "diagnosis_code", 1)) if coded else None
    if coded and code is not None and str(code.value).upper() == coded.group(1).upper():
        return normalise(name, coded.group(2))
    return normalise(name, value)


def score(label: dict[str, Any], ex: Any) -> list[dict[str, Any]]:
    """Each labelled field: what was read, and whether it is right."""
    got = {f.name: f for f in ex.fields}
    out = []
    for name, value in label["fields"].items():
        want = _labelled(name, value, got)
        field = got.get(name)
        have = normalise(name, field.value if field is not None else None)
        out.append(
            {
                "field": name,
                "key": name in KEY_FIELDS,
                "want": want,
                "got": have,
                "ok": have == want,
                "found": bool(have),
                "confidence": round(field.confidence, 3) if field is not None else None,
            }
        )
    return out


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def run(limit: int | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from classifiers.doc_type import predict_doc_type
    from pipeline.extract.documents import extract

    model = doc_type_model()
    docs, misses = [], []
    for label in labels(limit):
        path = REAL / "images" / label["file"]
        t0 = time.perf_counter()
        try:
            pages = cached_pages(path)
        except Exception as exc:  # an unreadable file is a result, not a crash of the bench
            docs.append({"file": label["file"], "error": f"{type(exc).__name__}: {exc}", "label": label})
            continue
        t_ocr = time.perf_counter() - t0
        ex = extract(pages, lambda p: predict_doc_type(model, p))
        fields = score(label, ex)
        person = bool(ex.needs_review)
        docs.append(
            {
                "file": label["file"],
                "family": f"{label['doc_type']}/{label['capture']}",
                "doc_type": label["doc_type"],
                "got_type": ex.doc_type.value,
                "confidence": round(ex.doc_type_confidence, 3),
                "person": person,
                "why": sorted({c.name for c in ex.checks if not c.passed}),
                "retake": ex.illegible,
                "pages": len(pages),
                "seconds": round(t_ocr, 2),
                "fields": fields,
            }
        )
        for f in fields:
            if not f["ok"]:
                misses.append({"file": label["file"], "doc_type": label["doc_type"], "person": person, **f})
    return summarise(docs), misses


SWEEP = (0.8, 0.85, 0.9, 0.95, 0.97, 0.99)
"""Key-field confidence thresholds the sweep tries (the product's is `FIELD_MIN_CONFIDENCE`)."""


def confidence_sweep(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a stricter key-field threshold would buy: per threshold, the share of claim documents
    sent to a person (also those a key field read below it would send) and the silent errors left.
    Misreadings the reader is sure of are caught only by a threshold that sends most documents."""
    out = []
    for t in SWEEP:
        unsure = [
            d["person"] or any(f["key"] and f["found"] and (f["confidence"] or 0) < t for f in d["fields"])
            for d in docs
        ]
        unseen = [f for d, u in zip(docs, unsure, strict=True) if not u for f in d["fields"] if f["found"]]
        out.append(
            {
                "threshold": t,
                "sent_to_person": _rate(sum(unsure), len(docs)),
                "fields_read_without_person": len(unseen),
                "silent_errors": _rate(sum(not f["ok"] for f in unseen), len(unseen)),
            }
        )
    return out


def summarise(docs: list[dict[str, Any]]) -> dict[str, Any]:
    read = [d for d in docs if "error" not in d]
    claim_docs = [d for d in read if d["doc_type"] != "other"]
    fields = [f for d in read for f in d["fields"]]
    key = [f for f in fields if f["key"]]
    unseen = [f for d in read if not d["person"] for f in d["fields"] if f["found"]]
    families: dict[str, Counter[str]] = defaultdict(Counter)
    for d in read:
        c = families[d["family"]]
        c["documents"] += 1
        c["type_ok"] += d["got_type"] == d["doc_type"]
        c["fields"] += len(d["fields"])
        c["exact"] += sum(f["ok"] for f in d["fields"])
        c["person"] += d["person"]
        c["retake"] += d["retake"]
    pages = sum(d["pages"] for d in read)
    return {
        "documents": len(docs),
        "unreadable": [d["file"] for d in docs if "error" in d],
        "claim_documents": len(claim_docs),
        "doc_type_accuracy": _rate(sum(d["got_type"] == d["doc_type"] for d in read), len(read)),
        "others_taken_for_claim_documents": [
            d["file"] for d in read if d["doc_type"] == "other" and d["got_type"] != "other"
        ],
        "fields": len(fields),
        "fields_exact": _rate(sum(f["ok"] for f in fields), len(fields)),
        "fields_not_found": _rate(sum(not f["found"] for f in fields), len(fields)),
        "key_fields": len(key),
        "key_fields_exact": _rate(sum(f["ok"] for f in key), len(key)),
        "sent_to_person": _rate(sum(d["person"] for d in claim_docs), len(claim_docs)),
        "retakes_asked": _rate(sum(d["retake"] for d in claim_docs), len(claim_docs)),
        "fields_read_without_person": len(unseen),
        "silent_errors": _rate(sum(not f["ok"] for f in unseen), len(unseen)),
        "seconds_per_page": round(sum(d["seconds"] for d in read) / pages, 2) if pages else None,
        "confidence_sweep": confidence_sweep(claim_docs),
        "by_family": {
            k: {
                "documents": c["documents"],
                "doc_type": _rate(c["type_ok"], c["documents"]),
                "fields_exact": _rate(c["exact"], c["fields"]),
                "fields": c["fields"],
                "to_person": c["person"],
                "retakes": c["retake"],
            }
            for k, c in sorted(families.items())
        },
        "documents_detail": [  # why: the failed checks that sent the document to a person
            {
                k: d.get(k)
                for k in ("file", "family", "got_type", "confidence", "person", "why", "retake", "error")
            }
            for d in docs
        ],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print only the JSON line")
    ap.add_argument("--limit", type=int, default=None, help="the first N images only")
    ap.add_argument("--misses", type=Path, default=None, help="write every miss as JSON lines here")
    args = ap.parse_args(argv)
    if not (REAL / "labels").is_dir():
        print(f"bench.real: skipped: no real bills at {REAL} (a fresh clone has no ../shared)")
        return 0
    t0 = time.perf_counter()
    report, misses = run(args.limit)
    report["seconds"] = round(time.perf_counter() - t0, 1)
    report["targets"] = {
        "doc_type>=0.95": (report["doc_type_accuracy"] or 0) >= 0.95,
        "key_fields_exact>=0.90": (report["key_fields_exact"] or 0) >= 0.90,
        "retakes<=0.05": (report["retakes_asked"] or 0) <= 0.05,
        "silent_errors<=0.01": (report["silent_errors"] or 0) <= 0.01,
    }
    if args.misses:
        args.misses.write_text(
            "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in misses), encoding="utf-8"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if not args.json:
        r = report
        print(
            f"real bills: {r['documents']} documents ({r['claim_documents']} claim documents), doc type"
            f" {r['doc_type_accuracy']}; fields {r['fields']} exact {r['fields_exact']} (not found"
            f" {r['fields_not_found']}); key fields {r['key_fields']} exact {r['key_fields_exact']}"
        )
        print(
            f"  to a person {r['sent_to_person']}, retakes {r['retakes_asked']}, silent errors"
            f" {r['silent_errors']} of {r['fields_read_without_person']} fields read without a person;"
            f" {r['seconds_per_page']} s per page"
        )
        for k, v in r["by_family"].items():
            print(f"  {k:32s} {v}")
        for row in r["confidence_sweep"]:
            print(
                f"  key fields below {row['threshold']:.2f} to a person too: to a person"
                f" {row['sent_to_person']}, silent errors {row['silent_errors']}"
                f" of {row['fields_read_without_person']}"
            )
        if r["others_taken_for_claim_documents"]:
            print(f"  not claim documents, read as one: {r['others_taken_for_claim_documents']}")
    print(json.dumps({k: v for k, v in report.items() if k != "documents_detail"}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

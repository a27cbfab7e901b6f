"""The readers' own misses as an error model: which fields, what kind of error, flagged or not.

    python -m bench.misreadings --extract MISSES --real MISSES [--extract-report FILE] [--json]

Reads the `--misses` files of `bench.extract` (synthetic claims rendered and photographed, read end
to end) and `bench.real` (the labelled real bills), puts each miss in one kind (digit swapped,
dropped, added or substituted; value missing; another field's value; text misread; other) and
counts, per field and per field family (amounts, dates, codes, names, text), the fields read, the
misses of each kind and how many the reader flagged (sent the document to a person, or read the
field below the confidence threshold). Fields read are the denominators: `bench.extract`'s report
(`synthetic.by_field`, its JSON line or `bench/results/extract.json`) and the real labels. Born-digital
PDFs (read from their text layer) and documents that are not claim documents are left out. Writes
`synth/data/measured_misreadings.json`, which `synth.misreading` corrupts claim facts with and
`bench.adjudicate` evaluates the ML gate under; prints the table and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from synth.misreading import (
    FAMILIES,
    KINDS,
    MEASURED_FILE,
    ErrorModel,
    FieldErrors,
    KindCount,
    Source,
    field_family,
)

REPO = Path(__file__).resolve().parents[1]
EXTRACT_REPORT = REPO / "bench" / "results" / "extract.json"
UNSURE_BELOW = 0.8
"""Confidence below which the reader lists a field as unsure (`FIELD_MIN_CONFIDENCE`)."""
REBUILD = (
    "python -m bench.extract --claims 10 --seed 4242 --misses extract.jsonl --json > extract.out; "
    "python -m bench.real --misses real.jsonl --json; "
    "python -m bench.misreadings --extract extract.jsonl --extract-report extract.out --real real.jsonl"
)
_FILE_TYPE = re.compile(r"^([a-z_]+?)_\d+(?:_p\d+)?\.\w+$")


def base_field(name: str) -> str:
    """A numbered field as its kind: `diagnosis_2` is a diagnosis."""
    return re.sub(r"_\d+$", "", name)


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(c in it for c in short)


def digit_kind(want: str, got: str) -> str | None:
    """One digit swapped with its neighbour, dropped, added or substituted; None when the digits
    differ more than that (or either value has none)."""
    w, g = _digits(want), _digits(got)
    if not w or not g or w == g:
        return None
    if len(w) == len(g):
        diff = [i for i in range(len(w)) if w[i] != g[i]]
        a = diff[0]
        if len(diff) == 2 and diff[1] == a + 1 and (w[a], w[a + 1]) == (g[a + 1], g[a]):
            return "digit_swapped"
        return "digit_substituted" if len(diff) <= max(1, len(w) // 4) else None
    if 0 < len(w) - len(g) <= 2 and _subsequence(g, w):
        return "digit_dropped"
    if 0 < len(g) - len(w) <= 2 and _subsequence(w, g):
        return "digit_added"
    return None


def classify(field: str, want: str, got: str, *, cause: str | None = None, others: Iterable[str] = ()) -> str:
    """The kind of one miss: `want` the truth, `got` what was read (both normalised; "" unread);
    `others` the values of the document's other fields; `cause` bench.extract's (pairing: a value
    taken from another place)."""
    if not got:
        return "value_missing"
    if got in set(others) - {want} or (cause == "pairing" and want and got):
        return "wrong_field"
    if field_family(field) in ("amounts", "dates", "codes"):  # a number read as quite another: other
        return digit_kind(want, got) or "other"
    if want and difflib.SequenceMatcher(None, want, got).ratio() >= 0.5:
        return "text_misread"
    return "other"


# --- reading the benches' files -------------------------------------------------------------------


def read_lines(path: Path) -> list[dict[str, Any]]:
    """A misses file: one JSON object a line."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not a JSON line ({exc.msg})") from exc
    return out


def read_report(path: Path) -> dict[str, Any]:
    """bench.extract's report: the JSON file, or its stdout whose last line is the JSON object."""
    text = path.read_text(encoding="utf-8").strip()
    for candidate in (text, text.splitlines()[-1] if text else ""):
        try:
            report = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(report, dict) and "synthetic" in report:
            return report
    raise ValueError(f"{path}: not bench.extract's report (no `synthetic` object)")


def doc_type_of(file: str) -> str:
    """The document type a generated file is named after (`C0002/expense_list_1_p2.jpg`)."""
    m = _FILE_TYPE.match(Path(file).name)
    return m.group(1) if m else "unknown"


def report_fields_read(report: dict[str, Any]) -> Counter[str]:
    """Fields bench.extract scored, per field, from its report's `synthetic.by_field`; PDFs left out
    (their text layer is read, not their pixels)."""
    read: Counter[str] = Counter()
    for key, v in report["synthetic"]["by_field"].items():
        group, field = key.split(".", 1)
        if not group.endswith("/pdf"):
            read[base_field(field)] += int(v["n"])
    return read


def corpus_fields_read(corpus: Path) -> Counter[str]:
    """The same count from the corpus bench.extract read (its truth: every field it scores on the
    first photos), for when its report is not at hand."""
    from bench.extract import SKIP_FIELDS
    from synth.facts import read_truth

    return Counter(
        base_field(f.name)
        for t in read_truth(corpus)
        for d in t.documents
        if d.media_type != "application/pdf"
        for f in d.fields
        if f.name not in SKIP_FIELDS
    )


def extract_misses(
    misses: Sequence[dict[str, Any]], read: Counter[str]
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """bench.extract's misses as rows (doc type, field, kind, flags), PDFs left out, beside the
    fields read per field (`report_fields_read` or `corpus_fields_read`)."""
    wants: dict[str, list[str]] = {}
    for m in misses:
        wants.setdefault(m["file"], []).append(m["want"])
    rows: list[dict[str, Any]] = []
    for m in misses:
        if m["file"].lower().endswith(".pdf"):
            continue
        field = base_field(m["field"])
        kind = classify(field, m["want"], m["got"], cause=m.get("cause"), others=wants[m["file"]])
        rows.append(
            {
                "source": "extract",
                "doc_type": doc_type_of(m["file"]),
                "field": field,
                "kind": kind,
                "to_person": bool(m.get("to_person")),
                "unsure": False,  # bench.extract does not record the field's confidence
            }
        )
    return rows, read


def real_misses(
    misses: Sequence[dict[str, Any]], labels: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """bench.real's misses as rows and the labelled fields per field, claim documents only."""
    from bench.real import normalise

    claim_labels = [lab for lab in labels if lab["doc_type"] != "other"]
    read = Counter(base_field(f) for lab in claim_labels for f in lab["fields"])
    values = {lab["file"]: [normalise(k, v) for k, v in lab["fields"].items()] for lab in claim_labels}
    rows: list[dict[str, Any]] = []
    for m in misses:
        if m["doc_type"] == "other" or m["file"] not in values:
            continue
        field = base_field(m["field"])
        confidence = m.get("confidence")
        rows.append(
            {
                "source": "real",
                "doc_type": m["doc_type"],
                "field": field,
                "kind": classify(field, m["want"], m["got"], others=values[m["file"]]),
                "to_person": bool(m.get("person")),
                "unsure": confidence is not None and confidence < UNSURE_BELOW,
            }
        )
    return rows, read


def aggregate(
    rows: Sequence[dict[str, Any]], read: Counter[str], sources: Sequence[Source], min_reads: int = 30
) -> ErrorModel:
    """Per field and per family: reads, misses by kind, flagged."""
    fields = {f: FieldErrors(read=n) for f, n in read.items()}
    for r in rows:
        fe = fields.setdefault(r["field"], FieldErrors())
        fe.add(r["kind"], to_person=r["to_person"], unsure=r["unsure"])
    families = pooled({n: fe for n, fe in fields.items() if fe.read < min_reads})
    return ErrorModel(
        about=(
            "Misreadings of the product's reader, per field read: counts by kind and how many were "
            "flagged (to_person: the document went to a person; unsure: read below the confidence "
            "threshold). A field read fewer than min_reads times is misread by its family's figures, "
            "which pool the fields read fewer than min_reads times."
        ),
        rebuild=REBUILD,
        min_reads=min_reads,
        sources=list(sources),
        fields=dict(sorted(fields.items())),
        families=families,
    )


def pooled(fields: dict[str, FieldErrors]) -> dict[str, FieldErrors]:
    """The fields' reads and misses summed per family."""
    families = {f: FieldErrors() for f in FAMILIES}
    for name, fe in fields.items():
        fam = families[field_family(name)]
        fam.read += fe.read
        for kind, k in fe.kinds.items():
            into = fam.kinds.setdefault(kind, KindCount())
            into.n, into.to_person, into.unsure = (
                into.n + k.n,
                into.to_person + k.to_person,
                into.unsure + k.unsure,
            )
    return families


def table(model: ErrorModel) -> list[str]:
    """The model as text: one row per field and per family."""
    head = f"{'field':24s} {'family':8s} {'read':>5s} {'miss':>5s} {'rate':>7s} {'flagged':>8s}  kinds"
    lines = [head]

    def row(name: str, family: str, fe: FieldErrors) -> str:
        kinds = ", ".join(f"{k} {fe.kinds[k].n}" for k in KINDS if k in fe.kinds)
        flagged = f"{fe.flagged}/{fe.misses}" if fe.misses else "-"
        return f"{name:24s} {family:8s} {fe.read:5d} {fe.misses:5d} {fe.rate:7.4f} {flagged:>8s}  {kinds}"

    lines += [row(n, field_family(n), fe) for n, fe in model.fields.items() if fe.read or fe.misses]
    lines.append(
        f"families: the fields read fewer than {model.min_reads} times, pooled (what they are misread by)"
    )
    lines += [row(n, "family", fe) for n, fe in model.families.items()]
    return lines


def summary(model: ErrorModel) -> dict[str, Any]:
    """The whole model in a few figures (every field, whatever its reads)."""
    fams = pooled(model.fields)
    read, misses = sum(f.read for f in fams.values()), sum(f.misses for f in fams.values())
    silent = misses - sum(f.flagged for f in fams.values())
    return {
        "bench": "misreadings",
        "sources": [s.model_dump() for s in model.sources],
        "fields_read": read,
        "misses": misses,
        "miss_rate": round(misses / read, 5) if read else None,
        "unflagged_miss_rate": round(silent / read, 5) if read else None,
        "by_family": {
            k: {"read": f.read, "misses": f.misses, "flagged": f.flagged, "rate": round(f.rate, 5)}
            for k, f in fams.items()
        },
        "kinds": {k: sum(f.kinds[k].n for f in fams.values() if k in f.kinds) for k in KINDS},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extract", type=Path, help="bench.extract --misses file")
    ap.add_argument("--extract-report", type=Path, default=EXTRACT_REPORT, help="bench.extract's report")
    ap.add_argument("--extract-corpus", type=Path, help="or the corpus it read, to count the fields read")
    ap.add_argument("--real", type=Path, help="bench.real --misses file")
    ap.add_argument("--out", type=Path, default=MEASURED_FILE)
    ap.add_argument("--min-reads", type=int, default=30)
    ap.add_argument("--json", action="store_true", help="print only the JSON line")
    args = ap.parse_args(argv)
    if not args.extract and not args.real:
        ap.error("give --extract and/or --real (the benches' --misses files)")
    for name in ("extract", "extract_report", "real"):
        path = getattr(args, name)
        needed = name != "extract_report" or (args.extract and not args.extract_corpus)
        if path is not None and needed and not path.is_file():
            ap.error(f"--{name.replace('_', '-')} {path}: no such file")
    rows: list[dict[str, Any]] = []
    read: Counter[str] = Counter()
    sources: list[Source] = []
    try:
        if args.extract:
            if args.extract_corpus:
                read_e, where = corpus_fields_read(args.extract_corpus), str(args.extract_corpus)
            else:
                report = read_report(args.extract_report)
                read_e, where = report_fields_read(report), report["synthetic"].get("corpus", "?")
            r, n = extract_misses(read_lines(args.extract), read_e)
            rows, read = rows + r, read + n
            sources.append(
                Source(
                    name="extract",
                    file=str(args.extract),
                    command=f"bench.extract --misses, corpus {where}, first photos, PDFs left out",
                    misses=len(r),
                    fields_read=n.total(),
                )
            )
        if args.real:
            from bench.real import REAL, labels

            if not (REAL / "labels").is_dir():
                ap.error(f"--real: no labels at {REAL / 'labels'} to count the fields read")
            r, n = real_misses(read_lines(args.real), labels())
            rows, read = rows + r, read + n
            sources.append(
                Source(
                    name="real",
                    file=str(args.real),
                    command="bench.real --misses, claim documents of the labelled real bills",
                    misses=len(r),
                    fields_read=n.total(),
                )
            )
    except (ValueError, KeyError, FileNotFoundError) as exc:
        ap.error(str(exc))
    model = aggregate(rows, read, sources, args.min_reads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(model.model_dump_json(indent=1) + "\n", encoding="utf-8")
    if not args.json:
        print("\n".join(table(model)))
        print(f"written to {args.out}")
    print(json.dumps(summary(model), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

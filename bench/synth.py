"""Benchmark: the synthetic corpus generator (issue 3).

    python -m bench.synth [--claims 10000] [--rendered 30] [--json]

Times the structured mode (`render=False`: claims, policies and truth, no pages) on `--claims`
claims, and the rendered mode on `--rendered` claims, reporting the bytes written per document and
in all, which is what keeps the committed `sample_docs/` to a few MB. Timings are wall clock and CPU
seconds of this process (the CPU figure holds when other jobs share the machine). The last stdout line
is one JSON object, also written to bench/results/synth.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from synth.documents import generate_corpus

RESULTS = Path(__file__).resolve().parent / "results" / "synth.json"
TARGETS = {"structured_10k_seconds_max": 10.0, "sample_mb_max": 8.0}


def _timed(out: Path, claims: int, seed: int, render: bool) -> tuple[float, float, int, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    summary = generate_corpus(out, claims, seed, render=render, problem_rate=0.1)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return wall, cpu, summary.documents, size


def run(claims: int, rendered: int, seed: int) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    try:
        s_wall, s_cpu, s_docs, _ = _timed(work / "structured", claims, seed, render=False)
        r_wall, r_cpu, r_docs, r_bytes = _timed(work / "rendered", rendered, seed, render=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per_10k = s_cpu * 10_000 / claims
    return {
        "structured_claims": claims,
        "structured_wall_s": round(s_wall, 2),
        "structured_cpu_s": round(s_cpu, 2),
        "structured_cpu_s_per_10k": round(per_10k, 2),
        "structured_documents": s_docs,
        "rendered_claims": rendered,
        "rendered_documents": r_docs,
        "rendered_wall_s": round(r_wall, 1),
        "rendered_cpu_s": round(r_cpu, 1),
        "rendered_mb": round(r_bytes / 1e6, 2),
        "rendered_kb_per_document": round(r_bytes / 1e3 / max(1, r_docs), 1),
        "targets": TARGETS,
        "met": {
            "structured_10k_seconds_max": per_10k <= TARGETS["structured_10k_seconds_max"],
            "sample_mb_max": r_bytes / 1e6 * 30 / rendered <= TARGETS["sample_mb_max"],
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=10_000)
    ap.add_argument("--rendered", type=int, default=30)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--json", action="store_true", help="only the JSON line")
    args = ap.parse_args()
    result = run(args.claims, args.rendered, args.seed)
    if not args.json:
        for key, value in result.items():
            print(f"{key:>28}: {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

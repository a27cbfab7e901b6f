"""Load on PostgreSQL: adjusters racing in the review app, uploads retried at the intake API, and a
batch of synthetic claims taken end to end; every run checks the store for what must never happen.

`python -m bench.load [--json] [--pg URL] [--seconds 60] [--adjusters 20] [--uploaders 50]
[--claims 1000]`. Each part gets a fresh PostgreSQL database (created beside `--pg`, loopback
only, dropped afterwards) and a real uvicorn server on a free loopback port running `claims serve`'s
app (intake API at /api, review app at /), in a subprocess so clients and server do not share a GIL.

- review: N simulated people (two of them senior adjusters) sign in and, for `--seconds`, take claims
  from the queue, open them, decide (approve, partial, deny, request documents), sometimes release,
  sometimes post the same decision twice at once (a double click), sometimes go for a claim someone
  else holds; seniors also race each other to approve proposals above the authority limit. Then the
  store must show every claim decided at most once, every accepted decision as recorded, and an
  audit trail that matches what the clients saw (views, locks, decisions, approvals, sign-ins).
- intake: M clients upload claims (multipart, 2-4 images, some shared between claims) at once, with
  retries of the same Idempotency-Key mixed in: after the answer, at the same moment (a double
  send), and after a client-side timeout. Then: one claim per key, the same answer to every retry,
  and every document stored with its name and bytes.
- batch: K claims from the synthetic book, sent as hospitals' structured submissions (医疗信息直连,
  no OCR: the hospital's e-invoice, expense list and visit as JSON) to /api/claims/hospital, then
  taken to an outcome by the intake-batch Prefect flow (`--runner flow`, with small models trained
  here) or by the same steps in a plain loop (`--runner steps`, no models: what the tests run).
  Then: an outcome for every accepted claim, no claim twice, no payment twice, no invoice paid twice.

The last stdout line is one JSON object (also written to bench/results/load.json): p50/p95 latencies,
throughput and counts; every count under `anomalies` must be 0. The tests run the same functions on
a few claims for a few seconds (tests/hardening/test_load.py).

The parts live in `bench/loadtest/` (`review.py`, `intake.py`, `hospital.py`), with what they share
(figures, the databases, the server) in `harness.py`; this module runs them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.loadtest.harness import DEFAULT_PG, RESULTS, pg_database
from bench.loadtest.hospital import run_batch
from bench.loadtest.intake import run_intake
from bench.loadtest.review import run_review
from pipeline.settings import Settings

__all__ = ["main", "run_batch", "run_intake", "run_review"]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="(the JSON line is always printed last)")
    parser.add_argument("--pg", default=DEFAULT_PG, help="a loopback PostgreSQL to create databases beside")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the adjusters work")
    parser.add_argument("--adjusters", type=int, default=20, help="people in the review app (2 seniors)")
    parser.add_argument("--review-claims", type=int, default=600)
    parser.add_argument("--uploaders", type=int, default=50, help="concurrent intake clients")
    parser.add_argument("--uploads-each", type=int, default=6)
    parser.add_argument("--claims", type=int, default=1000, help="claims in the end-to-end batch")
    parser.add_argument("--runner", choices=("flow", "steps"), default="flow")
    parser.add_argument(
        "--models", type=Path, default=None, help="a models folder to use instead of training"
    )
    parser.add_argument("--parts", default="review,intake,batch")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    root = Path(tempfile.mkdtemp(prefix="bench-load-"))
    for key, value in Settings(data_dir=root).prefect_env().items():  # before anything imports prefect
        os.environ.setdefault(key, value)
    parts = set(args.parts.split(","))
    out: dict[str, Any] = {"bench": "load", "database": "postgresql (loopback)", "cpus": os.cpu_count()}
    try:
        if "review" in parts:
            with pg_database(args.pg) as url:
                out["review"] = run_review(
                    url,
                    root,
                    claims=args.review_claims,
                    adjusters=args.adjusters - 2,
                    seniors=2,
                    seconds=args.seconds,
                    in_process=False,
                )
        if "intake" in parts:
            with pg_database(args.pg) as url:
                out["intake"] = run_intake(
                    url,
                    root,
                    clients=args.uploaders,
                    per_client=args.uploads_each,
                    size=(320, 240),
                    keys=10,
                    in_process=False,
                )
        if "batch" in parts:
            with pg_database(args.pg) as url:
                out["batch"] = run_batch(
                    url,
                    root,
                    claims=args.claims,
                    clients=8,
                    runner=args.runner,
                    in_process=False,
                    models=args.models,
                )
    finally:  # the data dirs (documents, models, Prefect's home): about 100 MB a run
        shutil.rmtree(root, ignore_errors=True)
    out["anomalies"] = sum(sum(p["anomalies"].values()) for p in out.values() if isinstance(p, dict))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return out


if __name__ == "__main__":
    main()

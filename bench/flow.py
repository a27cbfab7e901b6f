"""Claims per minute through the Prefect batch flow vs the same steps in a plain loop, same run.

`python -m bench.flow [--json] [--claims N]`: generates N rendered synthetic claims, OCRs them once
into a shared OCR cache (timed and reported as the cold OCR cost), then times both paths with the
cache warm, each on its own fresh case store: the difference is the flow's overhead (Prefect task
and state bookkeeping), which should stay within 10%. Models are small ones trained from synthetic
data for the bench. The last stdout line is one JSON object, also written to bench/results/flow.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

RESULTS = Path(__file__).resolve().parent / "results" / "flow.json"


def _data_dir(root: Path, name: str, models: Path, cache: Path) -> Any:
    from pipeline.settings import Settings

    d = root / name
    d.mkdir(parents=True)
    (d / "models").symlink_to(models, target_is_directory=True)
    # a reading is reused only with the page images its boxes refer to, so both are shared
    for sub in ("ocr-cache", "page-images"):
        (cache / sub).mkdir(parents=True, exist_ok=True)
        (d / sub).symlink_to(cache / sub, target_is_directory=True)
    return Settings(data_dir=d)


def plain_loop(folder: Path, settings: Any, chunk: int = 50) -> dict[str, float]:
    """The flow's steps, in order, without Prefect; seconds per stage."""
    from flows import steps
    from pipeline.records import DocStatus
    from pipeline.store import open_store

    t: dict[str, float] = defaultdict(float)
    store = open_store(settings)
    t0 = time.perf_counter()
    report = steps.ingest_step(folder, store, settings)
    models = steps.load_models(settings)
    key = steps.reader_key()
    t["ingest"] += time.perf_counter() - t0
    claims = store.list_claims(batch_id=report.batch_id)
    t0 = time.perf_counter()
    for c in claims:
        for d in c.documents:
            if d.status is DocStatus.STORED:
                steps.ocr_step(store, settings, d.id, key)
    t["ocr"] += time.perf_counter() - t0
    ids = [c.claim_id for c in claims]
    for i in range(0, len(ids), chunk):
        t0 = time.perf_counter()
        facts = []
        for cid in ids[i : i + chunk]:
            try:
                facts.append(steps.extract_step(store, cid, key, models))
            except Exception as exc:  # as the flow does: recorded on the claim
                steps.error_outcome(store, cid, f"extraction failed: {exc}")
        t["extract"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        scores = steps.fraud_step(store, facts, models)
        t["fraud"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        for f in facts:
            steps.decide_step(store, f, scores.get(f.claim.claim_id), models, settings)
            steps.payout_step(store, f, f.claim.claim_id, issued_by="bench.flow")
        t["decide_and_pay"] += time.perf_counter() - t0
    return dict(t)


def _warm_up_prefect() -> None:
    from prefect import flow

    @flow(name="bench-warm-up")
    def warm_up() -> None:
        return None

    warm_up()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--json", action="store_true", help="(the JSON line is always printed last)")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="bench-flow-"))
    from pipeline.settings import Settings

    for k, v in Settings(data_dir=root).prefect_env().items():
        os.environ.setdefault(k, v)
    from flows.claims_batch import claims_batch
    from flows.models import train_doc_type_model, train_fraud_on_synthetic, train_gate_model
    from pipeline.registry import ModelRegistry
    from synth.documents import generate_corpus

    home = Settings(data_dir=root / "models-home")
    registry = ModelRegistry(home.models_dir)
    for name, train in (
        # champions for the flow to use, not to measure: small frozen holdouts
        ("doc-type", lambda: train_doc_type_model(home, claims=80, holdout_claims=10)),
        ("adjudication-gate", lambda: train_gate_model(home, claims=1000, holdout_claims=400)),
        ("fraud", lambda: train_fraud_on_synthetic(home, rows=30_000)),
    ):
        registry.promote(name, train().version)
    cache = root / "ocr-cache"
    cache.mkdir()
    folder = root / "corpus"
    summary = generate_corpus(folder, args.claims, args.seed, render=True)

    warm = _data_dir(root, "warm", home.models_dir, cache)
    t0 = time.perf_counter()
    cold = plain_loop(folder, warm)  # fills the OCR cache; its OCR time is the cold cost
    cold_total = time.perf_counter() - t0

    loop_settings = _data_dir(root, "loop", home.models_dir, cache)
    t0 = time.perf_counter()
    stages = plain_loop(folder, loop_settings)
    loop_seconds = time.perf_counter() - t0

    flow_settings = _data_dir(root, "flow", home.models_dir, cache)
    t0 = time.perf_counter()
    _warm_up_prefect()  # the ephemeral API server starts once per process; not part of a batch's cost
    server_start = time.perf_counter() - t0
    t0 = time.perf_counter()
    claims_batch(str(folder), str(flow_settings.data_dir))
    flow_seconds = time.perf_counter() - t0

    # the same batch through the flow with OCR included (an empty cache), against the cold plain loop
    cold_cache = root / "ocr-cache-cold-flow"
    cold_cache.mkdir()
    cold_flow_settings = _data_dir(root, "flow-cold", home.models_dir, cold_cache)
    t0 = time.perf_counter()
    claims_batch(str(folder), str(cold_flow_settings.data_dir))
    cold_flow_seconds = time.perf_counter() - t0

    n = args.claims
    result = {
        "bench": "flow",
        "claims": n,
        "documents": summary.documents,
        "ocr": "flow_overhead: both paths OCR every page (cold caches); *_ocr_cached: both with OCR cached",
        "ocr_cold_seconds": round(cold["ocr"], 2),
        "cold_plain_loop_seconds": round(cold_total, 2),
        "plain_loop_seconds": round(loop_seconds, 2),
        "flow_seconds": round(flow_seconds, 2),
        "plain_claims_per_minute": round(n / loop_seconds * 60, 1),
        "flow_claims_per_minute": round(n / flow_seconds * 60, 1),
        "cold_claims_per_minute": round(n / cold_total * 60, 1),
        "flow_overhead_ocr_cached": round(flow_seconds / loop_seconds - 1, 4),
        "cold_flow_seconds": round(cold_flow_seconds, 2),
        "cold_flow_claims_per_minute": round(n / cold_flow_seconds * 60, 1),
        "flow_overhead": round(cold_flow_seconds / cold_total - 1, 4),
        "target_overhead": 0.10,
        "stage_seconds": {k: round(v, 3) for k, v in stages.items()},
        "prefect_server_start_seconds": round(server_start, 2),
        "note": "the ephemeral Prefect API server is started before the flow is timed (once per process)",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()

"""Fraud model benchmark: history generation, features, local and Dask training, scoring throughput.

    python -m bench.fraud [--rows 1000000] [--json]

Generates a claims history with planted fraud (synth.history), builds the past-only features, trains
the LightGBM pipeline locally with early stopping and calibration, scores the held-out months, then
trains the same model on a local Dask cluster (2 worker processes) for comparison. The last stdout
line is one JSON object, also written to bench/results/fraud.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from fraud.model import FraudClassifier, FraudScorer, train_fraud_model
from pipeline.records import FraudBand
from synth.history import generate_history

RESULTS = Path(__file__).resolve().parent / "results" / "fraud.json"
_KEYS = ("roc_auc", "pr_auc", "recall_at_1pct", "recall_at_5pct", "precision_at_1pct", "base_rate")


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: metrics.get(k) for k in _KEYS}


def run(rows: int, seed: int = 0, dask: bool = True, score_rows: int = 20_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-fraud-") as tmp:
        summary = generate_history(rows, Path(tmp) / "history.parquet", seed=seed)
        t0 = time.perf_counter()
        history = pd.read_parquet(summary.path)
        read_seconds = time.perf_counter() - t0
    local_model, local = train_fraud_model(history, classifier=FraudClassifier(n_jobs=1))
    # scoring throughput on the newest claims, with the history before them
    claims, past = history.iloc[-score_rows:], history.iloc[:-score_rows]
    throughput: dict[str, float] = {}
    for tag, explain in (("all_reasons", FraudBand.LOW), ("flagged_reasons", FraudBand.MEDIUM)):
        scorer = FraudScorer(local_model, explain_from=explain)
        t0 = time.perf_counter()
        scorer.score_frame(claims, past)
        throughput[f"score_claims_per_s_{tag}"] = len(claims) / (time.perf_counter() - t0)
    features = local_model.named_steps["features"]
    clf = local_model.named_steps["classifier"]
    F = features.transform(history)  # already timed in the report; here only for model-only speed
    t0 = time.perf_counter()
    clf.predict_proba(F.iloc[-score_rows:])
    throughput["score_claims_per_s_model_only"] = score_rows / (time.perf_counter() - t0)
    result: dict[str, Any] = {
        "bench": "fraud",
        "rows": rows,
        "seed": seed,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "history": {
            "seconds": round(summary.seconds, 2),
            "rows_per_s": round(rows / summary.seconds),
            "bytes": summary.bytes,
            "fraud_rate": round(summary.fraud_rate, 4),
            "read_seconds": round(read_seconds, 2),
        },
        "features_seconds": round(local.seconds["features"], 2),
        "local": {
            **_headline(local.metrics),
            "train_seconds": round(local.seconds["train"], 2),
            "best_iteration": local.best_iteration,
            "test_period": local.test_period,
            "by_month": {m: _headline(v) for m, v in local.metrics.get("by_month", {}).items()},
        },
        **{k: round(v) for k, v in throughput.items()},
    }
    if dask:
        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            client.wait_for_workers(2)
            start_seconds = time.perf_counter() - t0
            n_estimators = max(100, int(local.best_iteration * 1.5))  # dask trains every round, then picks
            _, dist = train_fraud_model(
                history, classifier=FraudClassifier(n_estimators=n_estimators), client=client
            )
        result["dask"] = {
            **_headline(dist.metrics),
            "workers": 2,
            "n_estimators": n_estimators,
            "best_iteration": dist.best_iteration,
            "train_seconds": round(dist.seconds["train"], 2),
            "cluster_start_seconds": round(start_seconds, 2),
            "roc_auc_minus_local": round((dist.metrics["roc_auc"] or 0) - (local.metrics["roc_auc"] or 0), 4),
        }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask comparison")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = run(args.rows, args.seed, dask=not args.no_dask)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if not args.json:
        local = result["local"]
        h = result["history"]
        print(f"history  {args.rows} rows in {h['seconds']}s, fraud {h['fraud_rate']:.2%}")
        print(f"features {result['features_seconds']}s")
        print(
            f"local    ROC-AUC {local['roc_auc']:.3f} PR-AUC {local['pr_auc']:.3f} recall@1% "
            f"{local['recall_at_1pct']:.3f} recall@5% {local['recall_at_5pct']:.3f}"
            f" train {local['train_seconds']}s"
        )
        if "dask" in result:
            d = result["dask"]
            print(f"dask     ROC-AUC {d['roc_auc']:.3f} PR-AUC {d['pr_auc']:.3f} train {d['train_seconds']}s")
        print(
            f"scoring  {result['score_claims_per_s_all_reasons']} claims/s with reasons, "
            f"{result['score_claims_per_s_model_only']} claims/s model only"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()

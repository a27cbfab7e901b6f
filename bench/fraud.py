"""Fraud model benchmark: the whole training pipeline against raw LightGBM, memory, scoring, quality.

    python -m bench.fraud [--rows 1000000] [--threads 1] [--dask] [--json]

1. Generates a claims history with planted fraud (synth.history); timed, not part of the pipeline.
2. The pipeline, as `claims fraud train` runs it: read the parquet file, build the past-only
   features, fit LightGBM with early stopping on the validation months and calibrate, score the
   held-out months (`fraud.training.train_fraud_model`).
3. Raw training: `lightgbm.train` with the same parameters for the same number of rounds on the
   same float32 matrix the pipeline trained on (rebuilt after the pipeline, untimed), without a
   validation set or anything else. The ratio pipeline / raw is the cost of everything that is not
   boosting (target <= 1.5).
4. Scoring the held-out months in batch: probabilities and bands for every claim
   (`FraudScorer.score_features`), reasons (TreeSHAP `pred_contrib`) only for the claims in the
   medium and high bands, the alert queue an investigator reads; then the same end to end from
   raw claims and their history (`FraudScorer.score_frame`: the past that matters, features,
   scores, reasons).
5. Quality on the held-out months (the synthetic holdout): ROC-AUC, PR-AUC, recall at 1% and 5%.

Wall-clock seconds depend on what else the machine runs, so CPU seconds of this process are given
beside them (the ratios on both), with the load average before and after. Peak memory is the
resident set size sampled every 50 ms per phase, and the process's `ru_maxrss`. `--dask` adds the
same training on a local Dask cluster (2 workers). The last stdout line is one JSON object, also
written to bench/results/fraud.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from fraud import compiled
from fraud.estimator import FraudClassifier, categorical_columns, feature_matrix
from fraud.scoring import FraudScorer
from fraud.training import train_fraud_model
from pipeline.records import FraudBand
from pipeline.settings import get_settings
from synth.history import generate_history

RESULTS = Path(__file__).resolve().parent / "results" / "fraud.json"
_KEYS = ("roc_auc", "pr_auc", "recall_at_1pct", "recall_at_5pct", "precision_at_1pct", "base_rate")
_GIB = 1 << 30
TARGETS = {
    "pipeline_over_raw_max": 1.5,
    "score_claims_per_s_min": 200_000,
    "roc_auc_min": 0.90,
    "peak_rss_gib_max": 24.0,
}


class _Memory:
    """Peak resident set size per phase, sampled from /proc every 50 ms by a daemon thread."""

    def __init__(self) -> None:
        self.peaks: dict[str, float] = {}
        self._phase = "start"
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def rss(self) -> int:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * self._page

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self._note()

    def _note(self) -> None:
        gib = self.rss() / _GIB
        self.peaks[self._phase] = max(self.peaks.get(self._phase, 0.0), gib)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self._note()
        self._phase = name
        try:
            yield
        finally:
            self._note()

    def close(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join()
        return {
            "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / _GIB, 2),
            "peak_rss_gib_by_phase": {k: round(v, 2) for k, v in self.peaks.items()},
        }


class _Clock:
    """Wall and CPU seconds of a block (CPU: this process, all its threads)."""

    def __enter__(self) -> _Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: metrics.get(k) for k in _KEYS}


def _r(x: float, digits: int = 2) -> float:
    return round(float(x), digits)


def _raw_train(
    F: pd.DataFrame, history: pd.DataFrame, test: np.ndarray, clf: FraudClassifier, train_rows: int
) -> _Clock:
    """`lightgbm.train` alone on the pipeline's training rows, parameters and rounds: what the
    pipeline's own fit is measured against."""
    fit_rows = ~test
    y = history["is_fraud"].to_numpy().astype(np.int64)
    valid, _ = clf._valid_mask(y[fit_rows], history.loc[fit_rows, "claim_time"].to_numpy())
    train_frame = F.iloc[np.flatnonzero(fit_rows)[~valid]]
    matrix = feature_matrix(train_frame)
    categorical = categorical_columns(train_frame)
    names = [str(c) for c in train_frame.columns]
    del train_frame
    y_train = y[fit_rows][~valid]
    assert len(y_train) == train_rows, "raw training must see the pipeline's training rows"
    with _Clock() as raw:
        dataset = lgb.Dataset(
            matrix, y_train, feature_name=names, categorical_feature=categorical, free_raw_data=True
        )
        lgb.train(clf.params_, dataset, num_boost_round=clf.rounds_trained_)
    del dataset, matrix
    return raw


def _scoring(
    model: Any, clf: FraudClassifier, F: pd.DataFrame, history: pd.DataFrame, test: np.ndarray
) -> dict[str, Any]:
    """The held-out months scored in batch: probabilities, the alert queue with reasons, from raw
    claims end to end, and LightGBM's own predictor for comparison."""
    first = int(np.flatnonzero(test)[0])
    assert test[first:].all(), "the generator writes claims in time order: the test months are the tail"
    F_test, claims, past = F.iloc[first:], history.iloc[first:], history.iloc[:first]
    scoring: dict[str, Any] = {"claims": int(test.sum()), "threads": clf._threads()}
    alerts = FraudScorer(model, explain_from=FraudBand.MEDIUM)
    # the forest compiled to native code once per model version (kept on disk; here a fresh
    # cache, so the compile is paid and reported): a one-off, not a batch cost
    with tempfile.TemporaryDirectory(prefix="bench-fraud-compiled-") as cache:
        os.environ["CLAIMS_DATA_DIR"] = cache
        get_settings.cache_clear()
        clf._forest = None  # evaluating the test months in training compiled it: compile afresh
        compiled._loaded.clear()
        with _Clock() as compile_clock:
            forest = clf._compiled(len(F_test))
        clf.predict_proba(F_test.iloc[:1000])  # first call pays one-off set-up; not a batch cost
        with _Clock() as proba:
            clf.predict_proba(F_test)
        os.environ.pop("CLAIMS_DATA_DIR")
        get_settings.cache_clear()
    sample = feature_matrix(clf._check(F_test.iloc[:500_000]))
    with _Clock() as lgb_clock:  # LightGBM's own predictor on part of the batch, for comparison
        clf.booster_.predict(
            sample, num_iteration=clf.best_iteration_, raw_score=True, num_threads=clf._threads()
        )
    with _Clock() as batch:
        frame = alerts.score_features(F_test)
    explained = int(frame["reason_1_feature"].notna().sum())
    flagged = int((frame["band"] != FraudBand.LOW.value).sum())
    with _Clock() as end_to_end:
        alerts.score_frame(claims, past)
    n = len(F_test)
    scoring.update(
        {
            "score_claims_per_s": round(n / proba.wall),
            "score_claims_per_cpu_s": round(n / proba.cpu) if proba.cpu else None,
            "batch_with_alert_reasons_claims_per_s": round(n / batch.wall),
            "batch_with_alert_reasons_claims_per_cpu_s": round(n / batch.cpu) if batch.cpu else None,
            "alerts": flagged,
            "alerts_share": _r(flagged / n, 4),
            "alerts_explained": explained,
            "reasons_policy": (
                "reasons (TreeSHAP pred_contrib, top 3, worded) for claims in the medium and high bands"
                " only: the alert queue; low-band claims get a score and band without reasons"
            ),
            "end_to_end_claims_per_s": round(n / end_to_end.wall),
            "end_to_end_seconds": _r(end_to_end.wall),
            "end_to_end_note": (
                "score_frame from raw claims: the past that matters (2 years + shared entities),"
                " features over it and the claims, scores, bands, reasons for alerts"
            ),
            "trees": clf.best_iteration_,
            "scorer": "native code (lleaves)" if forest is not None else "lightgbm",
            "compile_seconds": _r(compile_clock.wall),
            "lightgbm_predict_claims_per_s": round(len(sample) / lgb_clock.wall),
        }
    )
    return scoring


def run(rows: int, seed: int = 0, threads: int = 1, dask: bool = False) -> dict[str, Any]:
    memory = _Memory()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-fraud-") as tmp:
        path = Path(tmp) / "history.parquet"
        with memory.phase("generate"), _Clock() as gen:
            summary = generate_history(rows, path, seed=seed)

        # the pipeline as `claims fraud train --history FILE` runs it: hash and read the file,
        # features, fit (early stopping, calibration), score the test months
        classifier = FraudClassifier(n_jobs=threads)
        with memory.phase("pipeline"), _Clock() as pipeline:
            model, report = train_fraud_model(path, classifier=classifier)
        with _Clock() as read:
            history = pd.read_parquet(path)
    features = model.named_steps["features"]
    clf: FraudClassifier = model.named_steps["classifier"]
    secs = report.seconds
    boosting = {"wall": secs["features"] + secs["fit"], "cpu": secs["features_cpu"] + secs["fit_cpu"]}

    # raw lightgbm.train on the same matrix, same parameters, same number of rounds
    with memory.phase("raw_train"):
        F = features.transform(history)
        test = (history["claim_time"] >= pd.Timestamp(report.test_period.split("..")[0] + "-01")).to_numpy()
        raw = _raw_train(F, history, test, clf, report.train_rows)
    with memory.phase("score"):
        scoring = _scoring(model, clf, F, history, test)
    load_after = os.getloadavg()
    mem = memory.close()
    ratio = {k: _r(boosting[k] / v, 3) for k, v in (("wall", raw.wall), ("cpu", raw.cpu)) if v}
    local = report.metrics
    result: dict[str, Any] = {
        "bench": "fraud",
        "rows": rows,
        "seed": seed,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "lightgbm": lgb.__version__,
            "threads": threads,
            "load_avg_before": [_r(x) for x in load_before],
            "load_avg_after": [_r(x) for x in load_after],
        },
        "history": {
            "seconds": _r(gen.wall),
            "rows_per_s": round(rows / gen.wall),
            "bytes": summary.bytes,
            "fraud_rate": _r(summary.fraud_rate, 4),
        },
        "pipeline": {
            "read_seconds": _r(read.wall),
            "features_seconds": _r(secs["features"]),
            "features_cpu_seconds": _r(secs["features_cpu"]),
            "features_rows_per_s": round(rows / secs["features"]),
            "fit_seconds": _r(secs["fit"]),
            "fit_cpu_seconds": _r(secs["fit_cpu"]),
            "features_plus_fit_seconds": _r(boosting["wall"]),
            "features_plus_fit_cpu_seconds": _r(boosting["cpu"]),
            "total_seconds": _r(pipeline.wall),
            "total_cpu_seconds": _r(pipeline.cpu),
            "train_rows": report.train_rows,
            "valid_rows": report.valid_rows,
            "rounds_trained": clf.rounds_trained_,
            "best_iteration": clf.best_iteration_,
        },
        "raw_train": {
            "seconds": _r(raw.wall),
            "cpu_seconds": _r(raw.cpu),
            "rounds": clf.rounds_trained_,
            "what": "lgb.Dataset + lgb.train, same params, rounds and float32 matrix, no validation",
        },
        "pipeline_over_raw": ratio,
        "memory": mem,
        "scoring": scoring,
        "quality": {
            **_headline(local),
            "test_period": report.test_period,
            "test_rows": report.test_rows,
            "by_month": {m: _headline(v) for m, v in local.get("by_month", {}).items()},
        },
    }
    result["targets"] = {
        **TARGETS,
        "met": {
            "pipeline_over_raw": bool(ratio.get("cpu", np.inf) <= TARGETS["pipeline_over_raw_max"]),
            "score_claims_per_s": bool(scoring["score_claims_per_s"] >= TARGETS["score_claims_per_s_min"]),
            "roc_auc": bool((local.get("roc_auc") or 0) >= TARGETS["roc_auc_min"]),
            "peak_rss": bool(mem["peak_rss_gib"] <= TARGETS["peak_rss_gib_max"]),
        },
    }
    if dask:
        result["dask"] = _dask(history, report.best_iteration)
    return result


def _dask(history: pd.DataFrame, best_iteration: int) -> dict[str, Any]:
    """The same training on a local Dask cluster of 2 worker processes, for comparison."""
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(2)
        start_seconds = time.perf_counter() - t0
        n_estimators = max(100, int(best_iteration * 1.5))  # dask trains every round, then picks
        _, dist = train_fraud_model(
            history, classifier=FraudClassifier(n_estimators=n_estimators), client=client
        )
    return {
        **_headline(dist.metrics),
        "workers": 2,
        "n_estimators": n_estimators,
        "best_iteration": dist.best_iteration,
        "train_seconds": _r(dist.seconds["train"]),
        "cluster_start_seconds": _r(start_seconds),
    }


def _print(result: dict[str, Any]) -> None:
    p, raw, s, q, m = (result[k] for k in ("pipeline", "raw_train", "scoring", "quality", "memory"))
    h = result["history"]
    ratio = result["pipeline_over_raw"]
    print(f"history   {result['rows']} rows in {h['seconds']}s, fraud {h['fraud_rate']:.2%}")
    print(
        f"pipeline  features {p['features_seconds']}s + fit {p['fit_seconds']}s"
        f" ({p['rounds_trained']} rounds, best {p['best_iteration']}) = {p['features_plus_fit_seconds']}s"
        f" wall, {p['features_plus_fit_cpu_seconds']}s CPU"
    )
    print(
        f"raw       lightgbm.train {raw['seconds']}s wall, {raw['cpu_seconds']}s CPU ({raw['rounds']} rounds)"
    )
    print(f"ratio     pipeline / raw: {ratio.get('wall')} wall, {ratio.get('cpu')} CPU (target <= 1.5)")
    print(f"memory    peak RSS {m['peak_rss_gib']} GiB; by phase {m['peak_rss_gib_by_phase']}")
    print(
        f"scoring   {s['score_claims_per_s']} claims/s ({s['score_claims_per_cpu_s']} per CPU-s)"
        f" by {s['scorer']}"
        f" ({s['trees']} trees, compiled in {s['compile_seconds']} s; LightGBM's predictor"
        f" {s['lightgbm_predict_claims_per_s']} claims/s);"
        f" with alert reasons {s['batch_with_alert_reasons_claims_per_s']} claims/s"
        f" ({s['alerts_explained']} alerts explained); end to end {s['end_to_end_claims_per_s']} claims/s"
    )
    print(
        f"quality   ROC-AUC {q['roc_auc']:.4f} PR-AUC {q['pr_auc']:.4f} recall@1% {q['recall_at_1pct']:.3f}"
        f" recall@5% {q['recall_at_5pct']:.3f} on {q['test_period']} ({q['test_rows']} claims)"
    )
    if "dask" in result:
        d = result["dask"]
        print(f"dask      ROC-AUC {d['roc_auc']:.4f} PR-AUC {d['pr_auc']:.4f} train {d['train_seconds']}s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, default=1, help="LightGBM threads (1: steadiest on a shared machine)"
    )
    parser.add_argument("--dask", action="store_true", help="also train on a local Dask cluster")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = run(args.rows, args.seed, threads=args.threads, dask=args.dask)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if not args.json:
        _print(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

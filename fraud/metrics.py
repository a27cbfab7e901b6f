"""How good a fraud score is: ROC-AUC, PR-AUC and what an alert team reading the top 1% / 5% catches.

One place for the numbers the classifier validates on, the training report shows and the frozen
holdout judges champion and challenger by, per calendar month too (drift shows up there).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from pipeline.registry import data_hash

__all__ = ["calendar_months", "evaluate", "frame_hash", "fraud_metrics", "month_name"]


def fraud_metrics(y: np.ndarray, score: np.ndarray) -> dict[str, float | int | None]:
    """ROC-AUC, PR-AUC and what an investigation team that reads the top 1% / 5% of alerts catches."""
    y = np.asarray(y).astype(int)
    score = np.asarray(score, dtype=np.float64)
    n, positives = len(y), int(y.sum())
    out: dict[str, float | int | None] = {
        "n": n,
        "positives": positives,
        "base_rate": positives / n if n else None,
    }
    both = 0 < positives < n
    out["roc_auc"] = float(roc_auc_score(y, score)) if both else None
    out["pr_auc"] = float(average_precision_score(y, score)) if both else None
    order = np.argsort(-score, kind="stable")
    for rate, tag in ((0.01, "1pct"), (0.05, "5pct")):
        k = max(1, math.ceil(rate * n)) if n else 0
        caught = int(y[order[:k]].sum())
        out[f"recall_at_{tag}"] = caught / positives if positives else None
        out[f"precision_at_{tag}"] = caught / k if k else None
    return out


def evaluate(y: np.ndarray, score: np.ndarray, when: pd.Series | np.ndarray | None = None) -> dict[str, Any]:
    """Overall metrics and, given claim times, the same per calendar month (drift shows up here)."""
    out: dict[str, Any] = fraud_metrics(y, score)
    if when is not None:
        month = calendar_months(when)
        y, score = np.asarray(y), np.asarray(score)
        out["by_month"] = {
            month_name(m): fraud_metrics(y[month == m], score[month == m]) for m in np.unique(month)
        }
    return out


def calendar_months(when: Any) -> np.ndarray:
    """Calendar month of each time as an integer (months since 1970-01): compared and grouped as
    numbers, not as pandas Period objects, which cost a Python call per claim."""
    ts = pd.to_datetime(pd.Series(np.asarray(when)))
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)  # the month on the local calendar
    return ts.to_numpy().astype("datetime64[M]").astype(np.int64)


def month_name(month: int) -> str:
    """A `calendar_months` integer as the report writes it: 2024-05."""
    return str(np.datetime64(int(month), "M"))


def frame_hash(df: pd.DataFrame) -> str:
    """SHA-256 of a frame's contents (for a model card when the data did not come from one file)."""
    return data_hash(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())

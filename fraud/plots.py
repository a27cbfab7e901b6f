"""Model-card plots as PNG bytes: ROC, precision-recall, calibration and feature importance.

The registry stores whatever PNGs a trainer hands it (`pipeline/` imports no plotting library), so
the plots are drawn here, on matplotlib's Agg canvas (no display, no global pyplot state: safe in a
server, a Prefect worker or a test). Curves over millions of claims are thinned to a few thousand
points first: the picture is the same and the PNG stays small.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

__all__ = ["PLOTS", "model_plots"]

PLOTS = ("roc", "pr", "calibration", "importance")
_MAX_POINTS = 2000


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _thin(*curves: np.ndarray) -> tuple[np.ndarray, ...]:
    n = len(curves[0])
    if n <= _MAX_POINTS:
        return curves
    keep = np.unique(np.r_[np.linspace(0, n - 1, _MAX_POINTS).astype(np.int64), n - 1])
    return tuple(c[keep] for c in curves)


def roc_png(y: np.ndarray, score: np.ndarray, title: str) -> bytes:
    fpr, tpr, _ = roc_curve(y, score)
    fpr, tpr = _thin(fpr, tpr)
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.plot(fpr, tpr, lw=1.5, label=f"ROC-AUC {roc_auc_score(y, score):.3f}")
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8, label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate (recall)", title=f"{title}: ROC")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return _png(fig)


def pr_png(y: np.ndarray, score: np.ndarray, title: str) -> bytes:
    precision, recall, _ = precision_recall_curve(y, score)
    precision, recall = _thin(precision, recall)
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.plot(recall, precision, lw=1.5, label=f"PR-AUC {average_precision_score(y, score):.3f}")
    ax.axhline(float(np.mean(y)), ls="--", c="grey", lw=0.8, label=f"base rate {np.mean(y):.2%}")
    ax.set(xlabel="recall", ylabel="precision", ylim=(0, 1.02), title=f"{title}: precision-recall")
    ax.legend(loc="lower left")
    fig.tight_layout()
    return _png(fig)


def calibration_png(y: np.ndarray, score: np.ndarray, title: str, bins: int = 12) -> bytes:
    """Reliability diagram on log axes, with bins that narrow towards the top scores: fraud scores
    crowd near 0, and equal-width (or plain quantile) bins would leave the alert range unread."""
    order = np.argsort(score, kind="stable")
    n = len(order)
    cuts = np.unique((n * (1 - 0.6 ** np.arange(1, bins))).astype(np.int64))
    cuts = cuts[(cuts >= 20) & (cuts <= n - 20)]  # at least 20 claims in every bin
    groups = [g for g in np.split(order, cuts) if len(g)]
    floor = 1e-4
    predicted = np.array([max(score[g].mean(), floor) for g in groups])
    observed = np.array([max(y[g].mean(), floor) for g in groups])
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.plot([floor, 1], [floor, 1], ls="--", c="grey", lw=0.8, label="perfectly calibrated")
    ax.plot(predicted, observed, marker="o", lw=1.5, label="model (bins narrowing to the top)")
    ax.set(
        xscale="log",
        yscale="log",
        xlim=(floor, 1.2),
        ylim=(floor, 1.2),
        xlabel="mean predicted probability",
        ylabel="observed fraud rate",
        title=f"{title}: calibration",
    )
    ax.legend(loc="upper left")
    fig.tight_layout()
    return _png(fig)


def importance_png(importance: Mapping[str, float], title: str, top: int = 20) -> bytes:
    items = sorted(importance.items(), key=lambda kv: kv[1], reverse=True)[:top][::-1]
    total = sum(importance.values()) or 1.0
    fig = Figure(figsize=(7, 0.3 * len(items) + 1.2))
    ax = fig.subplots()
    ax.barh([k for k, _ in items], [v / total for _, v in items])
    ax.set(xlabel="share of total split gain", title=f"{title}: feature importance (gain)")
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    return _png(fig)


def model_plots(
    y: np.ndarray, score: np.ndarray, importance: Mapping[str, float], title: str = "fraud"
) -> dict[str, bytes]:
    """The four model-card plots, by name; the curves need both classes among `y`."""
    y = np.asarray(y).astype(np.int64)
    score = np.asarray(score, dtype=np.float64)
    out: dict[str, bytes] = {}
    if 0 < y.sum() < len(y):
        out["roc"] = roc_png(y, score, title)
        out["pr"] = pr_png(y, score, title)
        out["calibration"] = calibration_png(y, score, title)
    if importance:
        out["importance"] = importance_png(importance, title)
    return out

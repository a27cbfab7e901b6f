"""Training the fraud pipeline on a claims history, locally or on a Dask cluster, time-based.

The last months are held out as a test the model never saw, the months before them stop the
boosting early and calibrate the scores, and the rest train. With a registry the run is saved as
model "fraud" with its card and plots, judged on the frozen holdout and promoted as asked
(`fraud.promotion`).
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from fraud.estimator import FraudClassifier, binary_labels, row_slice
from fraud.features import FraudFeatures
from fraud.metrics import calendar_months, evaluate, frame_hash, month_name
from fraud.promotion import MODEL_NAME, holdout_frame, learnable, plots, register
from pipeline.errors import BadInputError
from pipeline.registry import ModelRegistry, data_hash

logger = logging.getLogger(__name__)

__all__ = ["TrainReport", "train_fraud_model"]


class TrainReport(BaseModel):
    """What a training run produced and how good it is, for the CLI, the bench and the model card."""

    model: str
    version: str | None = None
    champion: bool = False
    data_hash: str
    source: str
    rows: int
    positives: int
    features: list[str]
    dropped_columns: list[str] = Field(default_factory=list)
    split: str
    train_rows: int
    valid_rows: int
    test_rows: int
    test_period: str | None = None
    best_iteration: int
    metrics: dict[str, Any] = Field(default_factory=dict, description="on the held-out test rows")
    valid_metrics: dict[str, Any] = Field(default_factory=dict)
    seconds: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    holdout_hash: str | None = None
    holdout_metrics: dict[str, Any] = Field(default_factory=dict)
    challenge: dict[str, Any] | None = None
    """The champion/challenger verdict, when the run asked for one (`promote="if_better"`)."""
    plots: list[str] = Field(default_factory=list)

    def render(self) -> str:
        """A few lines for a terminal."""

        def fmt(v: Any) -> str:
            return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

        m = self.metrics
        champion = " [champion]" if self.champion else ""
        lines = [
            f"model {self.model} {self.version or '(not registered)'}{champion}",
            f"data {self.source} rows={self.rows} positives={self.positives} hash={self.data_hash[:12]}",
            f"split {self.split}: train={self.train_rows} valid={self.valid_rows} test={self.test_rows}"
            f" best_iteration={self.best_iteration}",
            f"test ROC-AUC {fmt(m.get('roc_auc'))}  PR-AUC {fmt(m.get('pr_auc'))}"
            f"  recall@1% {fmt(m.get('recall_at_1pct'))}  recall@5% {fmt(m.get('recall_at_5pct'))}",
        ]
        for month, mm in (m.get("by_month") or {}).items():
            lines.append(
                f"  {month}: n={mm['n']} fraud={mm['positives']} ROC-AUC {fmt(mm['roc_auc'])}"
                f" PR-AUC {fmt(mm['pr_auc'])} recall@1% {fmt(mm['recall_at_1pct'])}"
                f" recall@5% {fmt(mm['recall_at_5pct'])}"
            )
        if self.holdout_hash:
            h = self.holdout_metrics
            lines.append(
                f"frozen holdout {self.holdout_hash[:12]}: n={h.get('n')} ROC-AUC {fmt(h.get('roc_auc'))}"
                f"  PR-AUC {fmt(h.get('pr_auc'))}"
            )
        if self.challenge is not None:
            verdict = "promoted" if self.challenge.get("promoted") else "not promoted"
            lines.append(f"challenger {verdict}: {self.challenge.get('reason')}")
        if self.dropped_columns:
            lines.append(f"dropped ID-like columns: {', '.join(self.dropped_columns)}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _read(data: pd.DataFrame | Path) -> tuple[str, str, pd.DataFrame]:
    """Where the history came from, the hash its model card cites, and the history itself."""
    if isinstance(data, Path | str):
        frame = pd.read_parquet(data) if str(data).endswith(".parquet") else pd.read_csv(data)
        return str(data), data_hash(Path(data)), frame
    return "DataFrame", frame_hash(data), data


def _test_months(month: np.ndarray, test_months: int) -> tuple[np.ndarray, str | None]:
    """The last `test_months` calendar months as the held-out test, and their period; no test (and
    None) when the history is too short to spare them."""
    months = np.unique(month)
    if test_months and len(months) > test_months + 1:
        period = f"{month_name(months[-test_months])}..{month_name(months[-1])}"
        return month >= months[-test_months], period
    return np.zeros(len(month), dtype=bool), None


TRAINING_STEPS = (
    "reading the claims",
    "computing features",
    "fitting the classifier",
    "scoring the held-out claims",
    "registering the model",
)
"""What `train_fraud_model` and `train_from_table` tell their `on_step` callback, in order (the
scoring and registering steps only when there is a test and a registry)."""


def train_fraud_model(
    data: pd.DataFrame | Path,
    *,
    registry: ModelRegistry | None = None,
    label: str = "is_fraud",
    test_months: int = 3,
    classifier: FraudClassifier | None = None,
    features: FraudFeatures | None = None,
    client: Any = None,
    promote: Literal["always", "if_better", "never"] = "if_better",
    notes: str = "",
    margin: float | None = None,
    on_step: Callable[[str], None] | None = None,
) -> tuple[Pipeline, TrainReport]:
    """Train the fraud pipeline on a claims history; register it as model "fraud" if given a registry.

    The last `test_months` months are held out and reported (overall and per month); the classifier
    validates on the months before them. Features are computed once over the whole history: they
    are past-only, so a test claim sees the training months as its history, as it would in service.

    With a registry, the first run freezes its test months (with the past their features need) as
    the model's holdout; every later run leaves those claims out of training, is scored on them,
    and (`promote="if_better"`) replaces the champion only if it beats it there on PR-AUC by
    `margin` (default: the `promotion_margin` setting). `on_step` hears each of `TRAINING_STEPS`
    as it begins, for a progress display.
    """
    step = on_step or (lambda name: None)
    t_start = _time.perf_counter()
    step(TRAINING_STEPS[0])
    source, digest, df = _read(data)
    if label not in df.columns:
        raise BadInputError(source, f"no label column {label!r}")
    y = binary_labels(df[label])
    when = pd.to_datetime(df["claim_time"])
    month = calendar_months(when)
    report_warnings: list[str] = []
    test, test_period = _test_months(month, test_months)
    if test_period is None:
        report_warnings.append("too few months for a held-out test; metrics are on the validation slice")
    fit_rows = learnable(registry, MODEL_NAME, df, ~test, report_warnings, "claims")
    feats = clone(features) if features is not None else FraudFeatures()
    step(TRAINING_STEPS[1])
    t0, c0 = _time.perf_counter(), _time.process_time()
    feats.fit(row_slice(df, fit_rows))
    F = feats.transform(df)
    feature_seconds, feature_cpu = _time.perf_counter() - t0, _time.process_time() - c0
    clf = clone(classifier) if classifier is not None else FraudClassifier()
    step(TRAINING_STEPS[2])
    clf.fit(row_slice(F, fit_rows), y[fit_rows], time=when[fit_rows].to_numpy(), client=client)
    valid_rows = int(clf.valid_metrics_["n"])
    if test.any():
        step(TRAINING_STEPS[3])
        t0 = _time.perf_counter()
        score = clf.predict_proba(row_slice(F, test))[:, 1]
        score_seconds = _time.perf_counter() - t0
        metrics = evaluate(y[test], score, when[test].to_numpy())
    else:
        score_seconds = 0.0
        metrics = clf.valid_metrics_
    model = Pipeline([("features", feats), ("classifier", clf)])
    params = {
        "classifier": clf.get_params(),
        "features": feats.get_params(),
        "best_iteration": clf.best_iteration_,
        "rounds_trained": clf.rounds_trained_,
        "validation": clf.validation_,
        "test_period": test_period,
        "distributed": client is not None,
    }
    report = TrainReport(
        model=MODEL_NAME,
        data_hash=digest,
        source=source,
        rows=len(df),
        positives=int(y.sum()),
        features=list(F.columns),
        split=f"time: test {test_period}; valid {clf.validation_}" if test_period else clf.validation_,
        train_rows=int(fit_rows.sum()) - valid_rows,
        valid_rows=valid_rows,
        test_rows=int(test.sum()),
        test_period=test_period,
        best_iteration=clf.best_iteration_,
        metrics=metrics,
        valid_metrics=clf.valid_metrics_,
        seconds={
            "features": feature_seconds,
            "features_cpu": feature_cpu,
            "fit": clf.fit_seconds_,
            "fit_cpu": clf.fit_cpu_seconds_,
            "train": clf.train_seconds_,
            "score_test": score_seconds,
            "total": _time.perf_counter() - t_start,
        },
        warnings=report_warnings,
        params=params,
    )
    if registry is not None:
        step(TRAINING_STEPS[4])
        del F  # the registration below scores the holdout: one feature frame at a time
        pngs = (
            plots(y[test], score, clf, f"{MODEL_NAME} (test {test_period})")
            if test.any()
            else plots(np.zeros(0), np.zeros(0), clf, MODEL_NAME)
        )
        register(
            registry,
            MODEL_NAME,
            model,
            report,
            promote,
            notes,
            holdout=(lambda: holdout_frame(df, test, y)) if test.any() else None,
            holdout_note=f"claims of {test_period} in {source} (hash {digest[:12]}), with their past",
            plots=pngs,
            margin=margin,
        )
    logger.info("%s", report.render())
    return model, report

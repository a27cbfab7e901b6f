"""A fraud model's way into service: the frozen holdout, registration with card and plots, promotion.

The first registered model of a name freezes its test claims (with the past their features need)
as the holdout; every later model is scored on the same claims by `holdout_metrics` and replaces
the champion only if it beats it there (`ModelRegistry.challenge`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from fraud.features import epoch_seconds
from fraud.metrics import evaluate
from pipeline.registry import ModelRegistry
from pipeline.settings import get_settings

if TYPE_CHECKING:
    from fraud.estimator import FraudClassifier
    from fraud.training import TrainReport

logger = logging.getLogger(__name__)

__all__ = [
    "HOLDOUT_FILE",
    "MODEL_NAME",
    "holdout_frame",
    "holdout_metrics",
    "holdout_rows",
    "past_needed",
    "plots",
    "register",
]


MODEL_NAME = "fraud"


HOLDOUT_FILE = "holdout.parquet"
_IN_HOLDOUT, _LABEL, _TIME = "__holdout__", "__label__", "__time__"
_IDENTITY = ("claim_id", "claim_time", "claimant_id", "amount_claimed", "invoice_no")
_SHARED = ("claimant_id", "bank_account", "phone", "invoice_no")
# the longest chain of windows: a provider's past-year bill ratio over claims each measured against
# their own past year of the same diagnosis, so two years of past make every feature exact
_CONTEXT_DAYS = 2 * 366


def holdout_frame(
    df: pd.DataFrame, rows: np.ndarray, y: np.ndarray, time: str | None = "claim_time", *, past: bool = True
) -> pd.DataFrame:
    """The held-out rows marked `__holdout__`, with their 0/1 label and time under fixed names.

    With `past` (a claims history), it also keeps the past their features need (`past_needed`:
    two years before the first held-out claim and every earlier claim sharing a claimant, bank
    account, phone or invoice with one). A team's table has no such past: its rows stand alone.
    """
    rows = np.asarray(rows, dtype=bool)
    keep = rows.copy()
    if past:
        t = epoch_seconds(df["claim_time"], "claim_time")
        keep |= (t < t[rows].min()) & past_needed(df[rows], df)
    out = df[keep].copy()
    out[_IN_HOLDOUT] = rows[keep]
    out[_LABEL] = np.asarray(y)[keep].astype(np.int64)
    if time is not None:
        out[_TIME] = pd.to_datetime(out[time])
    return out.reset_index(drop=True)


def holdout_metrics(model: Pipeline, path: Path) -> dict[str, Any]:
    """Score a fitted pipeline on a frozen holdout file: the metrics of `evaluate`, per month too.

    The same function judges champion and challenger, so they are compared on the same claims.
    """
    frame = pd.read_parquet(path)
    rows = frame.pop(_IN_HOLDOUT).to_numpy(dtype=bool)
    y = frame.pop(_LABEL).to_numpy()
    when = frame.pop(_TIME) if _TIME in frame.columns else None
    first, clf = model.steps[0][1], model.steps[-1][1]
    F = first.transform(frame)
    score = clf.predict_proba(F[rows])[:, 1]
    return evaluate(y[rows], score, None if when is None else when[rows].to_numpy())


def _row_keys(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    return pd.util.hash_pandas_object(df[columns], index=False).to_numpy()


def holdout_rows(df: pd.DataFrame, path: Path) -> np.ndarray:
    """Which rows of `df` are held-out claims of the frozen holdout at `path` (same row, same data)."""
    import pyarrow.parquet as pq

    names = set(pq.read_schema(path).names)
    columns = [c for c in _IDENTITY if c in names and c in df.columns]
    if not columns:  # a team's table: a row is the same row when every column is the same
        columns = [c for c in df.columns if c in names and not c.startswith("__")]
    frozen = pd.read_parquet(path, columns=[*columns, _IN_HOLDOUT])
    frozen = frozen[frozen[_IN_HOLDOUT].to_numpy(dtype=bool)]
    try:
        return np.isin(_row_keys(df, columns), _row_keys(frozen.astype(df[columns].dtypes), columns))
    except (TypeError, ValueError):  # column types changed since the holdout: hash both as text
        as_text = {c: "string" for c in columns}
        return np.isin(_row_keys(df.astype(as_text), columns), _row_keys(frozen.astype(as_text), columns))


def learnable(
    registry: ModelRegistry | None,
    name: str,
    df: pd.DataFrame,
    fit: np.ndarray,
    warnings: list[str],
    what: str,
) -> np.ndarray:
    """`fit` less the rows of the model's frozen holdout: what a model is judged on is never learnt
    from; how many were left out goes in `warnings` (`what` names the rows: claims, rows)."""
    frozen = registry.holdout(name) if registry is not None else None
    if frozen is None:
        return fit
    seen = holdout_rows(df, registry.holdout_file(name)) & fit  # type: ignore[union-attr]
    if seen.any():
        warnings.append(
            f"{int(seen.sum())} {what} of the frozen holdout {frozen.hash[:12]} left out of training"
        )
    return fit & ~seen


def past_needed(claims: pd.DataFrame, history: pd.DataFrame) -> np.ndarray:
    """Which history rows can change a feature of `claims`: the two years before the earliest claim
    (every windowed feature, chains of windows included) and any earlier claim sharing a claimant,
    bank account, phone or invoice with one of them (the all-time features)."""
    t = epoch_seconds(history["claim_time"], "claim_time")
    start = int(epoch_seconds(claims["claim_time"], "claim_time").min())
    keep = t >= start - _CONTEXT_DAYS * 86_400
    for col in _SHARED:
        if col in claims.columns and col in history.columns:
            values = claims[col].dropna().unique()
            keep |= history[col].isin(values).to_numpy(dtype=bool)
    return keep


def plots(y: np.ndarray, score: np.ndarray, clf: FraudClassifier, title: str) -> dict[str, bytes]:
    from fraud.plots import model_plots

    gain = clf.booster_.feature_importance(importance_type="gain", iteration=clf.best_iteration_)
    importance = {str(n): float(g) for n, g in zip(clf.feature_names_in_, gain, strict=True)}
    return model_plots(y, score, importance, title)


def register(
    registry: ModelRegistry,
    name: str,
    model: Any,
    report: TrainReport,
    promote: Literal["always", "if_better", "never"],
    notes: str,
    *,
    holdout: Callable[[], pd.DataFrame] | None = None,
    holdout_note: str = "",
    plots: Mapping[str, bytes] | None = None,
    margin: float | None = None,
) -> None:
    """Save the model with its card and plots; judge it on the frozen holdout; promote as asked.

    The first model of a name with a test set freezes it (`holdout()` builds the frame only then).
    Fills version, holdout, challenge and champion in the report.
    """
    frozen = registry.holdout(name)
    if frozen is None and holdout is not None:
        frame = holdout()
        frozen = registry.freeze_holdout(
            name,
            lambda path: frame.to_parquet(path, index=False, compression="zstd"),
            filename=HOLDOUT_FILE,
            source_hash=report.data_hash,
            rows=int(frame[_IN_HOLDOUT].sum()),
            description=holdout_note,
        )
        del frame
    metrics: dict[str, Any] = {**report.metrics, "valid": report.valid_metrics}
    if frozen is not None:
        report.holdout_hash = frozen.hash
        report.holdout_metrics = holdout_metrics(model, registry.holdout_file(name))
        metrics["holdout"] = report.holdout_metrics
    card = registry.register(
        name,
        model,
        data_hash=report.data_hash,
        metrics=metrics,
        params={
            **report.params,
            "features": report.features,
            "dropped_columns": report.dropped_columns,
            "split": report.split,
            "rows": report.rows,
            "source": report.source,
        },
        notes=notes,
        holdout_hash=report.holdout_hash,
        plots=plots,
    )
    report.version, report.plots = card.version, card.plots
    if promote == "always":
        registry.promote(name, card.version, reason="trained with promote=always")
        report.champion = True
    elif promote == "if_better":
        if margin is None:
            margin = get_settings().promotion_margin
        if frozen is not None:
            verdict = registry.challenge(
                name, card.version, "pr_auc", evaluate=holdout_metrics, margin=margin
            )
        elif report.metrics.get("pr_auc") is not None:
            verdict = registry.challenge(name, card.version, "pr_auc", margin=margin)
        else:
            verdict = None
        if verdict is not None:
            report.challenge = verdict.model_dump(
                mode="json", exclude={"challenger_metrics", "champion_metrics"}
            )
            report.champion = verdict.promoted
    logger.info("registered %s %s (champion: %s)", name, card.version, report.champion)

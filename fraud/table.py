"""Train a fraud model on a team's own labelled table (CSV or parquet), for `claims fraud train`.

A table from a claims team is not our history: its columns are whatever the team keeps. So the
model is generic: numeric columns as they are, text columns as pandas categories (LightGBM splits on
them natively), missing values left to LightGBM, dates turned into numbers. Columns that identify a
row rather than describe it (claim ids, names, phone or account numbers) are dropped with a warning
that names them: a tree can memorise an id, which looks brilliant in validation and means nothing
in service. The classifier, calibration and metrics are those of the main model (`FraudClassifier`).
"""

from __future__ import annotations

import logging
import re
import time as _time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from fraud.estimator import FraudClassifier
from fraud.metrics import evaluate
from fraud.promotion import holdout_frame, learnable, plots, register
from fraud.training import TRAINING_STEPS, TrainReport
from pipeline.errors import BadInputError
from pipeline.registry import ModelRegistry, data_hash

logger = logging.getLogger(__name__)

__all__ = ["TABLE_MODEL_NAME", "TablePreprocessor", "find_id_columns", "read_table", "train_from_table"]

TABLE_MODEL_NAME = "fraud-table"
MIN_POSITIVES = 20
_ID_NAME = re.compile(
    r"(^|_)(id|no|num|number|code|name|phone|mobile|tel|account|acct|card|email|uuid|key)$", re.I
)
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$"
_TRUE = {"1", "true", "yes", "y", "fraud", "t"}
_FALSE = {"0", "false", "no", "n", "clean", "f"}


def read_table(path: Path) -> pd.DataFrame:
    """CSV or parquet by suffix; anything unreadable is a BadInputError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        elif suffix in (".csv", ".txt", ".gz"):
            df = pd.read_csv(path)
        else:
            raise BadInputError(path, f"unknown table type {suffix!r}: give a .csv or .parquet file")
    except BadInputError:
        raise
    except Exception as exc:  # any parser failure is the file's problem, said in one line
        raise BadInputError(path, f"cannot read as {suffix.lstrip('.') or 'a table'}: {exc}") from exc
    if df.empty or len(df.columns) < 2:
        raise BadInputError(path, "the table is empty or has fewer than two columns")
    for col in df.columns:  # CSV has no dates, only text that looks like them: ISO dates become dates
        s = df[col]
        if _is_text(s) and s.notna().any() and s.dropna().astype(str).str.match(_ISO_DATE).all():
            df[col] = pd.to_datetime(s, errors="coerce")
    return df


def find_id_columns(df: pd.DataFrame, max_share: float = 0.5) -> list[str]:
    """Columns that name a row rather than describe it: (nearly) unique strings or integers.

    A text column is ID-like when more than `max_share` of its values are distinct (or above 1000
    distinct values: too many categories to learn from), or when its name says id/no/phone/account
    and over 5% are distinct; an integer column when every value is distinct.
    """
    found = []
    n = len(df)
    for col in df.columns:
        s = df[col].dropna()
        if s.empty:
            continue
        distinct = s.nunique()
        share = distinct / len(s)
        named = bool(_ID_NAME.search(str(col)))
        if _is_text(s):
            if share > max_share or distinct > 1000 or (named and share > 0.05):
                found.append(col)
        elif (
            pd.api.types.is_integer_dtype(s)
            and n >= 20
            and (distinct == len(s) or (named and share > max_share))
        ):
            found.append(col)
    return found


def _is_text(s: pd.Series) -> bool:
    return bool(
        pd.api.types.is_string_dtype(s) or s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype)
    )


class TablePreprocessor(TransformerMixin, BaseEstimator):
    """Numeric stays numeric, text becomes a category with the levels seen in training, dates numbers."""

    def __init__(self, drop: tuple[str, ...] = ()) -> None:
        self.drop = drop

    def fit(self, X: pd.DataFrame, y: Any = None) -> TablePreprocessor:
        self.columns_ = [c for c in X.columns if c not in set(self.drop)]
        self.categories_: dict[str, list[str]] = {}
        self.dates_: list[str] = []
        for c in self.columns_:
            s = X[c]
            if pd.api.types.is_datetime64_any_dtype(s):
                self.dates_.append(c)
            elif _is_text(s) or pd.api.types.is_bool_dtype(s):
                self.categories_[c] = sorted(s.dropna().astype(str).unique())
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        self.n_features_in_ = len(X.columns)
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "columns_")
        return np.asarray(self.columns_, dtype=object)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "columns_")
        missing = [c for c in self.columns_ if c not in X.columns]
        if missing:
            raise BadInputError("table", f"missing columns {missing}")
        out: dict[str, Any] = {}
        for c in self.columns_:
            s = X[c]
            if c in self.dates_:
                out[c] = (pd.to_datetime(s) - pd.Timestamp("1970-01-01")).dt.total_seconds() / 86_400
            elif c in self.categories_:
                out[c] = pd.Categorical(
                    s.astype("string").astype(object).where(s.notna(), None), categories=self.categories_[c]
                )
            else:
                out[c] = pd.to_numeric(s, errors="coerce").astype(np.float64)
        return pd.DataFrame(out, index=X.index)


def _label(df: pd.DataFrame, label: str, path: Path) -> np.ndarray:
    s = df[label]
    if s.isna().any():
        raise BadInputError(path, f"label column {label!r} has {int(s.isna().sum())} empty values")
    values = set(s.astype(str).str.strip().str.lower().unique())
    if len(values) != 2 and not (len(values) == 1 and values <= (_TRUE | _FALSE)):
        raise BadInputError(
            path,
            f"label column {label!r} is not binary: {len(values)} distinct values"
            f" ({', '.join(sorted(values)[:5])})",
        )
    text = s.astype(str).str.strip().str.lower()
    if values <= _TRUE | _FALSE and not (values <= _TRUE or values <= _FALSE):
        return text.isin(_TRUE).to_numpy().astype(np.int64)
    try:
        numeric = pd.to_numeric(s)
    except (ValueError, TypeError):
        raise BadInputError(
            path, f"label column {label!r} must be 0/1, true/false or yes/no; found {sorted(values)}"
        ) from None
    if set(numeric.unique()) <= {0, 1}:
        return numeric.to_numpy().astype(np.int64)
    raise BadInputError(
        path, f"label column {label!r} must be 0/1; found {sorted(map(str, numeric.unique()))}"
    )


def _read_times(column: pd.Series, path: Path) -> pd.Series:
    """The time column as datetimes; a column that is not one, or has gaps, is the table's to fix."""
    time = column.name
    try:
        when = pd.to_datetime(column)
    except (ValueError, TypeError) as exc:
        raise BadInputError(path, f"time column {time!r} is not a date/time: {exc}") from exc
    if when.isna().any():
        raise BadInputError(path, f"time column {time!r} has {int(when.isna().sum())} empty values")
    return when


def _split(
    y: np.ndarray, when: pd.Series | None, time: str | None, test_fraction: float, report_warnings: list[str]
) -> tuple[np.ndarray, str, np.ndarray | None]:
    """The test rows (the latest share by time, else a stratified random share), the split as the
    report words it, and the times of the rows left to fit on."""
    if when is not None:
        order = np.argsort(when.to_numpy(), kind="stable")
        test = np.zeros(len(y), dtype=bool)
        test[order[int(len(y) * (1 - test_fraction)) :]] = True
        split = (
            f"time by {time!r}: latest {test_fraction:.0%} test, the {test_fraction:.0%} before it validates"
        )
        fit_time = when[~test].to_numpy()
    else:
        message = (
            "no time column: using a stratified random split, which overstates quality when fraud drifts"
        )
        warnings.warn(message, UserWarning, stacklevel=3)
        report_warnings.append(message)
        _, test_idx = train_test_split(np.arange(len(y)), test_size=test_fraction, stratify=y, random_state=0)
        test = np.zeros(len(y), dtype=bool)
        test[test_idx] = True
        split = f"stratified random: {test_fraction:.0%} test, {test_fraction:.0%} of the rest validates"
        fit_time = None
    return test, split, fit_time


def train_from_table(
    path: Path,
    label: str,
    time: str | None,
    registry: ModelRegistry | None,
    *,
    name: str = TABLE_MODEL_NAME,
    classifier: FraudClassifier | None = None,
    test_fraction: float = 0.2,
    min_positives: int = MIN_POSITIVES,
    promote: Literal["always", "if_better", "never"] = "if_better",
    on_step: Callable[[str], None] | None = None,
) -> TrainReport:
    """Train, evaluate on the latest (or a random stratified) 20%, register with a model card.

    With `time`, rows are ordered by it: the latest `test_fraction` is the test, the slice before it
    validates (early stopping, calibration). Without it, both are stratified random slices, and a
    warning says that a random split flatters a model when fraud patterns drift. `on_step` hears
    each of `TRAINING_STEPS` as it begins.
    """
    step = on_step or (lambda name: None)
    t_start = _time.perf_counter()
    path = Path(path)
    step(TRAINING_STEPS[0])
    df = read_table(path)
    if label not in df.columns:
        raise BadInputError(path, f"no label column {label!r}; columns are {list(df.columns)[:20]}")
    if time is not None and time not in df.columns:
        raise BadInputError(path, f"no time column {time!r}; columns are {list(df.columns)[:20]}")
    y = _label(df, label, path)
    positives = int(y.sum())
    if positives < min_positives or len(y) - positives < min_positives:
        raise BadInputError(
            path,
            f"too few examples to learn from: {positives} positive and"
            f" {len(y) - positives} negative rows in {label!r}; need {min_positives} of each",
        )
    report_warnings: list[str] = []
    X = df.drop(columns=[label])
    when = None
    if time is not None:
        when = _read_times(X[time], path)
        X = X.drop(columns=[time])
    dropped = find_id_columns(X)
    if dropped:
        message = f"dropped ID-like columns (unique per row, a leakage risk): {', '.join(map(str, dropped))}"
        warnings.warn(message, UserWarning, stacklevel=2)
        logger.warning("%s: %s", path, message)
        report_warnings.append(message)
    if len(dropped) == len(X.columns):
        raise BadInputError(path, "no usable feature columns left after dropping ID-like columns")

    test, split, fit_time = _split(y, when, time, test_fraction, report_warnings)
    fit = learnable(registry, name, df, ~test, report_warnings, "rows")
    if fit_time is not None:
        fit_time = when[fit].to_numpy()  # type: ignore[index]
    if y[test].sum() == 0 or y[fit].sum() < 2:
        raise BadInputError(
            path, "the positives all fall on one side of the split; add data or use another --time"
        )

    step(TRAINING_STEPS[1])
    prep = TablePreprocessor(drop=tuple(dropped)).fit(X[fit])
    F = prep.transform(X)
    clf = clone(classifier) if classifier is not None else FraudClassifier(valid_fraction=0.25)
    valid_fit = None
    if fit_time is not None:  # a table's time may span days, not months: validate on the latest share
        order_fit = np.argsort(fit_time, kind="stable")
        valid_fit = np.zeros(len(order_fit), dtype=bool)
        valid_fit[order_fit[int(len(order_fit) * (1 - clf.valid_fraction)) :]] = True
    step(TRAINING_STEPS[2])
    clf.fit(F[fit], y[fit], valid=valid_fit)
    step(TRAINING_STEPS[3])
    score = clf.predict_proba(F[test])[:, 1]
    metrics = evaluate(y[test], score, None if when is None else when[test].to_numpy())
    model = Pipeline([("table", prep), ("classifier", clf)])
    valid_rows = int(clf.valid_metrics_["n"])
    report = TrainReport(
        model=name,
        data_hash=data_hash(path),
        source=str(path),
        rows=len(df),
        positives=positives,
        features=list(F.columns),
        dropped_columns=[str(c) for c in dropped],
        split=split,
        train_rows=int(fit.sum()) - valid_rows,
        valid_rows=valid_rows,
        test_rows=int(test.sum()),
        best_iteration=clf.best_iteration_,
        metrics=metrics,
        valid_metrics=clf.valid_metrics_,
        seconds={"train": clf.train_seconds_, "total": _time.perf_counter() - t_start},
        warnings=report_warnings,
        params={
            "classifier": clf.get_params(),
            "label": label,
            "time": time,
            "categorical": sorted(prep.categories_),
            "best_iteration": clf.best_iteration_,
        },
    )
    if registry is not None:
        step(TRAINING_STEPS[4])
        pngs = plots(y[test], score, clf, f"{name} (test: latest {test_fraction:.0%})")
        register(
            registry,
            name,
            model,
            report,
            promote,
            notes=f"trained from table {path.name}",
            holdout=lambda: holdout_frame(df, test, y, time, past=False),
            holdout_note=f"test rows of {path.name} (hash {report.data_hash[:12]}): {split}",
            plots=pngs,
        )
    logger.info("%s", report.render())
    return report

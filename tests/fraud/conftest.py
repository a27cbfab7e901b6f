"""A small claims history (50k claims, two years) and a model trained on it, shared by the fraud tests."""

from __future__ import annotations

import pandas as pd
import pytest

from fraud.estimator import FraudClassifier
from fraud.training import TrainReport, train_fraud_model
from synth.history import HistorySummary, generate_history

HISTORY_ROWS = 50_000


@pytest.fixture(scope="session")
def history_summary(tmp_path_factory: pytest.TempPathFactory) -> HistorySummary:
    out = tmp_path_factory.mktemp("fraud") / "history.parquet"
    return generate_history(HISTORY_ROWS, out, seed=7, chunk_rows=20_000)


@pytest.fixture(scope="session")
def history(history_summary: HistorySummary) -> pd.DataFrame:
    return pd.read_parquet(history_summary.path)


@pytest.fixture(scope="session")
def trained(history: pd.DataFrame):  # type: ignore[no-untyped-def]
    model, report = train_fraud_model(history, classifier=FraudClassifier(n_jobs=1))
    return model, report


@pytest.fixture(scope="session")
def report(trained) -> TrainReport:  # type: ignore[no-untyped-def]
    return trained[1]

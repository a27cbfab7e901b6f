"""`fraud.model` is kept so champions pickled before the split (naming `fraud.model.FraudClassifier` and
`fraud.model._Calibrator`) still load, as the very classes the code uses now."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

import fraud.model
from fraud.estimator import Calibrator, FraudClassifier


def test_the_old_names_are_the_new_classes() -> None:
    assert fraud.model.FraudClassifier is FraudClassifier
    assert fraud.model._Calibrator is Calibrator


def tiny_frame(rows: int = 600, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Two features, fraud where the amount is high: a booster learns it in a few rounds."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 500.0, rows),
            "channel": pd.Categorical(rng.choice(["app", "agent"], rows), categories=["app", "agent"]),
        }
    )
    y = ((X["amount"] > np.quantile(X["amount"], 0.85)) ^ (rng.random(rows) < 0.03)).astype(int).to_numpy()
    return X, y


@contextmanager
def pickled_as_before_the_split() -> Iterator[None]:
    """Pickle names a class by `__module__` and `__qualname__`: give them their old values meanwhile."""
    saved = [(c, c.__module__, c.__qualname__) for c in (FraudClassifier, Calibrator)]
    FraudClassifier.__module__ = Calibrator.__module__ = "fraud.model"
    Calibrator.__qualname__ = "_Calibrator"
    try:
        yield
    finally:
        for cls, module, qualname in saved:
            cls.__module__, cls.__qualname__ = module, qualname


def test_a_champion_pickled_under_the_old_module_loads_and_scores_the_same(tmp_path: Path) -> None:
    X, y = tiny_frame()
    model = FraudClassifier(n_estimators=30, early_stopping_rounds=10, n_jobs=1, score_n_jobs=1).fit(X, y)
    path = tmp_path / "model.joblib"
    with pickled_as_before_the_split():
        joblib.dump(model, path)
    data = path.read_bytes()
    assert b"fraud.model" in data and b"_Calibrator" in data and b"fraud.estimator" not in data

    loaded = joblib.load(path)
    assert type(loaded) is FraudClassifier and type(loaded.calibrator_) is Calibrator
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))
    p = loaded.predict_proba(X)[:, 1]
    assert p[y == 1].mean() > p[y == 0].mean() + 0.3  # a working model, not just an object

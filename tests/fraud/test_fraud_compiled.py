"""The fraud model compiled to native code (lleaves) scores exactly as LightGBM does, and is cached."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraud import compiled
from fraud.estimator import FraudClassifier, feature_matrix
from pipeline.settings import get_settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CLAIMS_FRAUD_COMPILE_FROM", "1000")
    get_settings.cache_clear()
    compiled._loaded.clear()
    yield tmp_path
    get_settings.cache_clear()
    compiled._loaded.clear()


def _copy(clf: FraudClassifier) -> FraudClassifier:
    """The trained classifier as a fresh process would load it (nothing compiled yet)."""
    return pickle.loads(pickle.dumps(clf))


def test_compiled_scores_equal_lightgbm(trained, history: pd.DataFrame, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    model, _ = trained
    F = model.named_steps["features"].transform(history.tail(20_000))
    clf = _copy(model.named_steps["classifier"])
    matrix = feature_matrix(F[list(clf.feature_names_in_)])
    assert np.isnan(matrix).any(), "the check needs missing values, which trees route by their own rule"
    assert F.dtypes.map(lambda d: isinstance(d, pd.CategoricalDtype)).any(), "and categorical splits"

    expected = clf.booster_.predict(matrix, num_iteration=clf.best_iteration_, raw_score=True)
    got = clf._raw(F[list(clf.feature_names_in_)])
    assert isinstance(clf._forest, compiled.CompiledForest), "a batch over the threshold is compiled"
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(clf.predict_proba(F)[:, 1], model.predict_proba(history.tail(20_000))[:, 1])
    assert list((data_dir / "compiled-models").glob("forest-*.bin")), "the native code is kept on disk"

    # a small call after the compile uses it too; a pickle carries no native code
    np.testing.assert_allclose(clf._raw(F.head(3)), expected[:3], rtol=0, atol=1e-9)
    assert "_forest" not in pickle.loads(pickle.dumps(clf)).__dict__


def test_cache_is_reused_and_a_damaged_file_is_recompiled(
    trained, history: pd.DataFrame, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    model, _ = trained
    clf = model.named_steps["classifier"]
    F = model.named_steps["features"].transform(history.tail(2_000))
    matrix = feature_matrix(F[list(clf.feature_names_in_)])
    expected = clf.booster_.predict(matrix, num_iteration=clf.best_iteration_, raw_score=True)
    cache = data_dir / "compiled-models"

    first = compiled.compiled_forest(clf.booster_, clf.best_iteration_, cache)
    assert first is not None and not first.from_cache
    compiled._loaded.clear()  # as another process would start
    again = compiled.compiled_forest(clf.booster_, clf.best_iteration_, cache)
    assert again is not None and again.from_cache
    np.testing.assert_allclose(again.predict(matrix, 2), expected, rtol=0, atol=1e-9)

    (file,) = cache.glob("forest-*.bin")
    file.write_bytes(b"not machine code")
    compiled._loaded.clear()
    fixed = compiled.compiled_forest(clf.booster_, clf.best_iteration_, cache)
    assert fixed is not None and not fixed.from_cache
    np.testing.assert_allclose(fixed.predict(matrix, 1), expected, rtol=0, atol=1e-9)
    assert sorted(p.suffix for p in cache.iterdir()) == [".bin", ".sha256"], "no partial or model file left"

    # another cut of the same booster is another program
    other = compiled.compiled_forest(clf.booster_, max(1, clf.best_iteration_ // 2), cache)
    assert other is not None and other.key != fixed.key


def test_small_batches_and_the_off_switch_use_lightgbm(
    trained, history: pd.DataFrame, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    model, _ = trained
    F = model.named_steps["features"].transform(history.tail(500))
    clf = _copy(model.named_steps["classifier"])
    clf.predict_proba(F)  # 500 rows: under the threshold of 1,000
    assert getattr(clf, "_forest", None) is None
    monkeypatch.setenv("CLAIMS_FRAUD_COMPILE_FROM", "0")
    get_settings.cache_clear()
    big = model.named_steps["features"].transform(history.tail(5_000))
    clf.predict_proba(big)
    assert getattr(clf, "_forest", None) is None
    assert not (data_dir / "compiled-models").exists()

"""The fraud model: clearly better than chance and than amount alone, calibrated, explained, registered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from fraud.estimator import FraudClassifier
from fraud.promotion import MODEL_NAME
from fraud.scoring import FraudScorer
from fraud.training import train_fraud_model
from pipeline.records import FraudBand, FraudScore
from pipeline.registry import ModelRegistry
from pipeline.settings import Settings

TEST_FROM = "2024-10-01"  # the last three months of the fixture history are the held-out test


def _test_rows(history: pd.DataFrame) -> pd.Series:
    return history["claim_time"] >= TEST_FROM


def test_beats_trivial_baselines_on_later_months(history: pd.DataFrame, report) -> None:  # type: ignore[no-untyped-def]
    test = _test_rows(history)
    y = history.loc[test, "is_fraud"]
    amount_only = roc_auc_score(y, history.loc[test, "amount_claimed"])
    m = report.metrics
    assert report.test_rows == int(test.sum()) and report.test_period == "2024-10..2024-12"
    assert m["roc_auc"] > 0.85
    assert m["roc_auc"] > amount_only + 0.1
    assert m["pr_auc"] > 5 * y.mean()  # a random ranking scores the base rate
    assert m["recall_at_5pct"] > 0.5
    assert set(m["by_month"]) == {"2024-10", "2024-11", "2024-12"}
    assert all(mm["roc_auc"] > 0.8 for mm in m["by_month"].values())
    assert report.best_iteration < 2000  # early stopping stopped


def test_scores_are_calibrated_probabilities(history: pd.DataFrame, trained) -> None:  # type: ignore[no-untyped-def]
    model, _ = trained
    test = _test_rows(history)
    features = model.named_steps["features"].transform(history)
    p = model.named_steps["classifier"].predict_proba(features[test.to_numpy()])[:, 1]
    assert ((p >= 0) & (p <= 1)).all()
    y = history.loc[test, "is_fraud"].to_numpy()
    assert abs(p.mean() - y.mean()) < 0.01  # on average as often fraud as it says
    top = p >= 0.5
    assert top.sum() >= 10 and y[top].mean() > 0.5


def test_reasons_and_bands(history: pd.DataFrame, trained) -> None:  # type: ignore[no-untyped-def]
    model, _ = trained
    settings = Settings(fraud_high=0.5, fraud_medium=0.2)
    scorer = FraudScorer(model, "vtest", settings)
    claims, past = history.iloc[-800:], history.iloc[:-800]
    scores = scorer.score(claims, past)
    assert len(scores) == len(claims) and all(isinstance(s, FraudScore) for s in scores)
    for s in scores:
        want = FraudBand.HIGH if s.score >= 0.5 else FraudBand.MEDIUM if s.score >= 0.2 else FraudBand.LOW
        assert s.band is want and s.model_version == "vtest"
    flagged = [s for s in scores if s.band is FraudBand.HIGH]
    assert len(flagged) >= 5
    for s in flagged:
        assert 1 <= len(s.reasons) <= 3
        assert all(r.contribution > 0 for r in s.reasons)
        assert [r.contribution for r in s.reasons] == sorted(
            (r.contribution for r in s.reasons), reverse=True
        )
        for r in s.reasons:
            zh, en = r.message.split(" / ", 1)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in zh) and en.isascii()
    # the reasons point at the planted pattern: a shared-account ring is explained by the account
    frame = scorer.score_frame(claims, past)
    ring = claims["fraud_pattern"].isin(["ring_account"]) & (frame["band"] == "high")
    reason_cols = [f"reason_{j}_feature" for j in (1, 2, 3)]
    if ring.any():
        named = frame.loc[ring, reason_cols].isin(["acct_distinct_claimants", "acct_n_90d"]).any(axis=1)
        assert named.mean() >= 0.5
    dup = claims["fraud_pattern"].eq("duplicate_invoice") & (frame["band"] != "low")
    if dup.any():
        assert (
            frame.loc[dup, reason_cols]
            .isin(["invoice_prior_claims", "invoice_other_claimants"])
            .any(axis=1)
            .mean()
            >= 0.5
        )


def test_single_claim_equals_batch(history: pd.DataFrame, trained) -> None:  # type: ignore[no-untyped-def]
    model, _ = trained
    scorer = FraudScorer(model)
    batch = scorer.score_frame(history.iloc[-300:], history.iloc[:-300])
    worst = batch["score"].idxmax()
    # the claim against everything filed before it, the earlier claims of the batch included
    one = scorer.score_claim(history.loc[worst], history)
    assert one.claim_id == history.loc[worst, "claim_id"]
    assert one.score == pytest.approx(batch.loc[worst, "score"], abs=1e-6)  # float32 sums, other order
    assert [r.feature for r in one.reasons] == [
        batch.loc[worst, f"reason_{j}_feature"] for j in (1, 2, 3) if batch.loc[worst, f"reason_{j}_feature"]
    ]
    # the history may contain the claim itself: a claim never sees itself
    again = scorer.score_frame(history.iloc[-300:], history)
    np.testing.assert_allclose(again["score"], batch["score"])


def test_registered_with_a_card_and_loaded_back(tmp_path: Path, history: pd.DataFrame) -> None:
    registry = ModelRegistry(tmp_path / "models")
    small = history[history["claim_time"] < "2024-07-01"]
    model, report = train_fraud_model(
        small, registry=registry, classifier=FraudClassifier(n_estimators=150, n_jobs=1), test_months=2
    )
    assert report.version and report.champion
    _, card = registry.load(MODEL_NAME)
    assert card.version == report.version and card.data_hash == report.data_hash
    assert card.metrics["roc_auc"] == pytest.approx(report.metrics["roc_auc"])
    assert "by_month" in card.metrics and card.params["classifier"]["calibration"] == "isotonic"
    scorer = FraudScorer.from_registry(registry)
    assert scorer.version == report.version
    claims = history.iloc[-50:]
    np.testing.assert_allclose(
        scorer.score_frame(claims, small)["score"], FraudScorer(model).score_frame(claims, small)["score"]
    )


def test_classifier_conventions() -> None:
    clf = FraudClassifier(num_leaves=15)
    assert clf.get_params()["num_leaves"] == 15
    with pytest.raises(NotFittedError):
        clf.predict_proba(pd.DataFrame({"a": [1.0]}))


def test_explaining_only_flagged_claims(history: pd.DataFrame, trained) -> None:  # type: ignore[no-untyped-def]
    model, _ = trained
    claims, past = history.iloc[-400:], history.iloc[:-400]
    full = FraudScorer(model).score_frame(claims, past)
    quick = FraudScorer(model, explain_from=FraudBand.MEDIUM).score_frame(claims, past)
    np.testing.assert_allclose(full["score"], quick["score"])
    flagged = quick["band"] != "low"
    assert quick.loc[~flagged, "reason_1_feature"].isna().all()
    assert (quick.loc[flagged, "reason_1_feature"] == full.loc[flagged, "reason_1_feature"]).all()

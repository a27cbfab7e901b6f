"""Scoring claims with the fraud pipeline: calibrated probability, band (高/中/低) and top reasons.

Reasons come from LightGBM's `pred_contrib`, worded in Chinese and English for the adjuster
(`fraud.reasons.describe`). Scores are banded by the `fraud_high` / `fraud_medium` settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from fraud.estimator import FraudClassifier
from fraud.features import CATEGORICAL, FraudFeatures, epoch_seconds
from fraud.promotion import MODEL_NAME, past_needed
from fraud.reasons import describe
from pipeline.records import FraudBand, FraudReason, FraudScore
from pipeline.registry import ModelRegistry
from pipeline.settings import Settings, get_settings

__all__ = ["FraudScorer"]


class FraudScorer:
    """Scores claims with a fitted fraud pipeline: calibrated probability, band and top reasons.

    Features are past-only, so claims are scored together with the history they come after; the
    history may include the claims themselves (matched by claim_id, they are counted once).
    """

    def __init__(
        self,
        model: Pipeline,
        version: str = "unregistered",
        settings: Settings | None = None,
        n_reasons: int = 3,
        explain_from: FraudBand = FraudBand.LOW,
    ) -> None:
        """`explain_from`: the lowest band that gets reasons. LOW (the default) explains every claim;
        MEDIUM skips the TreeSHAP pass (`pred_contrib`, ~100x the cost of a score) for the claims
        nobody will read about, for scoring big batches fast."""
        self.model = model
        self.version = version
        self.settings = settings or get_settings()
        self.n_reasons = n_reasons
        self.explain_from = explain_from

    @classmethod
    def from_registry(
        cls, registry: ModelRegistry, version: str | None = None, settings: Settings | None = None
    ) -> FraudScorer:
        model, card = registry.load(MODEL_NAME, version)
        return cls(model, card.version, settings)

    def band(self, score: float) -> FraudBand:
        if score >= self.settings.fraud_high:
            return FraudBand.HIGH
        if score >= self.settings.fraud_medium:
            return FraudBand.MEDIUM
        return FraudBand.LOW

    def score_frame(self, claims: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row per claim: claim_id, score, band and reason_{i}_feature/_contribution/_message.

        Only the history that can change a feature is transformed with the claims (`past_needed`),
        so a day's batch against ten years of claims costs about a day and two years of features.
        """
        if history is not None and len(history):
            keep = past_needed(claims, history)
            if "claim_id" in history.columns:  # a claim in the history is counted once, as a claim
                keep &= ~history["claim_id"].isin(claims["claim_id"]).to_numpy(dtype=bool)
            combined = pd.concat([history[keep], claims], ignore_index=True)
        else:
            combined = claims.reset_index(drop=True)
        features: FraudFeatures = self.model.named_steps["features"]
        F = features.transform(combined).iloc[len(combined) - len(claims) :]
        out = self.score_features(F)
        out.insert(0, "claim_id", claims["claim_id"].to_numpy())
        out.index = claims.index
        return out

    def score_features(self, F: pd.DataFrame) -> pd.DataFrame:
        """The batch path once features are built: probability and band for every claim, reasons for
        the claims from the `explain_from` band up, all as whole-array operations.

        TreeSHAP (`pred_contrib`) costs about a hundred scores per claim, so a big batch is scored
        with `explain_from=MEDIUM`: reasons for the claims an investigator will open, as a
        production alert queue does; the others keep empty reason columns.
        """
        clf: FraudClassifier = self.model.named_steps["classifier"]
        features: FraudFeatures = self.model.named_steps["features"]
        score = clf.predict_proba(F)[:, 1]
        high, medium = self.settings.fraud_high, self.settings.fraud_medium
        out = pd.DataFrame({"score": score}, index=F.index)
        out["band"] = np.where(
            score >= high,
            FraudBand.HIGH.value,
            np.where(score >= medium, FraudBand.MEDIUM.value, FraudBand.LOW.value),
        )
        floor = {FraudBand.LOW: -np.inf, FraudBand.MEDIUM: medium}.get(self.explain_from, high)
        explain = np.flatnonzero(score >= floor)
        names = np.asarray(clf.feature_names_in_, dtype=object)
        k = min(self.n_reasons, len(names))
        reason_feature = np.full((len(F), k), None, dtype=object)
        reason_value = np.full((len(F), k), np.nan)
        reason_message = np.full((len(F), k), None, dtype=object)
        if len(explain):
            E = F.iloc[explain]
            C = clf.contributions(E)[1][:, :-1]  # the last column is the bias
            top = np.argsort(-C, axis=1, kind="stable")[:, :k]
            top_c = np.take_along_axis(C, top, axis=1)
            positive = top_c > 0
            reason_feature[explain] = np.where(positive, names[top], None)
            reason_value[explain] = np.where(positive, top_c, np.nan)
            limit, early = features.flash_limit_, features.early_days
            for j in range(k):  # wording: one string per explained claim and reason
                rows = np.flatnonzero(positive[:, j])
                for f in np.unique(top[rows, j]):
                    sel = rows[top[rows, j] == f]
                    column = E.iloc[sel, int(f)]
                    values = (
                        column.astype(object).to_numpy() if names[f] in CATEGORICAL else column.to_numpy()
                    )
                    reason_message[explain[sel], j] = [
                        describe(names[f], v, flash_limit=limit, early_days=early) for v in values
                    ]
        for j in range(k):
            out[f"reason_{j + 1}_feature"] = reason_feature[:, j]
            out[f"reason_{j + 1}_contribution"] = reason_value[:, j]
            out[f"reason_{j + 1}_message"] = reason_message[:, j]
        return out

    def score(self, claims: pd.DataFrame, history: pd.DataFrame | None = None) -> list[FraudScore]:
        """The same as `score_frame`, as `FraudScore` records for the case store."""
        frame = self.score_frame(claims, history)
        return [self._record(row) for row in frame.to_dict("records")]

    def score_claim(self, claim: Mapping[str, Any] | pd.Series, history: pd.DataFrame) -> FraudScore:
        """One claim, scored against the history as of its own time.

        Only the history that can matter is transformed (`past_needed`), so the result equals the
        batch score of the same claim.
        """
        row = pd.DataFrame([dict(claim)])
        t = epoch_seconds(row["claim_time"], "claim_time")[0]
        earlier = history[epoch_seconds(history["claim_time"], "claim_time") < t]
        return self.score(row, earlier)[0]

    def _record(self, row: Mapping[str, Any]) -> FraudScore:
        reasons = [
            FraudReason(
                feature=row[f"reason_{j}_feature"],
                contribution=float(row[f"reason_{j}_contribution"]),
                message=row[f"reason_{j}_message"],
            )
            for j in range(1, self.n_reasons + 1)
            if row.get(f"reason_{j}_feature") is not None
        ]
        return FraudScore(
            claim_id=str(row["claim_id"]),
            score=float(row["score"]),
            band=FraudBand(row["band"]),
            reasons=reasons,
            model_version=self.version,
        )

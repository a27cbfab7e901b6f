"""The ML gate (自动核赔闸门): may this rule-approved claim be paid without a person looking at it?

The rules say what the terms give; they cannot see that a figure was misread or that a file is odd in
ways no rule names. The gate is a calibrated classifier over features of the claim facts, its triage
and the rule trace, answering P(safe to pay unseen). Safe means: what the rules would pay is what a
correct adjudication pays. Calibrated (CalibratedClassifierCV, isotonic), so `settings.gate_threshold`
reads as a probability.

Training labels now come from synthetic claims read with simulated misreadings (a photographed
invoice's class or insurance split misread, sometimes flagged with low confidence): the label is
whether the rules' outcome on the facts as read agrees with the generator's truth. Later, adjusters'
decisions on routed claims replace them. The model is one scikit-learn Pipeline (feature builder,
vectoriser, calibrated boosting) saved through the model registry as "adjudication-gate".
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from adjudication.decide import adjudicate, payable_now
from adjudication.history import prior_claims
from adjudication.rules import RuleBook, load_rule_book
from classifiers.triage import triage
from pipeline.records import (
    Adjudication,
    ClaimFacts,
    Decision,
    TriageResult,
)
from pipeline.registry import ModelCard, ModelRegistry
from pipeline.settings import Settings

log = logging.getLogger(__name__)

GATE_NAME = "adjudication-gate"
MONEY_FIELDS = ("total", "fund_paid", "self_pay", "self_expense", "line_items", "insurance_class")


class GateInput(NamedTuple):
    """One row the gate looks at."""

    facts: ClaimFacts
    triage: TriageResult
    adjudication: Adjudication


def gate_features(facts: ClaimFacts, tri: TriageResult, adj: Adjudication) -> dict[str, float | str]:
    """Numbers and categories describing how much the rules' answer can be trusted."""
    claimed = float(facts.total_claimed) if facts.invoices else float(facts.claim.amount_claimed or 0)
    items = [i for inv in facts.invoices for i in inv.line_items]
    items_total = float(sum((i.amount for i in items), Decimal(0)))
    p = facts.policy
    low = facts.low_confidence_fields
    failed = [c for c in facts.failed_checks if not c.passed]
    age_days = (facts.claim.incident_date - p.effective_date).days if p else 0
    return {
        "claim_type": facts.claim_type.value,
        "complexity": tri.complexity.value,
        "channel": facts.claim.channel,
        "decision": adj.decision.value,
        "log_claimed": math.log1p(max(claimed, 0.0)),
        "log_payable": math.log1p(float(adj.payable)),
        "pay_share": float(adj.payable) / claimed if claimed > 0 else 0.0,
        "n_invoices": float(len(facts.invoices)),
        "n_items": float(len(items)),
        "n_documents": float(len(facts.documents_present)),
        "e_invoice_share": (sum(i.electronic for i in facts.invoices) / len(facts.invoices))
        if facts.invoices
        else 0.0,
        "items_gap": abs(items_total - claimed) / claimed if claimed > 0 else 0.0,
        "n_low_confidence": float(len(low)),
        "low_confidence_money": float(sum(any(f.startswith(m) or m in f for m in MONEY_FIELDS) for f in low)),
        "n_failed_checks": float(len(failed)),
        "n_warnings": float(sum(c.severity == "warning" for c in failed)),
        "n_info_hits": float(sum(1 for h in adj.trace if not h.passed and not h.fatal)),
        "days_in_hospital": float(facts.days_in_hospital or 0),
        "policy_age_years": age_days / 365.25,
        "star_tier": float(tri.star_tier),
        "social_insurance": float(bool(p and p.social_insurance)),
        "prior_paid_share": float(p.prior_paid_this_year / p.sum_insured) if p and p.sum_insured else 0.0,
        "n_diagnoses": float(len(facts.diagnoses)),
    }


class GateFeatures(TransformerMixin, BaseEstimator):
    """Turns `GateInput` rows into feature dicts (for a DictVectorizer)."""

    def fit(self, X: Sequence[GateInput], y: object = None) -> GateFeatures:
        self.n_rows_seen_ = len(X)
        return self

    def transform(self, X: Sequence[GateInput]) -> list[dict[str, float | str]]:
        check_is_fitted(self, "n_rows_seen_")
        return [gate_features(r.facts, r.triage, r.adjudication) for r in X]


def build_gate(random_state: int = 0) -> Pipeline:
    """The untrained gate: features -> one-hot/numbers -> scaled logistic regression, calibrated.

    Logistic regression, not boosting: the signal is a few additive warnings (low-confidence money
    fields, split warnings, paper vs e-invoice), it explains itself by its coefficients, and it
    answers one claim in well under a millisecond on one core (boosting's per-row OpenMP start-up
    cost 10-200 ms a claim on a loaded machine).
    """
    logit = LogisticRegression(C=1.0, max_iter=1000, random_state=random_state)
    return Pipeline(
        [
            ("features", GateFeatures()),
            ("vectorize", DictVectorizer(sparse=False)),
            ("scale", StandardScaler()),
            ("model", CalibratedClassifierCV(logit, method="isotonic", cv=3)),
        ]
    )


class AdjudicationGate:
    """A trained gate with its version and threshold: what `adjudication.decide` calls."""

    def __init__(self, pipeline: Pipeline, version: str, threshold: float) -> None:
        self.pipeline = pipeline
        self.version = version
        self.threshold = threshold

    def probability(self, facts: ClaimFacts, triage: TriageResult, adjudication: Adjudication) -> float:
        return float(self.pipeline.predict_proba([GateInput(facts, triage, adjudication)])[0, 1])

    def probabilities(self, rows: Sequence[GateInput]) -> np.ndarray:
        return self.pipeline.predict_proba(list(rows))[:, 1]


def load_gate(settings: Settings, registry: ModelRegistry | None = None) -> AdjudicationGate | None:
    """The champion gate, or None when none has been trained (decide then pays only simple claims)."""
    registry = registry or ModelRegistry(settings.models_dir)
    if registry.champion(GATE_NAME) is None:
        return None
    pipeline, card = registry.load(GATE_NAME)
    return AdjudicationGate(pipeline, card.version, settings.gate_threshold)


# --- training data ---------------------------------------------------------------------------------


class TrainingRow(NamedTuple):
    row: GateInput
    safe: bool


def training_rows(
    pairs: Iterable[tuple[ClaimFacts, Decision, Decimal]],
    settings: Settings,
    *,
    rules: RuleBook | None = None,
    now: dt.datetime | None = None,
) -> list[TrainingRow]:
    """Rule-approved claims with their label: does the rules' outcome agree with the truth?

    `pairs` are (facts as read, true decision, true payable); claims the rules do not approve are not
    the gate's business and are left out.
    """
    from adjudication.history import MemoryInvoiceHistory

    rules = rules or load_rule_book()
    pairs = list(pairs)
    history = MemoryInvoiceHistory(f for f, _, _ in pairs)
    out: list[TrainingRow] = []
    for facts, decision, payable in pairs:
        rs = rules.for_date(facts.claim.incident_date)
        adj, ev, _ = adjudicate(facts, rs, history)
        if adj.decision not in (Decision.APPROVE, Decision.PARTIAL):
            continue
        terms = ev.terms
        required = terms.documents_required(facts.claim_type, facts.direct_settlement) if terms else None
        tri = triage(
            facts,
            settings,
            now=now or facts.claim.submitted_at,
            required_documents=required,
            prior_claims=prior_claims(facts, history),
        )
        safe = decision in (Decision.APPROVE, Decision.PARTIAL) and payable_now(adj) == payable
        out.append(TrainingRow(GateInput(facts, tri, adj), safe))
    return out


def _ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: how far predicted probabilities are from observed frequencies."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.mean() * abs(y[m].mean() - p[m].mean())
    return float(total)


def fit_gate(
    rows: Sequence[TrainingRow], *, threshold: float, random_state: int = 0
) -> tuple[Pipeline, dict[str, float]]:
    """Fit on 75% of the rows, measure on the rest, then refit on everything; returns model and metrics."""
    X = [r.row for r in rows]
    y = np.array([int(r.safe) for r in rows])
    if len(set(y.tolist())) < 2:
        raise ValueError("the gate needs both safe and unsafe examples to learn from")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=random_state, stratify=y)
    model = build_gate(random_state).fit(X_tr, y_tr)
    p = model.predict_proba(X_te)[:, 1]
    passed = p >= threshold
    metrics = {
        "rows": float(len(y)),
        "safe_rate": float(y.mean()),
        "brier": float(brier_score_loss(y_te, p)),
        "brier_base": float(brier_score_loss(y_te, np.full_like(p, y_tr.mean(), dtype=float))),
        "roc_auc": float(roc_auc_score(y_te, p)),
        "ece": _ece(y_te, p),
        "pass_rate": float(passed.mean()),
        "unsafe_among_passed": float(1 - y_te[passed].mean()) if passed.any() else 0.0,
        "unsafe_caught": float((~passed & (y_te == 0)).sum() / max(1, (y_te == 0).sum())),
        "threshold": threshold,
    }
    final = build_gate(random_state).fit(X, y)
    return final, metrics


def train_gate(
    settings: Settings,
    pairs: Sequence[tuple[ClaimFacts, Decision, Decimal]],
    *,
    data_hash: str,
    params: dict[str, object] | None = None,
    notes: str = "",
    registry: ModelRegistry | None = None,
    promote: bool = True,
    random_state: int = 0,
) -> ModelCard:
    """Train the gate on past claims (facts as read, the right decision, the right payable amount),
    register it, and promote it if its Brier score is no worse than the champion's.

    Where the labels come from is the caller's business: adjusters' decisions from the store, or a
    synthetic book (`synth.facts.gate_training_pairs`) until there are enough of those.
    """
    rows = training_rows(pairs, settings)
    model, metrics = fit_gate(rows, threshold=settings.gate_threshold, random_state=random_state)
    registry = registry or ModelRegistry(settings.models_dir)
    card = registry.register(
        GATE_NAME,
        model,
        data_hash=data_hash,
        metrics=metrics,
        params={"calibration": "isotonic", "cv": 3, **(params or {})},
        notes=notes,
    )
    if promote:
        registry.promote_if_better(GATE_NAME, card.version, "brier", higher_is_better=False)
    log.info("gate %s: %s", card.version, metrics)
    return card

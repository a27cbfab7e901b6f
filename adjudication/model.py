"""The ML gate (自动核赔闸门): may this rule-approved claim be paid without a person looking at it?

The rules say what the terms give; they cannot see that a figure was misread or that a file is odd in
ways no rule names. The gate is a calibrated classifier over features of the claim facts, its triage
and the rule trace, answering P(safe to pay unseen). Safe means: what the rules would pay is what a
correct adjudication pays. Calibrated (CalibratedClassifierCV, isotonic), so `settings.gate_threshold`
reads as a probability.

Training labels now come from synthetic claims read with simulated misreadings (a photographed
invoice's class or insurance split misread, sometimes flagged with low confidence): the label is
whether the rules' outcome on the facts as read agrees with the generator's truth; the nightly
retrain adds adjusters' decisions on routed claims beside them. The model is one scikit-learn
Pipeline (feature builder, vectoriser, calibrated logistic regression) saved through the model
registry as "adjudication-gate".

Promotion: the first trainer of a registry freezes a holdout of rule-approved synthetic claims (from
a seed no trainer uses) with their label, as the gate sees them (facts, triage, the rules' answer).
Champion and challenger are both scored there at promotion time at the operating threshold
(`settings.gate_threshold`) by `review_cost`: per rule-approved claim, one adjuster review for each
claim the gate sends to a person, and 1 / (1 - threshold) reviews for each unsafe claim it lets
through unseen (the exchange rate at which the threshold is a calibrated gate's break-even point:
at 0.9 a wrong payment weighs ten reviews). Lower is better.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

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

from adjudication.benefit import settled_through_social_insurance
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
from pipeline.registry import Evaluate, ModelCard, ModelRegistry
from pipeline.settings import Settings

log = logging.getLogger(__name__)

GATE_NAME = "adjudication-gate"
HOLDOUT_FILE = "holdout.jsonl.gz"
PROMOTION_METRIC = "review_cost"
"""Per rule-approved claim, in adjuster reviews (lower is better): see the module's docstring."""
Pair = tuple[ClaimFacts, Decision, Decimal]
"""A past claim for the gate to learn from: facts as read, the right decision, the right payable."""
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
        # an enrolled insured's 自费-settled bill is paid a lower ratio: a low pay share, rightly
        "settled_share": (sum(map(settled_through_social_insurance, facts.invoices)) / len(facts.invoices))
        if facts.invoices
        else 0.0,
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
        required = terms.documents_for(facts) if terms else None
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


def wrong_pay_weight(threshold: float) -> float:
    """How many reviews one unsafe claim paid unseen costs: the rate at which `threshold` is the
    break-even of a calibrated gate (pass when P(unsafe) x weight <= one review)."""
    return 1.0 / max(1.0 - threshold, 1e-3)


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
        "wrong_pay_rate": float((passed & (y_te == 0)).mean()),
        "threshold": threshold,
    }
    weight = wrong_pay_weight(threshold)
    metrics["review_cost"] = 1 - metrics["pass_rate"] + weight * metrics["wrong_pay_rate"]
    final = build_gate(random_state).fit(X, y)
    return final, metrics


def write_holdout(rows: Sequence[TrainingRow], path: Path) -> None:
    """One JSON line per claim (what the gate sees and the label), gzip'd with no time stamp: the
    rows are frozen as the gate saw them, so a later rule set cannot move the holdout."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for r in rows:
            line = {
                "facts": r.row.facts.model_dump(mode="json"),
                "triage": r.row.triage.model_dump(mode="json"),
                "adjudication": r.row.adjudication.model_dump(mode="json"),
                "safe": r.safe,
            }
            gz.write((json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8"))


def read_holdout(path: Path) -> list[TrainingRow]:
    """The rows `write_holdout` saved."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        lines = [json.loads(line) for line in fh if line.strip()]
    return [
        TrainingRow(
            GateInput(
                ClaimFacts.model_validate(d["facts"]),
                TriageResult.model_validate(d["triage"]),
                Adjudication.model_validate(d["adjudication"]),
            ),
            bool(d["safe"]),
        )
        for d in lines
    ]


def holdout_metrics(model: Any, path: Path, *, threshold: float) -> dict[str, Any]:
    """Score a fitted gate on a frozen holdout file at the operating threshold.

    `pass_rate` is the straight-through share (rule-approved claims paid unseen), `wrong_pay_rate`
    the share paid unseen although unsafe, `review_cost` what the two cost in adjuster reviews per
    claim (`wrong_pay_weight`). The same function judges champion and challenger.
    """
    rows = read_holdout(path)
    y = np.array([int(r.safe) for r in rows])
    p = model.predict_proba([r.row for r in rows])[:, 1]
    passed = p >= threshold
    wrong = passed & (y == 0)
    weight = wrong_pay_weight(threshold)
    out: dict[str, Any] = {
        "n": len(rows),
        "threshold": threshold,
        "safe_rate": float(y.mean()),
        "pass_rate": float(passed.mean()),
        "wrong_pay_rate": float(wrong.mean()),
        "wrong_pays": int(wrong.sum()),
        "unsafe_among_passed": float(1 - y[passed].mean()) if passed.any() else 0.0,
        "wrong_pay_weight": weight,
        "review_cost": float((1 - passed.mean()) + weight * wrong.mean()),
        "brier": float(brier_score_loss(y, p)),
    }
    if len(set(y.tolist())) == 2:
        out["roc_auc"] = float(roc_auc_score(y, p))
    return out


def holdout_scorer(threshold: float) -> Evaluate:
    """`holdout_metrics` at one operating threshold, as `ModelRegistry.challenge` calls it."""
    return functools.partial(holdout_metrics, threshold=threshold)


def freeze_holdout(
    registry: ModelRegistry,
    settings: Settings,
    build: Callable[[], tuple[Sequence[Pair], str]],
    description: str = "",
) -> None:
    """Save the gate's holdout if the registry has none (`build()` makes the claims only then): the
    rule-approved ones, as the gate sees them, with their label. One already frozen is kept."""
    if registry.holdout(GATE_NAME) is not None:
        return
    pairs, source = build()
    rows = training_rows(pairs, settings)
    if len({r.safe for r in rows}) < 2:
        raise ValueError("the gate's holdout needs both safe and unsafe claims: generate more claims")
    registry.freeze_holdout(
        GATE_NAME,
        lambda path: write_holdout(rows, path),
        filename=HOLDOUT_FILE,
        source_hash=source,
        rows=len(rows),
        description=description,
    )


def train_gate(
    settings: Settings,
    pairs: Sequence[Pair],
    *,
    data_hash: str,
    params: dict[str, object] | None = None,
    notes: str = "",
    registry: ModelRegistry | None = None,
    promote: bool = True,
    random_state: int = 0,
    holdout: Callable[[], tuple[Sequence[Pair], str]] | None = None,
    holdout_note: str = "",
    margin: float | None = None,
) -> ModelCard:
    """Train the gate on past claims (facts as read, the right decision, the right payable amount),
    register it with its scores on the frozen holdout, and with `promote` make it champion only if
    its `review_cost` there beats the champion's by `margin` (default: `promotion_margin`), both
    scored now at `settings.gate_threshold`; without a holdout, on the cost each card wrote at
    training time.

    Where the labels come from is the caller's business: adjusters' decisions from the store beside
    a synthetic book (`synth.facts.gate_training_pairs`). `holdout()` is called only when the
    registry has no frozen holdout yet.
    """
    rows = training_rows(pairs, settings)
    model, metrics = fit_gate(rows, threshold=settings.gate_threshold, random_state=random_state)
    registry = registry or ModelRegistry(settings.models_dir)
    if holdout is not None:
        freeze_holdout(registry, settings, holdout, holdout_note)
    frozen = registry.holdout(GATE_NAME)
    card_metrics: dict[str, Any] = dict(metrics)
    if frozen is not None:
        card_metrics["holdout"] = holdout_metrics(
            model, registry.holdout_file(GATE_NAME), threshold=settings.gate_threshold
        )
    card = registry.register(
        GATE_NAME,
        model,
        data_hash=data_hash,
        metrics=card_metrics,
        params={"calibration": "isotonic", "cv": 3, **(params or {})},
        notes=notes,
        holdout_hash=frozen.hash if frozen is not None else None,
    )
    if promote:
        verdict = registry.challenge(
            GATE_NAME,
            card.version,
            PROMOTION_METRIC,
            evaluate=holdout_scorer(settings.gate_threshold) if frozen is not None else None,
            margin=settings.promotion_margin if margin is None else margin,
            higher_is_better=False,
        )
        log.info("gate %s: %s", card.version, verdict.reason)
    log.info("gate %s: %s", card.version, metrics)
    return registry.card(GATE_NAME, card.version)

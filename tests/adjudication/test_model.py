"""The ML gate: it learns which rule-approved claims are unsafe, is calibrated, and round-trips."""

from __future__ import annotations

import random

import numpy as np
import pytest

from adjudication.model import (
    GATE_NAME,
    AdjudicationGate,
    GateFeatures,
    GateInput,
    fit_gate,
    load_gate,
    training_rows,
)
from pipeline.registry import ModelRegistry
from pipeline.settings import Settings
from synth.facts import facts_from_truth, misread
from synth.truth import ClaimTruth


@pytest.fixture(scope="module")
def rows(synthetic_book: list[ClaimTruth]):  # type: ignore[no-untyped-def]
    from synth.book import make_book

    rng = random.Random(1)
    truths = synthetic_book + make_book(900, seed=6)
    pairs = [
        (misread(facts_from_truth(t), rng, rate=0.3), t.expected.decision, t.expected.payable) for t in truths
    ]
    return training_rows(pairs, Settings())


def test_misreading_changes_what_the_rules_pay(rows) -> None:  # type: ignore[no-untyped-def]
    safe = np.array([r.safe for r in rows])
    assert 0.6 < safe.mean() < 0.97  # both kinds of example are there
    flagged = np.array([bool(r.row.facts.low_confidence_fields) for r in rows])
    assert (~safe & flagged).sum() > (~safe & ~flagged).sum()  # most misreadings are flagged


def test_gate_trains_and_is_calibrated(rows, tmp_path) -> None:  # type: ignore[no-untyped-def]
    model, metrics = fit_gate(rows, threshold=0.9, random_state=0)
    assert metrics["roc_auc"] > 0.85
    assert metrics["brier"] < 0.6 * metrics["brier_base"]
    assert metrics["ece"] < 0.05
    # what it lets through: a 290-claim holdout swings by a point from split to split, so three splits
    splits = [metrics] + [fit_gate(rows, threshold=0.9, random_state=s)[1] for s in (1, 2)]
    unsafe_passed = np.mean([m["unsafe_among_passed"] for m in splits])
    unsafe_base = 1 - metrics["safe_rate"]
    assert unsafe_passed < 0.04 and unsafe_passed < unsafe_base / 4
    assert np.mean([m["unsafe_caught"] for m in splits]) > 0.8

    registry = ModelRegistry(tmp_path / "models")
    card = registry.register(GATE_NAME, model, data_hash="test", metrics=metrics)
    registry.promote(GATE_NAME, card.version)
    gate = load_gate(Settings(data_dir=tmp_path), registry)
    assert isinstance(gate, AdjudicationGate) and gate.version == card.version and gate.threshold == 0.9

    clean = [r.row for r in rows if r.safe and not r.row.facts.low_confidence_fields][:50]
    p_clean = gate.probabilities(clean)
    assert np.median(p_clean) > 0.9
    one = clean[0]
    assert gate.probability(one.facts, one.triage, one.adjudication) == pytest.approx(p_clean[0])


def test_no_champion_means_no_gate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert load_gate(Settings(data_dir=tmp_path)) is None


def test_feature_builder_is_a_transformer(rows) -> None:  # type: ignore[no-untyped-def]
    X = [r.row for r in rows[:5]]
    out = GateFeatures().fit(X).transform(X)
    assert len(out) == 5 and {"claim_type", "n_low_confidence", "log_payable"} <= set(out[0])
    with pytest.raises(Exception, match="not fitted"):
        GateFeatures().transform(X)


def test_a_single_class_cannot_be_learned(rows) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="both"):
        fit_gate([r for r in rows if r.safe], threshold=0.9)


def test_gate_input_is_what_decide_passes() -> None:
    assert GateInput._fields == ("facts", "triage", "adjudication")

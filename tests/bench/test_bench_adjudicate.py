"""bench.adjudicate on a small corpus: the machine's decisions are compared with the truth's, claim
for claim, and every claim is routed once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adjudication.rules import load_rule_book
from bench.adjudicate import error_model_runs, run
from pipeline.settings import Settings
from synth.book import make_book
from synth.facts import facts_from_truth


@pytest.mark.slow
def test_a_small_adjudication_bench_accounts_for_every_claim() -> None:
    r = run(claims=60, seed=5, corpus=None, train_claims=800)
    try:
        assert (r["bench"], r["claims"]) == ("adjudicate", 60)
        assert sum(r["routes"].values()) == 60 == sum(r["truth_to_route"].values())  # type: ignore[union-attr]
        for key in ("payable_exact", "decision_agreement", "straight_through_rate", "wrong_pay_rate"):
            assert 0 <= r[key] <= 1, key  # type: ignore[operator]
        assert r["payable_exact"] > 0.5  # type: ignore[operator]  # the rules agree with the truth on most claims
        # a denial by the terms is decided without a person but not paid: the product's figure is the larger
        assert r["straight_through_rate"] <= r["decided_without_person_rate"] <= 1  # type: ignore[operator]
        held = r["payable_held_back_by"]  # type: ignore[index]
        assert all(k.startswith("read right: ") for k in held)  # type: ignore[union-attr]
        # each share is rounded to 5 places: their sum may pass the whole by a few 1e-5
        assert sum(held.values()) + r["straight_through_rate"] <= r["truly_payable_share"] + 1e-4  # type: ignore[union-attr,operator]
        assert set(r["targets_met"]) >= {"payable_exact", "wrong_pay_rate", "golden_agreement"}  # type: ignore[arg-type]
        by_version = r["by_rule_set"]
        assert set(by_version) == {"2025.1", "2026.1"}  # type: ignore[arg-type]  # the book spans both
        assert sum(f["claims"] for f in by_version.values()) == 60  # type: ignore[union-attr,index]
        for f in by_version.values():  # type: ignore[union-attr]
            assert sum(f["routes"].values()) == f["claims"] and 0 <= f["payable_exact"] <= 1
        golden = r["golden"]
        assert golden["cases"] > 100 and golden["agreed"] == golden["cases"], golden["disagreements"]  # type: ignore[index]
    finally:
        shutil.rmtree(str(r["_work"]), ignore_errors=True)


def test_both_error_models_are_scored_on_the_same_claims(tmp_path: Path) -> None:
    """Simulated and measured misreadings, each decided and scored (no gate: only simple claims pay)."""
    truths = make_book(40, seed=3)
    facts = [facts_from_truth(t) for t in truths]
    r = error_model_runs(truths, facts, load_rule_book(), None, Settings(data_dir=tmp_path), seed=1)
    assert set(r) == {"simulated", "measured"}
    for m in r.values():
        assert 0 <= m["straight_through_rate"] <= 1  # type: ignore[operator]
        assert m["wrong_pay_claims"] <= m["paid_straight_through"]  # type: ignore[operator]
    measured = r["measured"]
    assert measured["fields_misread"] > 0 and 0 < measured["misread_claims"] <= 1  # type: ignore[operator]
    assert set(measured["targets_met"]) == {"wrong_pay_of_paid", "straight_through_rate"}  # type: ignore[arg-type]
    held = measured["payable_held_back_by"]  # type: ignore[index]
    assert sum(held.values()) <= measured["payable_held_back"] + 1e-9  # type: ignore[union-attr,operator]
    assert all(k.split(":")[0] in ("flagged misreading", "unflagged misreading", "read right") for k in held)
    flagged = measured["flagged_by_field"]  # type: ignore[index]
    assert flagged and all("." in k and 0 < v <= measured["flagged_claims"] for k, v in flagged.items())  # type: ignore[union-attr,operator]
    assert measured["straight_through_unflagged"] is None or 0 <= measured["straight_through_unflagged"] <= 1  # type: ignore[operator]
    assert r["simulated"]["misread_rate"] == 0.2 and "targets_met" not in r["simulated"]

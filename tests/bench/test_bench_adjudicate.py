"""bench.adjudicate on a small corpus: the machine's decisions are compared with the truth's, claim
for claim, and every claim is routed once."""

from __future__ import annotations

import shutil

import pytest

from bench.adjudicate import run


@pytest.mark.slow
def test_a_small_adjudication_bench_accounts_for_every_claim() -> None:
    r = run(claims=60, seed=5, corpus=None, train_claims=800)
    try:
        assert (r["bench"], r["claims"]) == ("adjudicate", 60)
        assert sum(r["routes"].values()) == 60 == sum(r["truth_to_route"].values())  # type: ignore[union-attr]
        for key in ("payable_exact", "decision_agreement", "straight_through_rate", "wrong_pay_rate"):
            assert 0 <= r[key] <= 1, key  # type: ignore[operator]
        assert r["payable_exact"] > 0.5  # type: ignore[operator]  # the rules agree with the truth on most claims
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

"""bench.fraud on a small history: one run trains, scores and measures, and says which targets it met."""

from __future__ import annotations

import pytest

from bench.fraud import run


@pytest.mark.slow
def test_a_small_fraud_bench_reports_quality_speed_and_memory() -> None:
    r = run(5000, seed=1)
    assert (r["bench"], r["rows"], r["seed"]) == ("fraud", 5000, 1)
    q = r["quality"]
    assert 0.5 < q["roc_auc"] <= 1 and 0 < q["base_rate"] < 0.1  # better than chance on a rare class
    assert r["pipeline"]["train_rows"] + r["pipeline"]["valid_rows"] + q["test_rows"] <= 5000
    assert (
        r["scoring"]["claims"] == q["test_rows"]
        and r["scoring"]["alerts_explained"] == r["scoring"]["alerts"]
    )
    assert r["memory"]["peak_rss_gib"] > 0
    assert set(r["targets"]["met"]) == {"pipeline_over_raw", "score_claims_per_s", "roc_auc", "peak_rss"}

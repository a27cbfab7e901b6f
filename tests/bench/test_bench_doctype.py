"""bench.doctype: each family is tested by a model that never saw it; a type of one family is listed."""

from __future__ import annotations

from bench.doctype import leave_one_family_out
from synth.doc_samples import drawn_others, pharmacy_documents


def test_each_family_is_left_out_in_turn() -> None:
    pharmacy = [(p, y, f"{y}/{k}") for p, y, k in pharmacy_documents(16, seed=3)]
    others = [
        (p, y, f"{y}/{k}") for p, y, k in drawn_others(24, seed=3, kinds=("lab_report", "train_ticket"))
    ]
    results, single = leave_one_family_out(pharmacy + others, threshold=0.8, max_test=4)
    assert set(results) == {f for _, _, f in pharmacy + others}
    assert single == []
    for r in results.values():
        assert r["documents"] == 4 and 0 <= r["right_above_threshold"] <= r["accuracy"] <= 1


def test_a_type_drawn_in_one_layout_cannot_be_left_out() -> None:
    pharmacy = [(p, y, f"{y}/{k}") for p, y, k in pharmacy_documents(8, seed=4)]
    others = [(p, y, f"{y}/lab_report") for p, y, _ in drawn_others(8, seed=4, kinds=("lab_report",))]
    results, single = leave_one_family_out(pharmacy + others, threshold=0.8)
    assert single == ["other/lab_report"]
    assert "other/lab_report" not in results

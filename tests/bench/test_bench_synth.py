"""bench.synth on a small corpus: the figures it reports are those of the corpora it generated."""

from __future__ import annotations

from bench.synth import TARGETS, run


def test_the_generator_bench_reports_both_corpora() -> None:
    r = run(claims=20, rendered=1, seed=21)
    assert (r["structured_claims"], r["rendered_claims"]) == (20, 1)
    assert r["structured_documents"] > 20 and r["rendered_documents"] >= 1  # every claim has documents
    assert r["rendered_mb"] > 0 and r["rendered_kb_per_document"] > 0
    assert r["targets"] == TARGETS and set(r["met"]) == set(TARGETS)

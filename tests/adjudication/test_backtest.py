"""Backtesting a rule-set change over a frozen set of claims reports what changes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from helpers.facts import items, make_facts

from adjudication.backtest import backtest
from adjudication.rules import RuleBook
from pipeline.records import Decision
from synth.facts import facts_from_truth
from synth.truth import ClaimTruth


def test_a_raised_deductible_turns_a_payment_into_a_denial(book: RuleBook) -> None:
    small = make_facts(claim_id="A", line_items=items(("诊察费", "诊察费", "甲", "180.00")))
    large = make_facts(
        claim_id="B", invoice_number="2", line_items=items(("诊察费", "诊察费", "甲", "1100.00"))
    )
    report = backtest([small, large], "2025.1", "2026.1", rules=book)
    assert report.claims == 2
    assert report.decisions_changed == 1 and report.transitions == {"approve->deny": 1}
    assert report.amounts_changed == 2
    # A: (180-100) x 0.8 = 64 -> nothing; B: (1100-100) x 0.8 = 800 -> (1100-200) x 0.8 = 720
    assert report.payable_from == Decimal("864.00") and report.payable_to == Decimal("720.00")
    assert report.payable_delta == Decimal("-144.00")
    assert report.codes_added == {"BELOW_DEDUCTIBLE": 1}
    change = next(c for c in report.changes if c.claim_id == "A")
    assert (change.from_decision, change.to_decision) == (Decision.APPROVE, Decision.DENY)


def test_same_version_changes_nothing(book: RuleBook, synthetic_book: list[ClaimTruth]) -> None:
    claims = [facts_from_truth(t) for t in synthetic_book[:100]]
    report = backtest(claims, "2025.1", "2025.1", rules=book)
    assert report.decisions_changed == 0 and report.amounts_changed == 0 and not report.changes


def test_backtest_over_a_generated_corpus(tmp_path: Path) -> None:
    from synth.documents import generate_corpus

    generate_corpus(tmp_path, 120, seed=9, render=False)
    from synth.facts import load_facts

    report = backtest(load_facts(tmp_path), "2025.1", "2026.1")
    assert report.claims == 120
    assert report.amounts_changed > 0 and report.payable_delta < 0
    assert "changes" not in report.summary()

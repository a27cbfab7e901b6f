"""Fixtures for the adjudication tests: the rule book and one small synthetic book shared by several."""

from __future__ import annotations

import pytest

from adjudication.rules import RuleBook, load_rule_book
from synth.truth import ClaimTruth


@pytest.fixture(scope="session")
def book() -> RuleBook:
    return load_rule_book()


@pytest.fixture(scope="session")
def synthetic_book() -> list[ClaimTruth]:
    """500 generated claims with problems planted at 20%, so every kind shows up."""
    from synth.book import make_book

    return make_book(500, seed=5, problem_rate=0.2)

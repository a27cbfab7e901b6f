from __future__ import annotations

from decimal import Decimal

import pytest

from synth.amounts import amount_in_words
from synth.book import make_book


@pytest.mark.parametrize(
    ("figures", "words"),
    [
        ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
        ("1000", "壹仟元整"),
        ("1005.50", "壹仟零伍元伍角"),
        ("10.05", "壹拾元零伍分"),
        ("0.50", "伍角"),
        ("100010.01", "壹拾万零壹拾元零壹分"),
        ("12000304", "壹仟贰佰万零叁佰零肆元整"),
        ("101", "壹佰零壹元整"),
    ],
)
def test_amount_in_words(figures: str, words: str) -> None:
    assert amount_in_words(Decimal(figures)) == words


def test_words_match_figures_unless_planted() -> None:
    book = make_book(300, seed=9, problem_rate=0.3)
    planted = 0
    for claim in book:
        for bill in claim.bills:
            agree = bill.printed_words == amount_in_words(bill.printed_total)
            if "words_figures_mismatch" in claim.planted:
                assert not agree
                planted += 1
            else:
                assert agree, claim.claim_id
    assert planted

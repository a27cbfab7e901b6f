from __future__ import annotations

import datetime as dt
import random

from synth.book import make_book
from synth.people import (
    id_check_digit,
    id_number_valid,
    luhn_check_digit,
    luhn_valid,
    make_bank_card,
    make_person,
)
from synth.policies import star_tier


def test_gb11643_published_example() -> None:
    assert id_check_digit("11010519491231002") == "X"
    assert id_number_valid("11010519491231002X")
    assert not id_number_valid("110105194912310021")


def test_luhn_known_numbers() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert luhn_check_digit("7992739871") == "3"


def test_generated_identities_are_valid_in_form() -> None:
    rng = random.Random(1)
    day = dt.date(2026, 1, 1)
    for _ in range(300):
        p = make_person(rng, day)
        assert id_number_valid(p.id_number), p.id_number
        assert p.id_number[6:14] == p.birth_date.strftime("%Y%m%d")
        assert int(p.id_number[16]) % 2 == (1 if p.sex == "男" else 0)
        assert luhn_valid(make_bank_card(rng, p.name, day).number)


def test_book_identities_and_cards() -> None:
    for claim in make_book(200, seed=5):
        assert id_number_valid(claim.claimant.id_number)
        assert id_number_valid(claim.insured.id_number)
        assert luhn_valid(claim.bank_card.number)


def test_star_tiers() -> None:
    from decimal import Decimal as D

    assert [
        star_tier(D(v)) for v in ("9999.99", "10000", "29999", "30000", "100000", "299999", "300000")
    ] == [1, 2, 2, 3, 4, 4, 5]

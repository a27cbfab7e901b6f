"""The `other` pages: every kind draws something a classifier can meet, and none carries truth fields."""

from __future__ import annotations

import random

import pytest

from pipeline.records import DocType
from synth.doc_samples import drawn_others, extra_documents, other_documents, pharmacy_documents
from synth.other_docs import DRAWERS


@pytest.mark.parametrize("kind", DRAWERS)
def test_every_kind_draws_a_page_without_fields(kind: str) -> None:
    rng = random.Random(kind)
    for _ in range(5):
        canvas = DRAWERS[kind](rng)
        assert canvas.fields == []
        if kind != "blank_page":
            assert len(canvas.runs) >= 5


def test_blank_pages_print_next_to_nothing() -> None:
    rng = random.Random(3)
    for _ in range(20):
        assert sum(len(r.text) for r in DRAWERS["blank_page"](rng).runs) < 12


def test_samples_are_labelled_and_cover_every_kind() -> None:
    drawn = drawn_others(28, seed=1)
    assert {kind for _, _, kind in drawn} == set(DRAWERS)
    assert {label for _, label, _ in drawn} == {DocType.OTHER.value}
    assert len(other_documents(30, seed=1)) == 30
    pharmacy = pharmacy_documents(8, seed=1)
    assert {label for _, label, _ in pharmacy} == {DocType.PHARMACY_INVOICE.value}
    labels = [label for _, label in extra_documents(200, seed=1)]
    assert labels.count("other") == 50 and labels.count("pharmacy_invoice") == 16

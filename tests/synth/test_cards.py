"""Cards photographed on a desk: the fields move with the card, and its strings only when asked."""

from __future__ import annotations

import random

import pytest

from pipeline.records import DocType
from synth import cards
from synth.book import make_book


@pytest.mark.parametrize("draw", [cards.id_card, cards.bank_card])
def test_keep_text_moves_the_strings_with_the_card(draw) -> None:  # type: ignore[no-untyped-def]
    claim = make_book(3, seed=4)[0]
    doc = next(d for d in claim.documents if d.doc_type in (DocType.ID_CARD, DocType.BANK_CARD))
    plain, _, _ = draw(claim, doc, random.Random(1))
    kept, _, _ = draw(claim, doc, random.Random(1), keep_text=True)
    assert plain.runs == []  # the corpus: pixels and fields, no text layer
    assert [f.box for f in kept.fields] == [f.box for f in plain.fields]  # same draws, same desk
    # every field's string is among the moved runs, at the field's own place
    for f in kept.fields:
        run = next(r for r in kept.runs if r.text == f.text)
        assert (run.bbox[0], run.bbox[1]) == pytest.approx(f.box[0])

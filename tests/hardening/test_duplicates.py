"""One invoice, two claims, decided in the other order: found while loading the intake API (issue 11).

The duplicate-invoice rule once held a key only against a claim submitted earlier. But claims are
decided in the queue's order (intake: when each request finished; a batch folder: by claim id), not
the order they were submitted in: the later copy, decided first, found no earlier claim and was paid,
and then the original found only a later one and was paid too. A claim decided (indexed) before this
one now counts as first too (`SeenKey.seq`), whenever it was submitted.
"""

from __future__ import annotations

from pathlib import Path

from adjudication.rules import load_rule_book
from flows import steps
from pipeline.settings import Settings
from pipeline.store import open_store
from synth.book import make_book
from synth.facts import facts_from_truth


def test_an_invoice_is_paid_once_whichever_claim_is_decided_first(tmp_path: Path) -> None:
    book = {t.claim_id: t for t in make_book(300, 7)}
    copy = next(t for t in book.values() if any(b.duplicate_of for b in t.bills))
    original = book[next(b.duplicate_of for b in copy.bills if b.duplicate_of)]
    settings = Settings(data_dir=tmp_path / "data")
    store = open_store(settings)
    models = steps.Models(doc_type=None, rules=load_rule_book(), gate=None, fraud=None)  # type: ignore[arg-type]
    later, earlier = facts_from_truth(copy), facts_from_truth(original)
    assert earlier.claim.submitted_at < later.claim.submitted_at
    paid = 0
    for facts in (later, earlier):  # the copy reached the queue first
        store.save_claim(facts.claim)
        store.put_result(facts.claim.claim_id, "facts", facts)
        steps.decide_step(store, facts, None, models, settings)
        result = steps.payout_step(store, facts, facts.claim.claim_id, issued_by="test")
        paid += bool(result.instruction)
    assert paid <= 1

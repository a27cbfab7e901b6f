"""A small agreement check: the engine against the generator's independent expected outcomes."""

from __future__ import annotations

from collections import Counter

from adjudication.decide import adjudicate, payable_now
from adjudication.history import MemoryInvoiceHistory
from adjudication.rules import RuleBook
from synth.facts import facts_from_truth
from synth.truth import ClaimTruth


def test_engine_agrees_with_the_generators_truth(book: RuleBook, synthetic_book: list[ClaimTruth]) -> None:
    facts = [facts_from_truth(t) for t in synthetic_book]
    history = MemoryInvoiceHistory(facts)
    n = len(facts)
    decisions = payables = codes = missing = 0
    wrong: Counter[str] = Counter()
    for t, f in zip(synthetic_book, facts, strict=True):
        adj, ev, _ = adjudicate(f, book.for_date(f.claim.incident_date), history)
        e = t.expected
        decisions += adj.decision == e.decision
        payables += payable_now(adj) == e.payable
        codes += set(e.reason_codes) <= set(adj.reason_codes)
        missing += ev.missing_documents == e.missing_documents
        if adj.decision != e.decision:
            wrong[f"{e.decision.value}->{adj.decision.value}"] += 1
    kinds = Counter(t.expected.decision.value for t in synthetic_book)
    assert len(kinds) == 5, kinds  # approve, partial, deny, refer and request_info all present
    assert decisions / n >= 0.99, wrong
    assert payables / n >= 0.995
    assert codes / n >= 0.99
    assert missing / n >= 0.99

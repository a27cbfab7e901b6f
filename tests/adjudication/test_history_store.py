"""Duplicate invoices and shared accounts found through the case store (SQLite, migration 0002)."""

from __future__ import annotations

import datetime as dt

from helpers.facts import make_facts

from adjudication.decide import decide
from adjudication.history import StoreInvoiceHistory
from adjudication.rules import RuleBook, evaluate
from pipeline.records import Route
from pipeline.settings import Settings
from pipeline.store import open_store


def test_duplicate_invoice_across_the_case_store(settings: Settings, book: RuleBook) -> None:
    store = open_store(settings)
    try:
        history = StoreInvoiceHistory(store)
        first = make_facts(claim_id="A")
        history.record(first)
        history.record(first)  # indexing twice changes nothing
        assert len(store.find_claim_keys("policy", next(iter(_keys(first, "policy"))))) == 1

        again = make_facts(claim_id="B", submitted=first.claim.submitted_at + dt.timedelta(days=30))
        history.record(again)
        rs = book.get("2025.1")
        assert not [h for h in evaluate(first, rs, history).hits if not h.passed]
        hit = next(h for h in evaluate(again, rs, history).hits if h.code == "DUPLICATE_INVOICE")
        assert hit.fatal and not hit.passed and "A" in hit.message

        b = decide(
            again,
            rules=book,
            history=history,
            gate=None,
            fraud=None,
            settings=settings,
            now=dt.datetime.now(dt.UTC),
        )
        assert b.outcome.route is Route.DENY and b.adjudication.reason_codes == ["DUPLICATE_INVOICE"]

        other = make_facts(
            claim_id="C", invoice_number="9", hospital="北京协和医院", claimant_id="110105194912310021"
        )
        history.record(other)
        shared = next(h for h in evaluate(other, rs, history).hits if h.code == "SHARED_PAYEE_ACCOUNT")
        assert not shared.passed and not shared.fatal
    finally:
        store.engine.dispose()


def _keys(facts, kind):  # type: ignore[no-untyped-def]
    from adjudication.history import claim_keys

    return {k.key for k in claim_keys(facts) if k.kind == kind}


def test_the_batch_decide_step_indexes_what_it_decides(settings: Settings, book: RuleBook) -> None:
    """The flow's own step: a second claim with an invoice already decided is a duplicate."""
    from flows.steps import Models, decide_step

    store = open_store(settings)
    models = Models(doc_type=None, rules=book, gate=None, fraud=None)  # type: ignore[arg-type]
    try:
        first = make_facts(claim_id="A")
        again = make_facts(claim_id="B", submitted=first.claim.submitted_at + dt.timedelta(days=30))
        for facts in (first, again):
            store.save_claim(facts.claim)
        assert decide_step(store, first, None, models, settings).outcome.route is not Route.DENY
        b = decide_step(store, again, None, models, settings)
        assert b.bundle is not None and b.outcome.route is Route.DENY
        assert b.bundle.adjudication.reason_codes == ["DUPLICATE_INVOICE"]
    finally:
        store.engine.dispose()

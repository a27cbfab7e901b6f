"""Duplicate invoices and shared accounts found through the case store (SQLite, migration 0002)."""

from __future__ import annotations

import datetime as dt

from helpers.facts import make_facts

from adjudication.decide import decide, index_and_decide
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


def test_index_and_decide_indexes_what_it_decides(settings: Settings, book: RuleBook) -> None:
    """What the runner calls: a second claim with an invoice already decided is a duplicate."""
    store = open_store(settings)
    try:
        history = StoreInvoiceHistory(store)
        first = make_facts(claim_id="A")
        again = make_facts(claim_id="B", submitted=first.claim.submitted_at + dt.timedelta(days=30))
        now = dt.datetime.now(dt.UTC)
        kw = {
            "rules": book,
            "history": history,
            "gate": None,
            "fraud": None,
            "settings": settings,
            "now": now,
        }
        assert index_and_decide(first, **kw).outcome.route is not Route.DENY  # type: ignore[arg-type]
        b = index_and_decide(again, **kw)  # type: ignore[arg-type]
        assert b.outcome.route is Route.DENY
        assert b.adjudication.reason_codes == ["DUPLICATE_INVOICE"]
        assert decide(first, **kw).outcome.route is not Route.DENY  # type: ignore[arg-type]  # B came later
    finally:
        store.engine.dispose()

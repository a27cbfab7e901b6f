"""Backtesting (回溯测试) a rule-set change: replay a frozen set of claims under two versions.

Before a new rule set goes live, every claim of a frozen set is adjudicated under the old and the new
version (rules and benefit only: no gate, no fraud score, the same invoice history for both), and the
report says which decisions and amounts change, by how much in total, and why (the reason codes that
appear or disappear). `claims rules backtest --from 2025.1 --to 2026.1 --claims DIR|db`.
"""

from __future__ import annotations

import logging
from collections import Counter
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from adjudication.decide import adjudicate, payable_now
from adjudication.history import InvoiceHistory, MemoryInvoiceHistory
from adjudication.rules import RuleBook, load_rule_book
from pipeline.records import ClaimFacts, Decision, Money, money
from pipeline.stages import Stage

log = logging.getLogger(__name__)


class BacktestChange(BaseModel):
    claim_id: str
    from_decision: Decision
    to_decision: Decision
    from_payable: Money
    to_payable: Money
    codes_added: list[str] = Field(default_factory=list)
    codes_removed: list[str] = Field(default_factory=list)


class BacktestReport(BaseModel):
    """What changes when `to_version` replaces `from_version` on the same claims."""

    from_version: str
    to_version: str
    claims: int
    decisions_changed: int
    amounts_changed: int
    payable_from: Money
    payable_to: Money
    payable_delta: Money
    transitions: dict[str, int] = Field(description="from->to decision counts, changed ones only")
    codes_added: dict[str, int]
    codes_removed: dict[str, int]
    changes: list[BacktestChange] = Field(description="the changed claims (at most `max_changes`)")

    def summary(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"changes"})


def backtest(
    claims: list[ClaimFacts],
    from_version: str,
    to_version: str,
    *,
    rules: RuleBook | None = None,
    history: InvoiceHistory | None = None,
    max_changes: int = 500,
) -> BacktestReport:
    """Adjudicate `claims` under both versions and report what changed."""
    book = rules or load_rule_book()
    old, new = book.get(from_version), book.get(to_version)
    history = history if history is not None else MemoryInvoiceHistory(claims)
    total_old = total_new = Decimal(0)
    transitions: Counter[str] = Counter()
    added: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    changes: list[BacktestChange] = []
    decisions_changed = amounts_changed = 0
    for facts in claims:
        a, _, _ = adjudicate(facts, old, history)
        b, _, _ = adjudicate(facts, new, history)
        pa, pb = payable_now(a), payable_now(b)
        total_old += pa
        total_new += pb
        if a.decision == b.decision and pa == pb and a.reason_codes == b.reason_codes:
            continue
        decisions_changed += a.decision != b.decision
        amounts_changed += pa != pb
        if a.decision != b.decision:
            transitions[f"{a.decision.value}->{b.decision.value}"] += 1
        plus = sorted(set(b.reason_codes) - set(a.reason_codes))
        minus = sorted(set(a.reason_codes) - set(b.reason_codes))
        added.update(plus)
        removed.update(minus)
        if len(changes) < max_changes:
            changes.append(
                BacktestChange(
                    claim_id=facts.claim.claim_id,
                    from_decision=a.decision,
                    to_decision=b.decision,
                    from_payable=pa,
                    to_payable=pb,
                    codes_added=plus,
                    codes_removed=minus,
                )
            )
    report = BacktestReport(
        from_version=from_version,
        to_version=to_version,
        claims=len(claims),
        decisions_changed=decisions_changed,
        amounts_changed=amounts_changed,
        payable_from=money(total_old),
        payable_to=money(total_new),
        payable_delta=money(total_new - total_old),
        transitions=dict(transitions),
        codes_added=dict(added),
        codes_removed=dict(removed),
        changes=changes,
    )
    log.info("backtest %s -> %s: %s", from_version, to_version, report.summary())
    return report


def backtest_store(
    store: Any, from_version: str, to_version: str, *, batch_id: str | None = None, **kw: Any
) -> BacktestReport:
    """Backtest over the claims in the case store whose facts were persisted (stage `facts`)."""
    from adjudication.history import StoreInvoiceHistory

    claims = []
    for claim in store.list_claims(batch_id=batch_id):
        facts = store.get_result(claim.claim_id, Stage.FACTS, ClaimFacts)
        if facts is not None:
            claims.append(facts)
    kw.setdefault("history", StoreInvoiceHistory(store))
    return backtest(claims, from_version, to_version, **kw)

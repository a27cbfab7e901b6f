"""Memory across claims (duplicate invoices, shared payee accounts, prior claims): which other claims
carried the same invoice, visit, payee account or policy, in memory or over the case store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, runtime_checkable

from pipeline.records import ClaimFacts

__all__ = [
    "ClaimKey",
    "InvoiceHistory",
    "MemoryInvoiceHistory",
    "SeenKey",
    "StoreInvoiceHistory",
    "came_earlier",
    "claim_keys",
    "claimant_key",
    "norm_key",
    "prior_claims",
]


class ClaimKey(NamedTuple):
    """Something a claim can be recognised by: kind is invoice, visit, account or policy."""

    kind: str
    key: str
    amount: Decimal | None = None


class SeenKey(NamedTuple):
    """Another claim that carried the same key."""

    claim_id: str
    claimant: str
    submitted_at: dt.datetime
    seq: int = 0
    """Order in which claims were indexed, i.e. decided: a claim decided before this one may have been
    paid, whenever it was submitted."""


def _digest(text: str) -> str:
    # account numbers and invoice numbers are kept as digests: the index needs equality, not the value
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def norm_key(text: str | None) -> str:
    """A name or number as compared: no whitespace, upper case."""
    return "".join((text or "").split()).upper()


def claim_keys(facts: ClaimFacts) -> list[ClaimKey]:
    """The keys a claim is recognised by: invoice code+number, hospital+date+amount, payee, policy."""
    keys: list[ClaimKey] = []
    for inv in facts.invoices:
        if inv.invoice_number:
            keys.append(
                ClaimKey(
                    "invoice",
                    _digest(f"{norm_key(inv.invoice_code)}|{norm_key(inv.invoice_number)}"),
                    inv.total,
                )
            )
        hospital = inv.hospital or facts.hospital
        day = inv.visit_date or inv.issue_date
        if hospital and day:
            keys.append(
                ClaimKey("visit", _digest(f"{norm_key(hospital)}|{day.isoformat()}|{inv.total}"), inv.total)
            )
    if facts.payee_account:
        keys.append(ClaimKey("account", _digest(norm_key(facts.payee_account))))
    keys.append(ClaimKey("policy", _digest(norm_key(facts.claim.policy_number))))
    return keys


def claimant_key(facts: ClaimFacts) -> str:
    """Who claims: the ID number when known, else the name."""
    return norm_key(facts.claim.claimant_id_number) or norm_key(facts.claim.claimant)


@runtime_checkable
class InvoiceHistory(Protocol):
    """Which other claims carried a key (an invoice, a visit, a payee account, a policy)."""

    def record(self, facts: ClaimFacts) -> None: ...

    def seen(self, kind: str, key: str) -> list[SeenKey]: ...


class MemoryInvoiceHistory:
    """An `InvoiceHistory` in a dict: for tests, benchmarks and one batch at a time."""

    def __init__(self, claims: Iterable[ClaimFacts] = ()) -> None:
        self._seen: dict[tuple[str, str], list[SeenKey]] = defaultdict(list)
        self._recorded: set[str] = set()
        for f in claims:
            self.record(f)

    def record(self, facts: ClaimFacts) -> None:
        cid = facts.claim.claim_id
        if cid in self._recorded:
            return
        self._recorded.add(cid)
        who = claimant_key(facts)
        for k in claim_keys(facts):
            seq = len(self._recorded)
            self._seen[(k.kind, k.key)].append(SeenKey(cid, who, facts.claim.submitted_at, seq))

    def seen(self, kind: str, key: str) -> list[SeenKey]:
        return self._seen.get((kind, key), [])


class StoreInvoiceHistory:
    """An `InvoiceHistory` over the case store's `claim_keys` table (migration 0002)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def record(self, facts: ClaimFacts) -> None:
        submitted = facts.claim.submitted_at
        self.store.index_claim_keys(
            facts.claim.claim_id,
            claimant=claimant_key(facts),
            # in UTC: SQLite keeps no offset, and `came_earlier` reads an offset-less time as UTC
            submitted_at=submitted.astimezone(dt.UTC) if submitted.tzinfo else submitted,
            keys=[(k.kind, k.key, k.amount) for k in claim_keys(facts)],
        )

    def seen(self, kind: str, key: str) -> list[SeenKey]:
        return [
            SeenKey(r["claim_id"], r["claimant"], r["submitted_at"], r["id"])
            for r in self.store.find_claim_keys(kind, key)
        ]


def _naive(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t


def came_earlier(other: SeenKey, facts: ClaimFacts) -> bool:
    """The other claim came first (submitted earlier; on a tie, the smaller claim id)."""
    a, b = _naive(other.submitted_at), _naive(facts.claim.submitted_at)
    return a < b or (a == b and other.claim_id < facts.claim.claim_id)


def prior_claims(facts: ClaimFacts, history: InvoiceHistory | None) -> int:
    """Other claims on the same policy that came before this one (for triage)."""
    if history is None:
        return 0
    key = next(k.key for k in claim_keys(facts) if k.kind == "policy")
    return sum(
        1
        for s in history.seen("policy", key)
        if s.claim_id != facts.claim.claim_id and came_earlier(s, facts)
    )

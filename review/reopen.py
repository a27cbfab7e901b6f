"""Reopening a decided claim: the one way past a final decision, a senior's, with a reason.

A recorded decision is final: re-runs, retries and take-overs never change it. When a decision
must be looked at again (a complaint, an audit finding, a document found forged after payment), a
senior adjuster or a claims manager reopens it, from the claim page or with `claims reopen CLAIM
--reason ... --by USER`. That records a new decision version routing the claim to the queue, with
the reason on it and in the audit trail; the next decision pays only what is not yet paid.
"""

from __future__ import annotations

from sqlalchemy import select

from pipeline import decisions
from pipeline.errors import ClaimsError
from pipeline.review_tables import UserRow, require_schema
from pipeline.store import CaseStore
from review.auth import CAPABILITIES, Cap, Role

REOPEN_PRIORITY = 100
"""A reopened claim goes to the top of the queue: somebody senior asked for it."""


def reopen_claim(store: CaseStore, username: str, claim_id: str, reason: str) -> decisions.Recorded:
    """Reopen `claim_id` as `username`, who must be an active senior adjuster or claims manager."""
    require_schema(store.engine)
    with store.session() as s:
        user = s.scalar(select(UserRow).where(UserRow.username == username))
        role = user.role if user is not None else None
        active = bool(user and user.active)
    if role is None or not active:
        raise ClaimsError(f"no active review-app account {username!r} (`claims review adduser`)")
    try:
        caps = CAPABILITIES[Role(role)]
    except ValueError:
        caps = frozenset()
    if Cap.APPROVE not in caps:
        raise ClaimsError(
            f"{username} is a {role}: only a senior adjuster or a claims manager reopens a claim"
        )
    return decisions.reopen(
        store,
        claim_id,
        by=username,
        reason=reason,
        routing=decisions.Routing(priority=REOPEN_PRIORITY, due_at=None),
    )

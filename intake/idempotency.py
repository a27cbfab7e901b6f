"""Idempotency-Key (幂等键): a retried request gets the first answer, never a second claim.

The key is kept per owner with a digest of the request and the answer given. A retry of the same
request gets the same answer; the same key with another request is refused (409); a request that
crashed half-way is taken over by its retry once it has been pending for `STALE_PENDING`, every
write of the service being an upsert of the same rows. A refused request stores nothing and does
not use up its key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from intake.errors import IntakeError
from intake.keys import Caller
from pipeline.intake_tables import IdempotencyRow
from pipeline.store import CaseStore, utcnow

__all__ = [
    "IDEMPOTENCY_KEY",
    "STALE_PENDING",
    "IdempotencyKeys",
    "Reply",
    "check_idempotency_key",
    "request_hash",
]

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{1,128}$")
STALE_PENDING = dt.timedelta(minutes=2)
"""An idempotency key still `pending` after this long belongs to a request that died: a retry takes over."""


@dataclass
class Reply:
    """What an endpoint answers; `replayed` when it is the stored answer to an earlier try."""

    status: int
    body: dict[str, Any]
    claim_id: str | None = None
    replayed: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def check_idempotency_key(key: str | None, required: bool = True) -> str | None:
    if key is None or not key.strip():
        if required:
            raise IntakeError(
                "idempotency_key_missing",
                "the Idempotency-Key header is required: send a new random key (a UUID) with each new"
                " claim and the same key when retrying it",
                400,
                field="Idempotency-Key",
            )
        return None
    key = key.strip()
    if not IDEMPOTENCY_KEY.match(key):
        raise IntakeError(
            "idempotency_key_invalid",
            "the Idempotency-Key header must be 1 to 128 letters, digits or - _ : . (a UUID will do)",
            400,
            field="Idempotency-Key",
        )
    return key


def request_hash(value: Any) -> str:
    """The digest a key is kept with: the same request always gives the same one."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _in_progress(key: str) -> IntakeError:
    return IntakeError(
        "request_in_progress",
        f"a request with Idempotency-Key {key!r} is still being processed; retry in a few seconds with"
        " the same key",
        409,
        field="Idempotency-Key",
    )


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


class IdempotencyKeys:
    """The callers' keys in the case store: begin a request, finish it with its answer, or abandon it."""

    def __init__(self, store: CaseStore) -> None:
        self.store = store

    def begin(self, caller: Caller, key: str, digest: str, claim_id: str | None) -> Reply | None:
        """Claim the key for this request; the stored reply if it was answered already."""
        for _ in range(2):
            with self.store.session() as s:
                row = s.scalar(
                    select(IdempotencyRow).where(
                        IdempotencyRow.owner == caller.owner, IdempotencyRow.idempotency_key == key
                    )
                )
                if row is None:
                    pass
                elif row.request_hash != digest:
                    raise IntakeError(
                        "idempotency_key_reused",
                        f"Idempotency-Key {key!r} was already used for a different request"
                        f"{f' (claim {row.claim_id})' if row.claim_id else ''}; send a new key with a new"
                        " request",
                        409,
                        field="Idempotency-Key",
                    )
                elif row.state == "done":
                    return Reply(
                        row.status_code or 200, dict(row.response or {}), row.claim_id, replayed=True
                    )
                elif _aware(row.created_at) > utcnow() - STALE_PENDING:
                    raise _in_progress(key)
                else:  # the first try died half-way: this retry finishes it (same claim id, upserts)
                    # a compare-and-set, so of two retries arriving together only one takes it over
                    taken = s.execute(
                        update(IdempotencyRow)
                        .where(
                            IdempotencyRow.id == row.id,
                            IdempotencyRow.state == "pending",
                            IdempotencyRow.created_at < utcnow() - STALE_PENDING,
                        )
                        .values(created_at=utcnow())
                        .execution_options(synchronize_session=False)
                    )
                    if taken.rowcount == 1:
                        return None
                    raise _in_progress(key)
            try:
                with self.store.session() as s:
                    s.add(
                        IdempotencyRow(
                            owner=caller.owner,
                            idempotency_key=key,
                            request_hash=digest,
                            claim_id=claim_id,
                        )
                    )
                return None
            except IntegrityError:  # a concurrent try with the same key got there first: look again
                continue
        raise IntakeError("request_in_progress", f"Idempotency-Key {key!r} is in use; retry shortly", 409)

    def finish(self, caller: Caller, key: str | None, reply: Reply) -> None:
        """Keep the answer, so a retry gets it again."""
        if key is None:
            return
        with self.store.session() as s:
            row = s.scalar(
                select(IdempotencyRow).where(
                    IdempotencyRow.owner == caller.owner, IdempotencyRow.idempotency_key == key
                )
            )
            if row is not None:
                row.state, row.status_code, row.response = "done", reply.status, reply.body
                row.claim_id = reply.claim_id

    def abandon(self, caller: Caller, key: str | None) -> None:
        """Free a key whose request failed on our side, so its retry starts afresh."""
        if key is None:
            return
        with self.store.session() as s:
            s.execute(
                delete(IdempotencyRow).where(
                    IdempotencyRow.owner == caller.owner,
                    IdempotencyRow.idempotency_key == key,
                    IdempotencyRow.state == "pending",
                )
            )

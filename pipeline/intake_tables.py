"""The intake API's tables and its queue, on the case store's `Base` (one metadata, one Alembic
history: 0004). The spine owns the whole schema; the HTTP door (`intake/`) and the intake flow use these.

- `intake_api_keys`: one row per API key. Only the SHA-256 of the key is kept; the key is shown
  once, when it is made (`claims intake addkey`). A key belongs to a channel (customer app, agent
  tool, hospital) and to an owner (`channel:name`): claims belong to the owner, so a rotated key
  still sees its predecessor's claims and nobody else's.
- `intake_claims`: the claims that came through the API, whose they are, and where they stand in
  the intake queue (queued -> processing -> done; back to queued when a document request is
  answered), with the claimant's rating of the service (理赔服务打分).
- `intake_idempotency`: the client's Idempotency-Key per owner with a digest of the request and the
  response given, so a retried upload replays the answer instead of making a second claim.
- `intake_document_requests`: requests for documents (电子照会) shown to the client, and their answers.

Everything a claim is (documents, stage results, decisions, payments, audit) stays in the case
store's own tables; these only say who may see it and what the API promised.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store import Base, CaseStore, utcnow

QUEUED, PROCESSING, DONE = "queued", "processing", "done"
STALE_PROCESSING = dt.timedelta(minutes=30)
"""A claim `processing` for longer than this was left by a crashed run: the next run takes it again."""


class ApiKeyRow(Base):
    """An API key of one channel and owner; `secret_hash` is the SHA-256 of the whole key."""

    __tablename__ = "intake_api_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(128))
    owner: Mapped[str] = mapped_column(String(160), index=True)
    rate_per_minute: Mapped[float | None] = mapped_column(Float)
    burst: Mapped[int | None] = mapped_column(Integer)
    settlement_bank: Mapped[str | None] = mapped_column(String(128))
    settlement_account: Mapped[str | None] = mapped_column(String(32))
    """A hospital's corporate account (对公账户) for direct settlement (医疗直付)."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class IntakeClaimRow(Base):
    """A claim that came through the API: its owner and its place in the intake queue."""

    __tablename__ = "intake_claims"

    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(160), index=True)
    key_id: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    structured: Mapped[bool] = mapped_column(Boolean, default=False)
    """A hospital's JSON submission: its documents need no OCR."""
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    rounds: Mapped[int] = mapped_column(Integer, default=1)
    """How often the claim was queued: 1, plus one per answered document request."""
    queued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdempotencyRow(Base):
    """One Idempotency-Key of one owner: the request it was first used for, and the answer given."""

    __tablename__ = "intake_idempotency"
    __table_args__ = (UniqueConstraint("owner", "idempotency_key", name="uq_intake_idempotency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(160))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    claim_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DocumentRequestRow(Base):
    """A request for documents (电子照会) as the client saw it, and when it was answered."""

    __tablename__ = "intake_document_requests"
    __table_args__ = (UniqueConstraint("claim_id", "decision_version", name="uq_intake_doc_request"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), index=True)
    decision_version: Mapped[int] = mapped_column(Integer)
    documents: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    answer: Mapped[list[Any] | None] = mapped_column(JSON)


# --- the intake queue (used by the intake-batch flow) ------------------------------------------


def take_queued(store: CaseStore, claim_ids: list[str] | None = None) -> list[str]:
    """Move queued claims (all, or those named) to `processing` and return them.

    A compare-and-set per claim, so two runs never take the same claim; a claim left `processing`
    by a crashed run for longer than `STALE_PROCESSING` is taken again.
    """
    now = utcnow()
    stale = now - STALE_PROCESSING
    with store.session() as s:
        q = select(IntakeClaimRow.claim_id, IntakeClaimRow.status, IntakeClaimRow.started_at).where(
            IntakeClaimRow.status.in_((QUEUED, PROCESSING))
        )
        if claim_ids is not None:
            q = q.where(IntakeClaimRow.claim_id.in_(claim_ids))
        candidates = [
            (cid, status)
            for cid, status, started in s.execute(q.order_by(IntakeClaimRow.queued_at))
            if status == QUEUED or started is None or _aware(started) < stale
        ]
    taken = []
    for cid, status in candidates:
        with store.session() as s:
            res = s.execute(
                update(IntakeClaimRow)
                .where(IntakeClaimRow.claim_id == cid, IntakeClaimRow.status == status)
                .values(status=PROCESSING, started_at=now)
            )
            if res.rowcount == 1:
                taken.append(cid)
    return taken


def finish_claims(store: CaseStore, claim_ids: list[str], status: str = DONE) -> None:
    """Mark claims done (or back to queued when a run failed before deciding them)."""
    if not claim_ids:
        return
    with store.session() as s:
        s.execute(
            update(IntakeClaimRow)
            .where(IntakeClaimRow.claim_id.in_(claim_ids), IntakeClaimRow.status == PROCESSING)
            .values(status=status, finished_at=utcnow() if status == DONE else None)
        )


def queued_claims(store: CaseStore) -> list[str]:
    with store.session() as s:
        return list(
            s.scalars(
                select(IntakeClaimRow.claim_id)
                .where(IntakeClaimRow.status == QUEUED)
                .order_by(IntakeClaimRow.queued_at)
            )
        )


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)

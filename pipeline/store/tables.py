"""The case store's tables: one declarative `Base` for the whole schema, one row class per table.

Alembic migrations in `pipeline/migrations` create and change these tables; the classes here only
map them. Records are kept as their pydantic JSON beside the columns that queries need, so the store
never loses a field a stage wrote.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(t: dt.datetime | None) -> dt.datetime | None:
    """A time as UTC, for a column: SQLite keeps a time's digits and drops its zone, so a Beijing time
    written as is would read back eight hours off. A time without a zone is taken as UTC already."""
    if t is None:
        return None
    return t.astimezone(dt.UTC) if t.tzinfo else t.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class BatchRow(Base):
    __tablename__ = "batches"

    batch_id: Mapped[str] = mapped_column(String(96), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ClaimRow(Base):
    __tablename__ = "claims"

    claim_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batches.batch_id"), index=True)
    policy_number: Mapped[str] = mapped_column(String(64), index=True)
    claimant: Mapped[str] = mapped_column(String(128))
    claimant_id_number: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(32), default="received", index=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The Claim record without its documents (those are rows of claim_documents)."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # the claim's clock as the claimant lives it (`pipeline.records.ClaimTimes`), kept by the writers:
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When the claimant submitted it (the record's `submitted_at`)."""
    documents_complete_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When the store held the documents it is decided on: its receipt, or the answer to its request
    for documents (`decisions.resume`); None while a request for documents waits."""
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    """When its latest final decision (pay or deny) was made; None while it is open."""
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When its latest payment instruction was issued (`pipeline.payout.pay`)."""
    notice_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When the notice of its final decision went out: with the machine's decision, or when
    `apply_review` recorded an adjuster's."""

    __mapper_args__ = {"version_id_col": version}


class DocumentRow(Base):
    """One file's bytes, whoever sent it: the SHA-256 is the key, so a file is stored once."""

    __tablename__ = "documents"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ClaimDocumentRow(Base):
    """A file as part of one claim: its name, its status there, and the type it was read as."""

    __tablename__ = "claim_documents"
    __table_args__ = (UniqueConstraint("claim_id", "filename", name="uq_claim_document_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.sha256"), index=True)
    filename: Mapped[str] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16))
    problem: Mapped[str | None] = mapped_column(Text)
    doc_type: Mapped[str | None] = mapped_column(String(32))


class PageRow(Base):
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("document_id", "ocr_key", "number", name="uq_page"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.sha256", ondelete="CASCADE"))
    ocr_key: Mapped[str] = mapped_column(String(128))
    """Engine, model and cleaning versions the page was read with."""
    number: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16), default="ocr")


class TextLineRow(Base):
    __tablename__ = "text_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    box: Mapped[list[Any]] = mapped_column(JSON)
    score: Mapped[float]
    source: Mapped[str] = mapped_column(String(16), default="ocr")
    raw_text: Mapped[str | None] = mapped_column(Text)


class FieldRow(Base):
    """Extracted fields, one row each, so adjusters' corrections are rows too (training labels)."""

    __tablename__ = "fields"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), index=True)
    document_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str | None] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    corrected_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StageResultRow(Base):
    """A stage's output for a claim (or one of its documents): present means done, never redone."""

    __tablename__ = "stage_results"
    __table_args__ = (UniqueConstraint("claim_id", "stage", "key", name="uq_stage_result"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128), default="")
    record_type: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DecisionRow(Base):
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("claim_id", "decision_version", name="uq_decision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), index=True)
    decision_version: Mapped[int] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(32), index=True)
    payable: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str] = mapped_column(String(96), default="machine")
    """`machine` (the runner), `review:<user>` (an adjuster's decision applied), `reopen:<user>`."""


class PaymentExportRow(Base):
    """One payment file (a CSV and a JSON): every instruction is in exactly one (`pipeline.payout`)."""

    __tablename__ = "payment_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(128))
    """Who made the file: `batch <id>`, `intake <id>`, `apply_review`, `claims payments export`."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    count: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    csv_sha256: Mapped[str | None] = mapped_column(String(64))
    json_sha256: Mapped[str | None] = mapped_column(String(64))
    """Digests of the two files as first written: a rewrite (`--again`) must give the same bytes."""


class PaymentRow(Base):
    """The ledger: one payment instruction a row, at most one per decision version."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("claim_id", "decision_version", name="uq_payment_decision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"), index=True)
    decision_version: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    status: Mapped[str] = mapped_column(String(16), default="instructed")
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_by: Mapped[str] = mapped_column(String(128), default="")
    """The run that issued it: `batch <id>`, `intake <id>`, `apply_review`."""
    export_id: Mapped[int | None] = mapped_column(ForeignKey("payment_exports.id"), index=True)
    """The one payment file it left in; None until exported."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewTaskRow(Base):
    """A claim waiting for a person; `locked_by` keeps two adjusters off the same claim."""

    __tablename__ = "review_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(24), default="open", index=True)
    """open -> (awaiting_approval ->) done; `closed` when a re-run decided a claim that had failed."""
    decision_version: Mapped[int | None] = mapped_column(Integer)
    """The decision that routed the claim to a person: an adjuster's decision follows exactly it."""
    priority: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class AuditEventRow(Base):
    """Append-only (triggers in the migration refuse UPDATE and DELETE on both databases)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_claim_at", "claim_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    claim_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ClaimKeyRow(Base):
    """What a claim is recognised by (invoice code+number, hospital+date+amount, payee account, policy),
    as digests: finds duplicate invoices and shared accounts across the whole store (adjudication)."""

    __tablename__ = "claim_keys"
    __table_args__ = (
        UniqueConstraint("claim_id", "kind", "key", name="uq_claim_key"),
        Index("ix_claim_keys_kind_key", "kind", "key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    claimant: Mapped[str] = mapped_column(String(128))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

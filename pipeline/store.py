"""The case store: every claim, document, stage result, decision, payment and audit event.

SQLAlchemy 2 over a SQLite file by default, PostgreSQL by URL; the schema is created and changed only
by the Alembic migrations in `pipeline/migrations`. Records are kept as their pydantic JSON beside the
columns that queries need, so the store never loses a field a stage wrote. Document files live
outside the database, content-addressed by SHA-256 (`DocumentFiles`), each stored once.

Flows persist each stage's output here, which is what lets a batch re-run after a crash continue
where it stopped: a stage result or a payment that exists is not made again. Decisions and payments
are written only by `pipeline.decisions` and `pipeline.payout`, each under the claim's lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
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
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from pipeline.records import (
    Claim,
    DocStatus,
    Document,
    Outcome,
    Page,
    PaymentInstruction,
    ReviewDecision,
    TextLine,
)
from pipeline.settings import Settings

log = logging.getLogger(__name__)

R = TypeVar("R", bound=BaseModel)

MIGRATIONS = Path(__file__).with_name("migrations")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- schema -------------------------------------------------------------------------------------


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


# --- document files -----------------------------------------------------------------------------


class DocumentFiles:
    """Content-addressed files: `documents/ab/<sha256>`, written once, atomically."""

    def __init__(self, root: Path, quarantine_root: Path) -> None:
        self.root = root
        self.quarantine_root = quarantine_root

    def _target(self, root: Path, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return root / sha256[:2] / sha256

    def put(self, src: Path, sha256: str, media_type: str | None = None) -> Path:
        """Copy `src` in under its hash; a file already there is kept (same hash, same bytes)."""
        target = self._target(self.root, sha256)
        if not target.exists():
            _atomic_copy(src, target)
        return target

    def quarantine(self, src: Path, sha256: str, reason: str) -> Path:
        target = self._target(self.quarantine_root, sha256)
        if not target.exists():
            _atomic_copy(src, target)
        note = target.with_name(sha256 + ".reason.txt")
        if not note.exists():  # apart from the copy: a disk that filled between the two is retried
            note.write_text(reason + "\n", encoding="utf-8")
        return target

    def path(self, sha256: str) -> Path | None:
        target = self._target(self.root, sha256)
        return target if target.exists() else None


def _atomic_copy(src: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- the store ----------------------------------------------------------------------------------


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic (the only way the schema changes)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


class CaseStore:
    """The one door to persisted state; every method is a short transaction of its own."""

    def __init__(self, engine: Engine, files: DocumentFiles) -> None:
        self.engine = engine
        self.files = files
        self._session = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session() as s, s.begin():
            yield s

    # batches ----------------------------------------------------------------------------------

    def start_batch(self, batch_id: str, source: str) -> None:
        with self.session() as s:
            if s.get(BatchRow, batch_id) is None:
                s.add(BatchRow(batch_id=batch_id, source=source))

    def finish_batch(self, batch_id: str, summary: dict[str, Any]) -> None:
        with self.session() as s:
            row = s.get(BatchRow, batch_id)
            if row is None:
                raise KeyError(f"no batch {batch_id}")
            row.finished_at = utcnow()
            row.summary = summary

    def get_batch(self, batch_id: str) -> dict[str, Any] | None:
        with self.session() as s:
            row = s.get(BatchRow, batch_id)
            if row is None:
                return None
            return {
                "batch_id": row.batch_id,
                "source": row.source,
                "started_at": row.started_at,
                "finished_at": row.finished_at,
                "summary": row.summary,
            }

    # claims and documents ---------------------------------------------------------------------

    def save_claim(self, claim: Claim, batch_id: str | None = None) -> None:
        """Insert or update a claim and its documents; re-saving the same claim changes nothing."""
        record = claim.model_dump(mode="json", exclude={"documents"})
        with self.session() as s:
            if batch_id is not None and s.get(BatchRow, batch_id) is None:
                s.add(BatchRow(batch_id=batch_id, source=""))
                s.flush()
            row = s.get(ClaimRow, claim.claim_id)
            if row is None:
                row = ClaimRow(claim_id=claim.claim_id, status="received")
                s.add(row)
            row.batch_id = batch_id if batch_id is not None else row.batch_id
            row.policy_number = claim.policy_number
            row.claimant = claim.claimant
            row.claimant_id_number = claim.claimant_id_number
            row.record = record
            for doc in claim.documents:
                self._save_document(s, doc)

    def _save_document(self, s: Session, doc: Document) -> None:
        if s.get(DocumentRow, doc.id) is None:
            # INSERT .. ON CONFLICT DO NOTHING: the same bytes may be stored at this very moment for
            # another claim (a family's ID card sent with two claims at once); a plain insert would
            # then fail this whole claim, where the other's row is the very row we want
            dialect = s.get_bind().dialect.name
            insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
            s.execute(
                insert(DocumentRow)
                .values(
                    sha256=doc.id,
                    media_type=doc.media_type,
                    size_bytes=doc.size_bytes,
                    page_count=doc.page_count,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=[DocumentRow.sha256])
            )
        link = s.scalar(
            select(ClaimDocumentRow).where(
                ClaimDocumentRow.claim_id == doc.claim_id, ClaimDocumentRow.filename == doc.filename
            )
        )
        if link is None:
            link = ClaimDocumentRow(claim_id=doc.claim_id, filename=doc.filename)
            s.add(link)
        link.document_id = doc.id
        link.status = doc.status.value
        link.problem = doc.problem
        link.doc_type = doc.doc_type.value if doc.doc_type else link.doc_type

    def get_claim(self, claim_id: str) -> Claim | None:
        with self.session() as s:
            row = s.get(ClaimRow, claim_id)
            return None if row is None else self._claim(s, row)

    def list_claims(self, batch_id: str | None = None, status: str | None = None) -> list[Claim]:
        with self.session() as s:
            q = select(ClaimRow).order_by(ClaimRow.claim_id)
            if batch_id is not None:
                q = q.where(ClaimRow.batch_id == batch_id)
            if status is not None:
                q = q.where(ClaimRow.status == status)
            return [self._claim(s, row) for row in s.scalars(q)]

    def _claim(self, s: Session, row: ClaimRow) -> Claim:
        q = (
            select(ClaimDocumentRow, DocumentRow)
            .join(DocumentRow, DocumentRow.sha256 == ClaimDocumentRow.document_id)
            .where(ClaimDocumentRow.claim_id == row.claim_id)
            .order_by(ClaimDocumentRow.id)
        )
        docs = [
            Document(
                id=d.sha256,
                claim_id=link.claim_id,
                filename=link.filename,
                media_type=d.media_type,
                size_bytes=d.size_bytes,
                page_count=d.page_count,
                status=DocStatus(link.status),
                problem=link.problem,
                doc_type=link.doc_type,
            )
            for link, d in s.execute(q)
        ]
        return Claim.model_validate({**row.record, "documents": docs})

    def claim_status(self, claim_id: str) -> str | None:
        with self.session() as s:
            return s.scalar(select(ClaimRow.status).where(ClaimRow.claim_id == claim_id))

    def set_claim_status(self, claim_id: str, status: str) -> None:
        with self.session() as s:
            row = s.get(ClaimRow, claim_id)
            if row is None:
                raise KeyError(f"no claim {claim_id}")
            row.status = status

    def set_doc_type(self, claim_id: str, document_id: str, doc_type: str) -> None:
        with self.session() as s:
            for link in s.scalars(
                select(ClaimDocumentRow).where(
                    ClaimDocumentRow.claim_id == claim_id, ClaimDocumentRow.document_id == document_id
                )
            ):
                link.doc_type = doc_type

    def count_claims(self) -> int:
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(ClaimRow)) or 0

    # pages and lines (the OCR result, per engine/model/cleaning version) ----------------------

    def save_pages(self, document_id: str, ocr_key: str, pages: list[Page]) -> None:
        with self.session() as s:
            existing = s.scalars(
                select(PageRow).where(PageRow.document_id == document_id, PageRow.ocr_key == ocr_key)
            ).all()
            for row in existing:  # a re-read replaces the old reading of the same version
                s.delete(row)
            s.flush()
            for page in pages:
                prow = PageRow(
                    document_id=document_id,
                    ocr_key=ocr_key,
                    number=page.number,
                    width=page.width,
                    height=page.height,
                    rotation=page.rotation,
                    source=page.source,
                )
                s.add(prow)
                s.flush()
                s.add_all(
                    TextLineRow(
                        page_id=prow.id,
                        idx=i,
                        text=ln.text,
                        box=[list(p) for p in ln.box],
                        score=ln.score,
                        source=ln.source,
                        raw_text=ln.raw_text,
                    )
                    # a page's QR codes are rows too, after its lines: source "qr" sends them back
                    for i, ln in enumerate([*page.lines, *page.codes])
                )

    def get_pages(self, document_id: str, ocr_key: str) -> list[Page] | None:
        with self.session() as s:
            prows = s.scalars(
                select(PageRow)
                .where(PageRow.document_id == document_id, PageRow.ocr_key == ocr_key)
                .order_by(PageRow.number)
            ).all()
            if not prows:
                return None
            pages = []
            for p in prows:
                lines = s.scalars(
                    select(TextLineRow).where(TextLineRow.page_id == p.id).order_by(TextLineRow.idx)
                ).all()
                read = [
                    TextLine(
                        text=ln.text,
                        box=ln.box,
                        score=ln.score,
                        source=ln.source,  # type: ignore[arg-type]
                        raw_text=ln.raw_text,
                    )
                    for ln in lines
                ]
                pages.append(
                    Page(
                        number=p.number,
                        width=p.width,
                        height=p.height,
                        rotation=p.rotation,
                        source=p.source,  # type: ignore[arg-type]
                        lines=[ln for ln in read if ln.source != "qr"],
                        codes=[ln for ln in read if ln.source == "qr"],
                    )
                )
            return pages

    # stage results ----------------------------------------------------------------------------

    def put_result(self, claim_id: str, stage: str, record: BaseModel, key: str = "") -> None:
        """Persist a stage's output; writing the same (claim, stage, key) again replaces it."""
        payload = record.model_dump(mode="json")
        with self.session() as s:
            row = s.scalar(
                select(StageResultRow).where(
                    StageResultRow.claim_id == claim_id,
                    StageResultRow.stage == stage,
                    StageResultRow.key == key,
                )
            )
            if row is None:
                s.add(
                    StageResultRow(
                        claim_id=claim_id,
                        stage=stage,
                        key=key,
                        record_type=type(record).__name__,
                        record=payload,
                    )
                )
            else:
                row.record = payload
                row.record_type = type(record).__name__

    def get_result(self, claim_id: str, stage: str, model: type[R], key: str = "") -> R | None:
        with self.session() as s:
            payload = s.scalar(
                select(StageResultRow.record).where(
                    StageResultRow.claim_id == claim_id,
                    StageResultRow.stage == stage,
                    StageResultRow.key == key,
                )
            )
            return None if payload is None else model.model_validate(payload)

    def results(self, claim_id: str, stage: str, model: type[R]) -> dict[str, R]:
        with self.session() as s:
            rows = s.execute(
                select(StageResultRow.key, StageResultRow.record)
                .where(StageResultRow.claim_id == claim_id, StageResultRow.stage == stage)
                .order_by(StageResultRow.key)
            ).all()
            return {k: model.model_validate(rec) for k, rec in rows}

    # decisions and payments (written by `pipeline.decisions` and `pipeline.payout`) -------------

    def latest_decision_version(self, claim_id: str) -> int | None:
        with self.session() as s:
            return s.scalar(
                select(func.max(DecisionRow.decision_version)).where(DecisionRow.claim_id == claim_id)
            )

    def claim_received_at(self, claim_ids: list[str]) -> dict[str, dt.datetime]:
        """When each claim was first stored: the start of its processing time."""
        with self.session() as s:
            rows = s.execute(
                select(ClaimRow.claim_id, ClaimRow.created_at).where(ClaimRow.claim_id.in_(claim_ids))
            )
            return {cid: at if at.tzinfo else at.replace(tzinfo=dt.UTC) for cid, at in rows}

    def latest_outcome(self, claim_id: str) -> Outcome | None:
        with self.session() as s:
            rec = s.scalar(
                select(DecisionRow.record)
                .where(DecisionRow.claim_id == claim_id)
                .order_by(DecisionRow.decision_version.desc())
                .limit(1)
            )
            return None if rec is None else Outcome.model_validate(rec)

    def payments(self, claim_id: str | None = None) -> list[PaymentInstruction]:
        with self.session() as s:
            q = select(PaymentRow.record).order_by(PaymentRow.id)
            if claim_id is not None:
                q = q.where(PaymentRow.claim_id == claim_id)
            return [PaymentInstruction.model_validate(r) for r in s.scalars(q)]

    # review tasks -----------------------------------------------------------------------------

    def lock_review(self, claim_id: str, user: str) -> bool:
        """Take a claim for review; False if another user holds it (a compare-and-set, race-free)."""
        with self.session() as s:
            res = s.execute(
                ReviewTaskRow.__table__.update()
                .where(
                    ReviewTaskRow.claim_id == claim_id,
                    ReviewTaskRow.status == "open",
                    (ReviewTaskRow.locked_by.is_(None)) | (ReviewTaskRow.locked_by == user),
                )
                .values(locked_by=user, locked_at=utcnow(), version=ReviewTaskRow.version + 1)
            )
            return res.rowcount == 1

    def complete_review(self, decision: ReviewDecision) -> bool:
        """Record a decision once: only the lock holder of an undecided task can complete it."""
        with self.session() as s:
            res = s.execute(
                ReviewTaskRow.__table__.update()
                .where(
                    ReviewTaskRow.claim_id == decision.claim_id,
                    ReviewTaskRow.status == "open",
                    ReviewTaskRow.locked_by == decision.reviewer,
                )
                .values(
                    status="done",
                    decision=decision.model_dump(mode="json"),
                    version=ReviewTaskRow.version + 1,
                )
            )
            return res.rowcount == 1

    def review_tasks(self, status: str | None = "open") -> list[dict[str, Any]]:
        with self.session() as s:
            q = select(ReviewTaskRow).order_by(ReviewTaskRow.priority.desc(), ReviewTaskRow.due_at)
            if status is not None:
                q = q.where(ReviewTaskRow.status == status)
            return [
                {c.name: getattr(r, c.name) for c in ReviewTaskRow.__table__.columns} for r in s.scalars(q)
            ]

    # claim keys (duplicate invoices, shared accounts) -------------------------------------------

    def index_claim_keys(
        self,
        claim_id: str,
        *,
        claimant: str,
        submitted_at: dt.datetime,
        keys: list[tuple[str, str, Decimal | None]],
    ) -> None:
        """Remember what a claim is recognised by; indexing the same claim again changes nothing."""
        with self.session() as s:
            have = {
                (kind, key)
                for kind, key in s.execute(
                    select(ClaimKeyRow.kind, ClaimKeyRow.key).where(ClaimKeyRow.claim_id == claim_id)
                )
            }
            for kind, key, amount in dict.fromkeys(keys):
                if (kind, key) not in have:
                    s.add(
                        ClaimKeyRow(
                            claim_id=claim_id,
                            kind=kind,
                            key=key,
                            claimant=claimant,
                            amount=amount,
                            submitted_at=submitted_at,
                        )
                    )

    def find_claim_keys(self, kind: str, key: str) -> list[dict[str, Any]]:
        """Every claim that carried this key, oldest first."""
        with self.session() as s:
            rows = s.scalars(
                select(ClaimKeyRow)
                .where(ClaimKeyRow.kind == kind, ClaimKeyRow.key == key)
                .order_by(ClaimKeyRow.submitted_at, ClaimKeyRow.claim_id)
            )
            return [
                {
                    "id": r.id,
                    "claim_id": r.claim_id,
                    "claimant": r.claimant,
                    "amount": r.amount,
                    "submitted_at": r.submitted_at,
                }
                for r in rows
            ]

    # audit ------------------------------------------------------------------------------------

    def audit(
        self, actor: str, action: str, claim_id: str | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        with self.session() as s:
            s.add(AuditEventRow(actor=actor, action=action, claim_id=claim_id, detail=detail or {}))

    def audit_events(self, claim_id: str | None = None) -> list[dict[str, Any]]:
        with self.session() as s:
            q = select(AuditEventRow).order_by(AuditEventRow.id)
            if claim_id is not None:
                q = q.where(AuditEventRow.claim_id == claim_id)
            return [
                {
                    "id": r.id,
                    "at": r.at,
                    "actor": r.actor,
                    "action": r.action,
                    "claim_id": r.claim_id,
                    "detail": r.detail,
                }
                for r in s.scalars(q)
            ]


def open_store(settings: Settings, *, migrate_schema: bool = True) -> CaseStore:
    """The case store for these settings, its schema brought up to date."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    if migrate_schema:
        migrate(engine)
    return CaseStore(engine, DocumentFiles(settings.documents_dir, settings.quarantine_dir))

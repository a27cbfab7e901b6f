"""Batches, claims and their documents: what was received, from which batch, in what state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from pipeline.records import Claim, ClaimTimes, DocStatus, Document
from pipeline.store.engine import Repository
from pipeline.store.tables import (
    BatchRow,
    ClaimDocumentRow,
    ClaimRow,
    DecisionRow,
    DocumentRow,
    as_utc,
    utcnow,
)


class BatchRepository(Repository):
    """A batch folder's run: when it started and finished, and its summary."""

    def start(self, batch_id: str, source: str) -> None:
        with self.session() as s:
            if s.get(BatchRow, batch_id) is None:
                s.add(BatchRow(batch_id=batch_id, source=source))

    def finish(self, batch_id: str, summary: dict[str, Any]) -> None:
        with self.session() as s:
            row = s.get(BatchRow, batch_id)
            if row is None:
                raise KeyError(f"no batch {batch_id}")
            row.finished_at = utcnow()
            row.summary = summary

    def get(self, batch_id: str) -> dict[str, Any] | None:
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


class ClaimRepository(Repository):
    """Claims with their documents: one file's bytes once (`documents`), linked to each claim by name."""

    def save(self, claim: Claim, batch_id: str | None = None, received_at: dt.datetime | None = None) -> None:
        """Insert or update a claim and its documents; re-saving the same claim changes nothing.

        A new claim's documents are complete as received (`received_at`, now by default) until a
        decision asks for more."""
        record = claim.model_dump(mode="json", exclude={"documents"})
        with self.session() as s:
            if batch_id is not None and s.get(BatchRow, batch_id) is None:
                s.add(BatchRow(batch_id=batch_id, source=""))
                s.flush()
            row = s.get(ClaimRow, claim.claim_id)
            if row is None:
                received = as_utc(received_at) or utcnow()
                row = ClaimRow(claim_id=claim.claim_id, status="received", documents_complete_at=received)
                s.add(row)
            row.submitted_at = as_utc(claim.submitted_at)
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

    def get(self, claim_id: str) -> Claim | None:
        with self.session() as s:
            row = s.get(ClaimRow, claim_id)
            return None if row is None else self._claim(s, row)

    def all(self, batch_id: str | None = None, status: str | None = None) -> list[Claim]:
        """Every claim, or a batch's, or those in one status; by claim id."""
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

    def status(self, claim_id: str) -> str | None:
        with self.session() as s:
            return s.scalar(select(ClaimRow.status).where(ClaimRow.claim_id == claim_id))

    def set_status(self, claim_id: str, status: str) -> None:
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

    def count(self) -> int:
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(ClaimRow)) or 0

    def received_at(self, claim_ids: list[str]) -> dict[str, dt.datetime]:
        """When each claim was first stored: the start of its processing time."""
        with self.session() as s:
            rows = s.execute(
                select(ClaimRow.claim_id, ClaimRow.created_at).where(ClaimRow.claim_id.in_(claim_ids))
            )
            return {cid: at if at.tzinfo else at.replace(tzinfo=dt.UTC) for cid, at in rows}

    def times(self, claim_ids: list[str]) -> dict[str, ClaimTimes]:
        """Each claim's clock (submitted, documents complete, decided, paid, notified) with its latest
        decision's route and amount; claims not in the store are left out."""
        with self.session() as s:
            last = (
                select(DecisionRow.claim_id, func.max(DecisionRow.decision_version).label("v"))
                .where(DecisionRow.claim_id.in_(claim_ids))
                .group_by(DecisionRow.claim_id)
                .subquery()
            )
            latest = (DecisionRow.claim_id == last.c.claim_id) & (DecisionRow.decision_version == last.c.v)
            decided = {
                cid: (route, payable)
                for cid, route, payable in s.execute(
                    select(DecisionRow.claim_id, DecisionRow.route, DecisionRow.payable).join(last, latest)
                )
            }
            rows = s.scalars(select(ClaimRow).where(ClaimRow.claim_id.in_(claim_ids))).all()
            return {
                row.claim_id: ClaimTimes(
                    claim_id=row.claim_id,
                    submitted_at=as_utc(row.submitted_at),
                    documents_complete_at=as_utc(row.documents_complete_at),
                    decided_at=as_utc(row.decided_at),
                    paid_at=as_utc(row.paid_at),
                    notice_at=as_utc(row.notice_at),
                    route=decided.get(row.claim_id, (None, None))[0],
                    payable=decided.get(row.claim_id, (None, None))[1] or 0,
                )
                for row in rows
            }

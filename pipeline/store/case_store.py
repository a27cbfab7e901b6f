"""`CaseStore`: one object over the repositories, the door every stage and app uses.

Each aggregate has its repository (`store.claims`, `store.pages`, `store.stage_results`, ...); the flat
methods below (`store.save_claim`, `store.put_result`, ...) are the store's long-standing API and only
delegate, so callers need not know which repository holds what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from pipeline.records import Claim, Outcome, Page, PaymentInstruction, ReviewDecision
from pipeline.settings import Settings
from pipeline.store.audit import AuditRepository
from pipeline.store.claims import BatchRepository, ClaimRepository
from pipeline.store.engine import make_engine, migrate
from pipeline.store.files import DocumentFiles
from pipeline.store.keys import ClaimKeyRepository
from pipeline.store.ledger import LedgerRepository
from pipeline.store.pages import PageRepository
from pipeline.store.results import R, StageResultRepository
from pipeline.store.reviews import ReviewTaskRepository


class CaseStore:
    """The one door to persisted state; every method is a short transaction of its own."""

    def __init__(self, engine: Engine, files: DocumentFiles) -> None:
        self.engine = engine
        self.files = files
        self._session = sessionmaker(engine, expire_on_commit=False)
        self.batches = BatchRepository(self)
        self.claims = ClaimRepository(self)
        self.pages = PageRepository(self)
        self.stage_results = StageResultRepository(self)
        self.ledger = LedgerRepository(self)
        self.review_queue = ReviewTaskRepository(self)
        self.claim_keys = ClaimKeyRepository(self)
        self.audit_log = AuditRepository(self)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on an error."""
        with self._session() as s, s.begin():
            yield s

    # batches ----------------------------------------------------------------------------------

    def start_batch(self, batch_id: str, source: str) -> None:
        self.batches.start(batch_id, source)

    def finish_batch(self, batch_id: str, summary: dict[str, Any]) -> None:
        self.batches.finish(batch_id, summary)

    def get_batch(self, batch_id: str) -> dict[str, Any] | None:
        return self.batches.get(batch_id)

    # claims and documents ---------------------------------------------------------------------

    def save_claim(self, claim: Claim, batch_id: str | None = None) -> None:
        """Insert or update a claim and its documents; re-saving the same claim changes nothing."""
        self.claims.save(claim, batch_id)

    def get_claim(self, claim_id: str) -> Claim | None:
        return self.claims.get(claim_id)

    def list_claims(self, batch_id: str | None = None, status: str | None = None) -> list[Claim]:
        return self.claims.all(batch_id, status)

    def claim_status(self, claim_id: str) -> str | None:
        return self.claims.status(claim_id)

    def set_claim_status(self, claim_id: str, status: str) -> None:
        self.claims.set_status(claim_id, status)

    def set_doc_type(self, claim_id: str, document_id: str, doc_type: str) -> None:
        self.claims.set_doc_type(claim_id, document_id, doc_type)

    def count_claims(self) -> int:
        return self.claims.count()

    def claim_received_at(self, claim_ids: list[str]) -> dict[str, dt.datetime]:
        """When each claim was first stored: the start of its processing time."""
        return self.claims.received_at(claim_ids)

    # pages and lines (the OCR result, per engine/model/cleaning version) ----------------------

    def save_pages(self, document_id: str, ocr_key: str, pages: list[Page]) -> None:
        self.pages.save(document_id, ocr_key, pages)

    def get_pages(self, document_id: str, ocr_key: str) -> list[Page] | None:
        return self.pages.get(document_id, ocr_key)

    # stage results ----------------------------------------------------------------------------

    def put_result(self, claim_id: str, stage: str, record: BaseModel, key: str = "") -> None:
        """Persist a stage's output; writing the same (claim, stage, key) again replaces it."""
        self.stage_results.put(claim_id, stage, record, key)

    def get_result(self, claim_id: str, stage: str, model: type[R], key: str = "") -> R | None:
        return self.stage_results.get(claim_id, stage, model, key)

    def results(self, claim_id: str, stage: str, model: type[R]) -> dict[str, R]:
        return self.stage_results.by_key(claim_id, stage, model)

    # decisions and payments (written by `pipeline.decisions` and `pipeline.payout`) -------------

    def latest_decision_version(self, claim_id: str) -> int | None:
        return self.ledger.latest_decision_version(claim_id)

    def latest_outcome(self, claim_id: str) -> Outcome | None:
        return self.ledger.latest_outcome(claim_id)

    def payments(self, claim_id: str | None = None) -> list[PaymentInstruction]:
        return self.ledger.payments(claim_id)

    # review tasks -----------------------------------------------------------------------------

    def lock_review(self, claim_id: str, user: str) -> bool:
        """Take a claim for review; False if another user holds it (a compare-and-set, race-free)."""
        return self.review_queue.lock(claim_id, user)

    def complete_review(self, decision: ReviewDecision) -> bool:
        """Record a decision once: only the lock holder of an undecided task can complete it."""
        return self.review_queue.complete(decision)

    def review_tasks(self, status: str | None = "open") -> list[dict[str, Any]]:
        return self.review_queue.tasks(status)

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
        self.claim_keys.index(claim_id, claimant=claimant, submitted_at=submitted_at, keys=keys)

    def find_claim_keys(self, kind: str, key: str) -> list[dict[str, Any]]:
        """Every claim that carried this key, oldest first."""
        return self.claim_keys.find(kind, key)

    # audit ------------------------------------------------------------------------------------

    def audit(
        self, actor: str, action: str, claim_id: str | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        self.audit_log.record(actor, action, claim_id, detail)

    def audit_events(self, claim_id: str | None = None) -> list[dict[str, Any]]:
        return self.audit_log.events(claim_id)


def open_store(settings: Settings, *, migrate_schema: bool = True) -> CaseStore:
    """The case store for these settings, its schema brought up to date."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    if migrate_schema:
        migrate(engine)
    return CaseStore(engine, DocumentFiles(settings.documents_dir, settings.quarantine_dir))

"""The intake API's work, without HTTP: accept a claim, answer a request for documents, rate, report.

An upload is judged completely before anything is stored (`intake.uploads`: the form by the batch's
own rules, every file by the batch's own byte checks); a refused request stores nothing and does
not use up its idempotency key (`intake.idempotency`). An accepted claim enters the case store the
way a batch row does (`pipeline.ingest.register_claim`), with its policy from the spine's policy
book, is queued for the intake flow and handed to the dispatcher the app was given.

The claim id is derived from the caller and its Idempotency-Key, so a retry of the same request
gets the same claim, and a request that crashed half-way is finished by its retry, every write
below being an upsert of the same rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from adjudication.rules import load_rule_book
from intake import notice as nt
from intake.dispatch import Dispatcher
from intake.errors import IntakeError
from intake.idempotency import IdempotencyKeys, Reply, check_idempotency_key, request_hash
from intake.keys import Caller
from intake.schemas import ClaimAccepted, ClaimStatus, DocumentOut, HospitalSubmission, RatingIn, RatingOut
from intake.structured import received_parts, submission_claim, submission_parts
from intake.uploads import FORM_FIELDS, Upload, check_uploads, claim_from_form, safe_filename
from pipeline import decisions
from pipeline.ingest import CHINA_TZ, Received, register_claim
from pipeline.intake_tables import DONE, QUEUED, IntakeClaimRow
from pipeline.policies import PolicyBook
from pipeline.records import Claim, DirectSettlement, Document, Policy
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore, utcnow

# IntakeError, Reply and Upload are the service's vocabulary; safe_filename is read by bench.load
__all__ = ["IntakeError", "IntakeService", "Reply", "Upload", "safe_filename"]

log = logging.getLogger(__name__)

_PREFIX = {"app": "APP", "agent": "AGT", "hospital": "HSP"}


def _norm(s: str | None) -> str:
    return "".join((s or "").split()).upper()


class IntakeService:
    """Accepts claims into the case store, queues them, and reports on them, for one caller at a time."""

    def __init__(self, settings: Settings, store: CaseStore, dispatcher: Dispatcher) -> None:
        self.settings = settings
        self.store = store
        self.dispatcher = dispatcher
        self.policies = PolicyBook(settings, store)
        self.keys = IdempotencyKeys(store)

    # ids and ownership ----------------------------------------------------------------------------

    @staticmethod
    def claim_id_for(caller: Caller, idempotency_key: str) -> str:
        digest = hashlib.sha256(f"{caller.owner}\0{idempotency_key}".encode()).hexdigest()[:16].upper()
        return f"{_PREFIX.get(caller.channel, 'API')}-{digest}"

    def _owned(self, caller: Caller, claim_id: str) -> tuple[Claim, IntakeClaimRow]:
        """The caller's claim, or 404 for a claim that is not there or not theirs (never a 403,
        which would tell a stranger the claim exists)."""
        with self.store.session() as s:
            row = s.get(IntakeClaimRow, claim_id)
            if row is not None:
                s.expunge(row)
        claim = self.store.get_claim(claim_id) if row is not None and row.owner == caller.owner else None
        if row is None or claim is None:
            raise IntakeError("claim_not_found", f"claim {claim_id}: no such claim for this API key", 404)
        return claim, row

    # storing --------------------------------------------------------------------------------------

    def _admit(self, claim: Claim, files: list[Received], notes: list[str]) -> tuple[Claim, Policy | None]:
        """The claim and its files into the case store as a batch row's go, with its policy if known."""
        policy = self.policies.find(claim.policy_number)
        if policy is None:
            notes.append(
                f"policy {claim.policy_number} is not in the policy extract or the store: a claims"
                " handler will match it (POLICY_NOT_FOUND)"
            )
        return register_claim(self.store, claim, files, policy=policy), policy

    def _register(self, caller: Caller, claim_id: str, structured: bool) -> None:
        """The claim's row in the intake queue: whose it is, and `queued`."""
        with self.store.session() as s:
            row = s.get(IntakeClaimRow, claim_id)
            if row is None:
                s.add(
                    IntakeClaimRow(
                        claim_id=claim_id,
                        owner=caller.owner,
                        key_id=caller.key_id,
                        channel=caller.channel,
                        structured=structured,
                        status=QUEUED,
                        rounds=1,
                    )
                )

    @staticmethod
    def _documents_out(docs: list[Document]) -> list[DocumentOut]:
        return [
            DocumentOut(filename=d.filename, document_id=d.id, media_type=d.media_type, pages=d.page_count)
            for d in docs
        ]

    def _accepted(
        self, claim: Claim, docs: list[Document], base_url: str, notes: list[str], direct: bool = False
    ) -> dict[str, Any]:
        body = ClaimAccepted(
            claim_id=claim.claim_id,
            status=QUEUED,
            status_url=f"{base_url}claims/{claim.claim_id}",
            documents=self._documents_out(docs),
            direct_settlement=direct,
            notes=notes,
        )
        return body.model_dump(mode="json")

    # POST /claims (multipart) ------------------------------------------------------------------------

    def submit_upload(
        self,
        caller: Caller,
        idempotency_key: str | None,
        form: dict[str, str | None],
        uploads: list[Upload],
        base_url: str,
    ) -> Reply:
        """Accept a claim with its files, once per idempotency key."""
        key = check_idempotency_key(idempotency_key)
        assert key is not None
        claim_id = self.claim_id_for(caller, key)
        now = dt.datetime.now(CHINA_TZ)
        claim = claim_from_form(form, claim_id, caller.channel, now)
        files = check_uploads(uploads, self.settings)
        digest = request_hash(
            {
                "endpoint": "POST /claims",
                "form": {k: (form.get(k) or None) for k in FORM_FIELDS},
                "files": [(f.filename, f.check.sha256) for f in files],
            }
        )
        replay = self.keys.begin(caller, key, digest, claim_id)
        if replay is not None:
            return replay
        try:
            existing = self.store.get_claim(claim_id)
            if existing is not None:  # a retry finishing a crashed first try keeps the first receipt time
                claim = claim.model_copy(update={"submitted_at": existing.submitted_at})
            notes: list[str] = []
            claim, _ = self._admit(claim, files, notes)
            docs = claim.documents
            self._register(caller, claim_id, structured=False)
            self.store.audit(
                caller.actor,
                "claim_received",
                claim_id,
                {"channel": caller.channel, "documents": len(docs), "idempotency_key": key},
            )
            reply = Reply(201, self._accepted(claim, docs, base_url, notes), claim_id)
            reply.headers["Location"] = reply.body["status_url"]
            self.keys.finish(caller, key, reply)
        except BaseException:
            self.keys.abandon(caller, key)
            raise
        self.dispatcher.submit([claim_id])
        return reply

    # POST /claims/hospital (JSON) -------------------------------------------------------------------

    def submit_structured(
        self, caller: Caller, idempotency_key: str | None, sub: HospitalSubmission, base_url: str
    ) -> Reply:
        """Accept a hospital's structured claim (医疗信息直连): no OCR, direct settlement if allowed."""
        if caller.channel != "hospital":
            raise IntakeError(
                "wrong_channel",
                "structured submissions (医疗信息直连) come from hospital keys; this key is a"
                f" {caller.channel} key",
                403,
            )
        key = check_idempotency_key(idempotency_key)
        assert key is not None
        if _norm(sub.invoice.hospital) != _norm(caller.name):
            raise IntakeError(
                "hospital_mismatch",
                f"invoice.hospital {sub.invoice.hospital!r} is not the hospital this key belongs to"
                f" ({caller.name}); a hospital submits its own invoices only",
                422,
                field="invoice.hospital",
            )
        claim_id = self.claim_id_for(caller, key)
        now = dt.datetime.now(CHINA_TZ)
        incident = sub.resolved_incident_date()
        if incident > now.date():
            raise IntakeError(
                "invalid_metadata", f"incident_date {incident} is in the future", 422, field="incident_date"
            )
        parts = submission_parts(sub)
        digest = request_hash(
            {"endpoint": "POST /claims/hospital", "submission": sub.model_dump(mode="json")}
        )
        replay = self.keys.begin(caller, key, digest, claim_id)
        if replay is not None:
            return replay
        try:
            existing = self.store.get_claim(claim_id)
            submitted = existing.submitted_at if existing is not None else now
            claim = submission_claim(sub, claim_id, caller.channel, submitted)
            notes: list[str] = []
            with tempfile.TemporaryDirectory(prefix="intake-json-") as tmp:
                claim, policy = self._admit(claim, received_parts(parts, Path(tmp)), notes)
            docs = claim.documents
            for part in parts:  # what OCR and extraction would have produced: the flow reads nothing
                self.store.put_result(claim_id, Stage.EXTRACT, part.extraction, key=part.sha256)
            direct = sub.direct_settlement and self._direct_settlement(caller, claim, policy, notes)
            self._register(caller, claim_id, structured=True)
            self.store.audit(
                caller.actor,
                "claim_received",
                claim_id,
                {
                    "channel": caller.channel,
                    "structured": True,
                    "direct_settlement": direct,
                    "idempotency_key": key,
                },
            )
            reply = Reply(201, self._accepted(claim, docs, base_url, notes, direct), claim_id)
            reply.headers["Location"] = reply.body["status_url"]
            self.keys.finish(caller, key, reply)
        except BaseException:
            self.keys.abandon(caller, key)
            raise
        self.dispatcher.submit([claim_id])
        return reply

    def _direct_settlement(
        self, caller: Caller, claim: Claim, policy: Policy | None, notes: list[str]
    ) -> bool:
        """Record the hospital as payee when the policy's product allows direct settlement (医疗直付)."""
        why_not = None
        if not (caller.settlement_account and caller.settlement_bank):
            why_not = "the hospital's key has no settlement account registered"
        elif policy is None:
            why_not = "the policy is not known yet"
        else:
            rule_set = load_rule_book().for_date(claim.incident_date)
            terms = rule_set.terms_for(policy, claim.incident_date)
            if terms is None or claim.claim_type is None or not terms.settles_directly(claim.claim_type):
                why_not = f"product {policy.product_id} does not allow direct settlement for this claim"
        if why_not is not None:
            notes.append(
                f"no direct settlement (医疗直付): {why_not}; the claimant will be asked for the claim form,"
                " ID card and bank card, and paid directly"
            )
            return False
        assert caller.settlement_account and caller.settlement_bank
        self.store.put_result(
            claim.claim_id,
            Stage.DIRECT_SETTLEMENT,
            DirectSettlement(
                hospital=caller.name,
                account_name=caller.name,
                bank=caller.settlement_bank,
                account=caller.settlement_account,
            ),
        )
        return True

    # POST /claims/{id}/documents ---------------------------------------------------------------------

    def add_documents(
        self,
        caller: Caller,
        claim_id: str,
        uploads: list[Upload],
        base_url: str,
        idempotency_key: str | None = None,
        request_id: str | None = None,
    ) -> Reply:
        """Answer the claim's open request for documents (电子照会) and put the claim back in the queue."""
        claim, intake = self._owned(caller, claim_id)
        key = check_idempotency_key(idempotency_key, required=False)
        request = nt.open_request(self.store, claim_id)
        files = check_uploads(uploads, self.settings, already=len(claim.documents))
        digest = request_hash(
            {
                "endpoint": f"POST /claims/{claim_id}/documents",
                "files": [(f.filename, f.check.sha256) for f in files],
            }
        )
        if key is not None:
            replay = self.keys.begin(caller, key, digest, claim_id)
            if replay is not None:
                return replay
        try:
            if request is None:
                status = nt.claim_status(self.store, claim, intake, base_url).status
                raise IntakeError(
                    "no_open_request",
                    f"claim {claim_id} has no open request for documents (电子照会); it is {status}",
                    409,
                )
            open_id = nt.request_id(claim_id, request.decision_version)
            if request_id is not None and request_id != open_id:
                raise IntakeError(
                    "request_not_open",
                    f"request {request_id} is not the claim's open request ({open_id})",
                    409,
                    field="request_id",
                )
            taken = {d.filename for d in claim.documents}
            renamed: list[Received] = []
            for file in files:
                name = final = file.filename
                n = 2
                while final in taken:  # the client cannot know the names already on the claim
                    stem, dot, ext = name.rpartition(".")
                    final = f"{stem} ({n}).{ext}" if dot else f"{name} ({n})"
                    n += 1
                taken.add(final)
                renamed.append(replace(file, filename=final))
            before = len(claim.documents)
            docs = register_claim(self.store, claim, renamed).documents[before:]

            def requeue(s: Session) -> None:
                row = s.get(IntakeClaimRow, claim_id)
                assert row is not None
                row.status, row.queued_at, row.rounds = QUEUED, utcnow(), row.rounds + 1
                row.started_at = row.finished_at = None

            # the claim is decided anew from all its documents, as a new decision version
            decisions.resume(
                self.store,
                claim_id,
                actor=caller.actor,
                detail={"request_id": open_id, "documents": [d.filename for d in docs]},
                also=requeue,
            )
            nt.mark_answered(
                self.store, request.id, [{"filename": d.filename, "document_id": d.id} for d in docs]
            )
            self.store.audit(
                caller.actor,
                "documents_added",
                claim_id,
                {"request_id": open_id, "documents": [d.filename for d in docs]},
            )
            body = {
                "claim_id": claim_id,
                "request_id": open_id,
                "status": QUEUED,
                "status_url": f"{base_url}claims/{claim_id}",
                "documents": [d.model_dump(mode="json") for d in self._documents_out(docs)],
            }
            reply = Reply(202, body, claim_id)
            self.keys.finish(caller, key, reply)
        except BaseException:
            self.keys.abandon(caller, key)
            raise
        self.dispatcher.submit([claim_id])
        return reply

    # GET /claims/{id}, POST /claims/{id}/rating ------------------------------------------------------

    def status(self, caller: Caller, claim_id: str, base_url: str) -> ClaimStatus:
        claim, intake = self._owned(caller, claim_id)
        return nt.claim_status(self.store, claim, intake, base_url)

    def rate(self, caller: Caller, claim_id: str, rating: RatingIn) -> RatingOut:
        """Record the claimant's rating of the service (理赔服务打分), once the claim is decided."""
        _, intake = self._owned(caller, claim_id)
        if intake.status != DONE or self.store.latest_outcome(claim_id) is None:
            raise IntakeError(
                "not_decided", f"claim {claim_id} is not decided yet: rate the service once it is", 409
            )
        now = utcnow()
        with self.store.session() as s:
            row = s.get(IntakeClaimRow, claim_id)
            assert row is not None
            row.rating, row.rating_comment, row.rated_at = rating.score, rating.comment, now
        self.store.audit(
            caller.actor, "service_rated", claim_id, {"score": rating.score, "comment": rating.comment}
        )
        return RatingOut(claim_id=claim_id, score=rating.score, comment=rating.comment, rated_at=now)

"""The intake API's work, without HTTP: accept a claim, answer a request for documents, rate, report.

An upload is judged completely before anything is stored: the metadata by the batch's own rules
(`pipeline.ingest`), every file by the batch's own byte checks (`pipeline.files.inspect_file`:
type sniffed from the bytes, size, pixels, pages, truncation, encryption), the count against the
claim's limit. The first problem found is refused with a 4xx naming the file or field; a refused
request stores nothing and does not use up its idempotency key.

Idempotency: the claim id is derived from the caller and its Idempotency-Key, and the key is kept
with a digest of the request and the answer given. A retry of the same request gets the same answer
(and the same claim); the same key with another request is refused (409); a request that crashed
half-way is taken over by its retry, every write below being an upsert of the same rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adjudication.rules import load_rule_book
from intake import notice as nt
from intake.db import DONE, QUEUED, IdempotencyRow, IntakeClaimRow
from intake.dispatch import Dispatcher
from intake.keys import Caller
from intake.policies import PolicyBook
from intake.schemas import ClaimAccepted, ClaimStatus, DocumentOut, HospitalSubmission, RatingIn, RatingOut
from intake.structured import JSON_MEDIA_TYPE, submission_parts
from pipeline import decisions
from pipeline.errors import ClaimsError
from pipeline.files import FileCheck, inspect_file
from pipeline.ingest import CHINA_TZ, ManifestRow, _claim_from_row
from pipeline.records import Claim, DirectSettlement, DocStatus, Document, Policy
from pipeline.settings import Settings
from pipeline.store import CaseStore, utcnow

log = logging.getLogger(__name__)

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{1,128}$")
STALE_PENDING = dt.timedelta(minutes=2)
"""An idempotency key still `pending` after this long belongs to a request that died: a retry takes over."""
_PREFIX = {"app": "APP", "agent": "AGT", "hospital": "HSP"}
_FORM_FIELDS = ("policy_number", "claimant", "incident_date", "claimant_id_number", "insured", "claim_type")
_OPTIONAL_FORM = ("amount_claimed",)


class IntakeError(ClaimsError):
    """A request the API refuses: the HTTP status, a code, and a sentence naming file or field."""

    def __init__(
        self,
        error: str,
        message: str,
        status: int = 422,
        *,
        file: str | None = None,
        field: str | None = None,
    ) -> None:
        self.error, self.message, self.status, self.file, self.field = error, message, status, file, field
        super().__init__(message)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.file is not None:
            out["file"] = self.file
        if self.field is not None:
            out["field"] = self.field
        return out


@dataclass
class Upload:
    """A file as received: the name the client gave it and where its bytes were spooled."""

    filename: str
    path: Path


@dataclass
class Reply:
    """What an endpoint answers; `replayed` when it is the stored answer to an earlier try."""

    status: int
    body: dict[str, Any]
    claim_id: str | None = None
    replayed: bool = False
    headers: dict[str, str] = field(default_factory=dict)


# --- checks before anything is stored ------------------------------------------------------------


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


def safe_filename(raw: str | None, n: int) -> str:
    """The name shown to people: no folders, no control characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = PureWindowsPath(PurePosixPath(name).name).name  # "../../a.jpg" or "C:\\x\\a.jpg" -> "a.jpg"
    name = "".join(c for c in name if c.isprintable()).strip(" .")
    if not name:
        name = f"document_{n}"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def _file_error(name: str, problem: str) -> IntakeError:
    """The 4xx for a file `inspect_file` refused, by the kind of problem its message states."""
    p = problem
    if p.startswith("empty file"):
        error, status = "empty_file", 422
    elif p.startswith("file too large"):
        error, status = "file_too_large", 413
    elif p.startswith(("unrecognised file type", "unsupported file type")):
        error, status = "unsupported_file_type", 415
    elif "password-protected" in p or p.startswith("encrypted PDF"):
        error, status = "encrypted_pdf", 422
    elif "more than the limit" in p and "pages" in p:
        error, status = "too_many_pages", 422
    elif "too large" in p:  # pixel limits: a decompression bomb or an absurd scan
        error, status = "image_too_large", 422
    elif p.startswith("truncated"):
        error, status = "truncated_file", 422
    else:
        error, status = "corrupt_file", 422
    return IntakeError(error, f"{name}: {problem}", status, file=name)


def check_uploads(
    uploads: list[Upload], settings: Settings, *, already: int = 0
) -> list[tuple[str, FileCheck]]:
    """Every file's name and check, or the first problem as an IntakeError (nothing is stored)."""
    if not uploads:
        raise IntakeError(
            "no_documents",
            "no documents: attach the claim's files as multipart parts named `documents`",
            422,
            field="documents",
        )
    limit = settings.max_documents_per_claim
    if already + len(uploads) > limit:
        have = f" (the claim already has {already})" if already else ""
        raise IntakeError(
            "too_many_documents",
            f"{len(uploads)} files sent{have}, more than the limit of {limit} per claim",
            422,
            field="documents",
        )
    names: list[str] = []
    for n, up in enumerate(uploads, 1):
        name = safe_filename(up.filename, n)
        if name in names:
            raise IntakeError(
                "duplicate_filename",
                f"{name}: sent twice in one request; give each file its own name",
                422,
                file=name,
            )
        names.append(name)
    out = []
    for name, up in zip(names, uploads, strict=True):
        check = inspect_file(up.path, settings)
        if not check.ok:
            raise _file_error(name, check.problem or "not acceptable")
        out.append((name, check))
    return out


def claim_from_form(form: dict[str, str | None], claim_id: str, channel: str, now: dt.datetime) -> Claim:
    """The claim the form describes, judged by the batch's own rules; any problem is a 422."""
    row = ManifestRow(
        source="form",
        row=1,
        claim_id=claim_id,
        submitted_at=now.isoformat(),
        channel=channel,
        **{k: (form.get(k) or "").strip() or None for k in (*_FORM_FIELDS, *_OPTIONAL_FORM)},
    )
    claim, problems = _claim_from_row(row)
    if problems or claim is None:
        cleaned = [p.removeprefix(f"{row.where}: ") for p in problems] or ["the claim's fields are invalid"]
        first = cleaned[0].split(" ", 1)[0]
        raise IntakeError(
            "invalid_metadata",
            "; ".join(cleaned),
            422,
            field=first if first in (*_FORM_FIELDS, *_OPTIONAL_FORM) else None,
        )
    return claim


def _in_progress(key: str) -> IntakeError:
    return IntakeError(
        "request_in_progress",
        f"a request with Idempotency-Key {key!r} is still being processed; retry in a few seconds with"
        " the same key",
        409,
        field="Idempotency-Key",
    )


def _norm(s: str | None) -> str:
    return "".join((s or "").split()).upper()


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


# --- the service ---------------------------------------------------------------------------------


class IntakeService:
    """Accepts claims into the case store, queues them, and reports on them, for one caller at a time."""

    def __init__(self, settings: Settings, store: CaseStore, dispatcher: Dispatcher) -> None:
        self.settings = settings
        self.store = store
        self.dispatcher = dispatcher
        self.policies = PolicyBook(settings, store)

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

    # idempotency ----------------------------------------------------------------------------------

    def _begin(self, caller: Caller, key: str, request_hash: str, claim_id: str | None) -> Reply | None:
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
                elif row.request_hash != request_hash:
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
                            request_hash=request_hash,
                            claim_id=claim_id,
                        )
                    )
                return None
            except IntegrityError:  # a concurrent try with the same key got there first: look again
                continue
        raise IntakeError("request_in_progress", f"Idempotency-Key {key!r} is in use; retry shortly", 409)

    def _finish(self, caller: Caller, key: str | None, reply: Reply) -> None:
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

    def _abandon(self, caller: Caller, key: str | None) -> None:
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

    @staticmethod
    def _hash(value: Any) -> str:
        return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()

    # storing --------------------------------------------------------------------------------------

    def _documents(
        self, claim_id: str, checked: list[tuple[str, FileCheck]], paths: list[Path]
    ) -> list[Document]:
        docs = []
        for (name, check), path in zip(checked, paths, strict=True):
            self.store.files.put(path, check.sha256, check.media_type)
            docs.append(
                Document(
                    id=check.sha256,
                    claim_id=claim_id,
                    filename=name,
                    media_type=check.media_type or "application/octet-stream",
                    size_bytes=check.size,
                    page_count=check.page_count,
                    status=DocStatus.STORED,
                )
            )
        return docs

    def _register(self, caller: Caller, claim_id: str, structured: bool) -> None:
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

    def _policy(self, claim: Claim, notes: list[str]) -> Policy | None:
        policy = self.policies.find(claim.policy_number)
        if policy is None:
            notes.append(
                f"policy {claim.policy_number} is not in the policy extract or the store: a claims"
                " handler will match it (POLICY_NOT_FOUND)"
            )
        else:
            self.store.put_result(claim.claim_id, nt.POLICY, policy)
        return policy

    def _accepted(
        self, claim: Claim, docs: list[Document], base_url: str, notes: list[str], direct: bool = False
    ) -> dict[str, Any]:
        body = ClaimAccepted(
            claim_id=claim.claim_id,
            status=QUEUED,
            status_url=f"{base_url}claims/{claim.claim_id}",
            documents=[
                DocumentOut(
                    filename=d.filename, document_id=d.id, media_type=d.media_type, pages=d.page_count
                )
                for d in docs
            ],
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
        checked = check_uploads(uploads, self.settings)
        request_hash = self._hash(
            {
                "endpoint": "POST /claims",
                "form": {k: (form.get(k) or None) for k in (*_FORM_FIELDS, *_OPTIONAL_FORM)},
                "files": [(name, c.sha256) for name, c in checked],
            }
        )
        replay = self._begin(caller, key, request_hash, claim_id)
        if replay is not None:
            return replay
        try:
            existing = self.store.get_claim(claim_id)
            if existing is not None:  # a retry finishing a crashed first try keeps the first receipt time
                claim = claim.model_copy(update={"submitted_at": existing.submitted_at})
            docs = self._documents(claim_id, checked, [u.path for u in uploads])
            claim = claim.model_copy(update={"documents": docs})
            self.store.save_claim(claim)
            notes: list[str] = []
            self._policy(claim, notes)
            self._register(caller, claim_id, structured=False)
            self.store.audit(
                caller.actor,
                "claim_received",
                claim_id,
                {"channel": caller.channel, "documents": len(docs), "idempotency_key": key},
            )
            reply = Reply(201, self._accepted(claim, docs, base_url, notes), claim_id)
            reply.headers["Location"] = reply.body["status_url"]
            self._finish(caller, key, reply)
        except BaseException:
            self._abandon(caller, key)
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
        request_hash = self._hash(
            {"endpoint": "POST /claims/hospital", "submission": sub.model_dump(mode="json")}
        )
        replay = self._begin(caller, key, request_hash, claim_id)
        if replay is not None:
            return replay
        try:
            existing = self.store.get_claim(claim_id)
            claim = Claim(
                claim_id=claim_id,
                policy_number=sub.policy_number,
                claimant=sub.claimant,
                claimant_id_number=sub.claimant_id_number.upper() if sub.claimant_id_number else None,
                insured=sub.insured,
                claim_type=sub.resolved_claim_type(),
                incident_date=incident,
                submitted_at=existing.submitted_at if existing is not None else now,
                channel=caller.channel,
                amount_claimed=sub.amount_claimed,
            )
            docs = []
            with tempfile.TemporaryDirectory(prefix="intake-json-") as tmp:
                for part in parts:
                    path = Path(tmp) / part.sha256
                    path.write_bytes(part.data)
                    self.store.files.put(path, part.sha256, JSON_MEDIA_TYPE)
                    docs.append(
                        Document(
                            id=part.sha256,
                            claim_id=claim_id,
                            filename=part.filename,
                            media_type=JSON_MEDIA_TYPE,
                            size_bytes=len(part.data),
                            page_count=0,
                            status=DocStatus.STORED,
                            doc_type=part.extraction.doc_type,
                        )
                    )
            claim = claim.model_copy(update={"documents": docs})
            self.store.save_claim(claim)
            for part in parts:  # what OCR and extraction would have produced: the flow reads nothing
                self.store.put_result(claim_id, nt.EXTRACT, part.extraction, key=part.sha256)
            notes: list[str] = []
            policy = self._policy(claim, notes)
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
            self._finish(caller, key, reply)
        except BaseException:
            self._abandon(caller, key)
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
            nt.SETTLEMENT,
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
        checked = check_uploads(uploads, self.settings, already=len(claim.documents))
        request_hash = self._hash(
            {
                "endpoint": f"POST /claims/{claim_id}/documents",
                "files": [(name, c.sha256) for name, c in checked],
            }
        )
        if key is not None:
            replay = self._begin(caller, key, request_hash, claim_id)
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
            renamed: list[tuple[str, FileCheck]] = []
            for name, check in checked:
                final, n = name, 2
                while final in taken:  # the client cannot know the names already on the claim
                    stem, dot, ext = name.rpartition(".")
                    final = f"{stem} ({n}).{ext}" if dot else f"{name} ({n})"
                    n += 1
                taken.add(final)
                renamed.append((final, check))
            docs = self._documents(claim_id, renamed, [u.path for u in uploads])
            self.store.save_claim(claim.model_copy(update={"documents": [*claim.documents, *docs]}))

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
                "documents": [
                    DocumentOut(
                        filename=d.filename, document_id=d.id, media_type=d.media_type, pages=d.page_count
                    ).model_dump(mode="json")
                    for d in docs
                ],
            }
            reply = Reply(202, body, claim_id)
            self._finish(caller, key, reply)
        except BaseException:
            self._abandon(caller, key)
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

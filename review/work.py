"""What an adjuster does to a claim: take it, correct what was misread, decide; and a senior's
second approval above the adjusters' authority (four-eyes, 双人复核).

Every change is a compare-and-set on the review task (who holds it, in which state, at which
version), so two people can never both decide a claim, and a senior approves exactly the decision
they saw. Each change and its audit event are written in one transaction: there is no action
without its trace. Decided tasks (`done`) are applied by the `apply_review` flow, which issues the
payment instruction or the notice; this module never pays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, or_, select, update

from pipeline.records import DocType, Extraction, Field, ReviewAction, ReviewDecision
from pipeline.settings import Settings
from pipeline.store import AuditEventRow, CaseStore, ClaimDocumentRow, FieldRow, ReviewTaskRow, utcnow
from review.auth import Cap, Viewer
from review.casefile import DOC_TYPE_FIELD, EXTRACT
from review.masking import is_sensitive_field

OPEN, AWAITING, DONE = "open", "awaiting_approval", "done"


class ReviewError(Exception):
    """An action that cannot be done as asked; the message is shown to the person as it is."""

    status_code = 400


class Conflict(ReviewError):
    """Somebody else holds the claim, or it changed since it was shown."""

    status_code = 409


@dataclass
class LockState:
    ok: bool
    holder: str | None
    since: dt.datetime | None


def _event(actor: str, action: str, claim_id: str, /, **detail: Any) -> AuditEventRow:
    return AuditEventRow(actor=actor, action=action, claim_id=claim_id, detail=detail, at=utcnow())


def _stale_before(settings: Settings) -> dt.datetime:
    return utcnow() - dt.timedelta(minutes=settings.review_lock_minutes)


# --- locks ---------------------------------------------------------------------------------------


def take_lock(store: CaseStore, settings: Settings, claim_id: str, user: str) -> LockState:
    """Hold an open claim for `user`: free, already theirs (the hold is refreshed), or left untouched
    past the lock time by someone else (taken over, and the trail says from whom)."""
    now = utcnow()
    with store.session() as s:
        before = s.scalar(select(ReviewTaskRow.locked_by).where(ReviewTaskRow.claim_id == claim_id))
        res = s.execute(
            update(ReviewTaskRow)
            .where(
                ReviewTaskRow.claim_id == claim_id,
                ReviewTaskRow.status == OPEN,
                or_(
                    ReviewTaskRow.locked_by.is_(None),
                    ReviewTaskRow.locked_by == user,
                    ReviewTaskRow.locked_at < _stale_before(settings),
                ),
            )
            .values(locked_by=user, locked_at=now, version=ReviewTaskRow.version + 1)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount == 1:
            if before is None:
                s.add(_event(user, "lock", claim_id))
            elif before != user:
                s.add(_event(user, "take_over", claim_id, previous_holder=before))
            return LockState(True, user, now)
        row = s.scalar(select(ReviewTaskRow).where(ReviewTaskRow.claim_id == claim_id))
        return LockState(False, row.locked_by if row else None, row.locked_at if row else None)


def _holds(user: str, claim_id: str) -> Any:
    """SQL condition: `user` holds this open claim. A stale hold still counts until someone else
    takes the claim over (`take_lock`), which changes `locked_by`."""
    return and_(
        ReviewTaskRow.claim_id == claim_id, ReviewTaskRow.status == OPEN, ReviewTaskRow.locked_by == user
    )


def release_lock(store: CaseStore, claim_id: str, user: str) -> bool:
    with store.session() as s:
        res = s.execute(
            update(ReviewTaskRow)
            .where(ReviewTaskRow.claim_id == claim_id, ReviewTaskRow.locked_by == user)
            .values(locked_by=None, locked_at=None, version=ReviewTaskRow.version + 1)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount == 1:
            s.add(_event(user, "release", claim_id))
        return res.rowcount == 1


def release_all(store: CaseStore, user: str) -> list[str]:
    """Give back every claim `user` holds (on signing out), so nobody waits for a lock time-out."""
    with store.session() as s:
        ids = list(
            s.scalars(
                select(ReviewTaskRow.claim_id).where(
                    ReviewTaskRow.locked_by == user, ReviewTaskRow.status == OPEN
                )
            )
        )
    return [c for c in ids if release_lock(store, c, user)]


def _require_hold(s: Any, user: str, claim_id: str) -> None:
    """Refresh the hold (an active adjuster keeps the claim) or refuse the action."""
    res = s.execute(
        update(ReviewTaskRow)
        .where(_holds(user, claim_id))
        .values(locked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:
        raise Conflict(f"claim {claim_id}: open it first; it is not held by you (or it was decided)")


# --- corrections ---------------------------------------------------------------------------------


def _extraction(store: CaseStore, claim_id: str, document_id: str) -> Extraction:
    ex = store.get_result(claim_id, EXTRACT, Extraction, key=document_id)
    if ex is None:
        raise ReviewError(f"claim {claim_id} has no extraction for document {document_id[:12]}")
    return ex


def correct_field(
    store: CaseStore, viewer: Viewer, claim_id: str, document_id: str, name: str, value: str
) -> Field:
    """Store a person's value for a misread field: a `fields` row with `corrected_by` (a label)."""
    ex = _extraction(store, claim_id, document_id)
    read = ex.field(name)
    if read is None:
        raise ReviewError(f"document {document_id[:12]} has no field {name!r} to correct")
    value = value.strip()
    try:
        fixed = Field.model_validate(
            {**read.model_dump(), "value": value or None, "corrected_by": viewer.username}
        )
    except (ValidationError, ValueError, InvalidOperation) as exc:
        raise ReviewError(f"{name}: {value!r} is not a valid {read.kind.value}") from exc
    stored = None if fixed.value is None else str(fixed.value)
    with store.session() as s:
        _require_hold(s, viewer.username, claim_id)
        s.add(
            FieldRow(
                claim_id=claim_id,
                document_id=document_id,
                name=name,
                kind=read.kind.value,
                value=stored,
                record=fixed.model_dump(mode="json"),
                corrected_by=viewer.username,
            )
        )
        s.add(
            _event(
                viewer.username,
                "correct_field",
                claim_id,
                document_id=document_id,
                field=name,
                sensitive=is_sensitive_field(name),
                **({} if is_sensitive_field(name) else {"from": str(read.value), "to": stored}),
            )
        )
    return fixed


def correct_doc_type(
    store: CaseStore, viewer: Viewer, claim_id: str, document_id: str, doc_type: str
) -> None:
    """A person's document type: a `doc_type` field row, which the doc-type retraining learns from."""
    try:
        kind = DocType(doc_type)
    except ValueError:
        raise ReviewError(f"{doc_type!r} is not a document type") from None
    ex = _extraction(store, claim_id, document_id)
    with store.session() as s:
        _require_hold(s, viewer.username, claim_id)
        linked = s.scalar(
            select(ClaimDocumentRow).where(
                ClaimDocumentRow.claim_id == claim_id, ClaimDocumentRow.document_id == document_id
            )
        )
        if linked is None:
            raise ReviewError(f"document {document_id[:12]} is not part of claim {claim_id}")
        linked.doc_type = kind.value
        f = Field(name=DOC_TYPE_FIELD, value=kind.value, corrected_by=viewer.username)
        s.add(
            FieldRow(
                claim_id=claim_id,
                document_id=document_id,
                name=DOC_TYPE_FIELD,
                kind=f.kind.value,
                value=kind.value,
                record=f.model_dump(mode="json"),
                corrected_by=viewer.username,
            )
        )
        s.add(
            _event(
                viewer.username,
                "correct_doc_type",
                claim_id,
                document_id=document_id,
                **{"from": ex.doc_type.value, "to": kind.value},
            )
        )


# --- decisions -----------------------------------------------------------------------------------


@dataclass
class DecisionForm:
    """What the decision form posts, before it is checked."""

    action: str
    amount: str = ""
    reason: str = ""
    missing_documents: tuple[str, ...] = ()


def build_decision(form: DecisionForm, reviewer: str, claimed: Decimal | None) -> ReviewDecision:
    """A valid ReviewDecision from the form, or a ReviewError saying what is missing."""
    try:
        action = ReviewAction(form.action)
    except ValueError:
        raise ReviewError(f"unknown decision {form.action!r}") from None
    amount: Decimal | None = None
    if action in (ReviewAction.APPROVE, ReviewAction.PARTIAL):
        try:
            amount = Decimal(form.amount.replace(",", "").strip())
        except InvalidOperation:
            raise ReviewError(f"{action.value} needs an amount in yuan, e.g. 812.40") from None
        if amount <= 0:
            raise ReviewError("the amount must be more than 0; to pay nothing, deny with a reason")
        if claimed is not None and amount > claimed:
            raise ReviewError(f"the amount {amount} is more than the {claimed} claimed")
    if action is ReviewAction.PARTIAL and not form.reason.strip():
        raise ReviewError("a partial payment needs a reason the claimant can read")
    try:
        missing = [DocType(d) for d in form.missing_documents]
    except ValueError as exc:
        raise ReviewError(str(exc)) from None
    try:
        return ReviewDecision(
            claim_id="-",
            reviewer=reviewer,
            action=action,
            amount=amount,
            reason=form.reason.strip() or None,
            missing_documents=missing if action is ReviewAction.REQUEST_INFO else [],
            decided_at=utcnow(),
        )
    except ValidationError as exc:
        raise ReviewError("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())) from None


def needs_second_approval(decision: ReviewDecision, viewer: Viewer, settings: Settings) -> bool:
    """Four-eyes: a payment above the adjusters' authority, decided by someone without it."""
    return (
        decision.action in (ReviewAction.APPROVE, ReviewAction.PARTIAL)
        and decision.amount is not None
        and decision.amount > settings.review_approval_limit
        and not viewer.can(Cap.APPROVE)
    )


def decide(
    store: CaseStore,
    settings: Settings,
    viewer: Viewer,
    claim_id: str,
    form: DecisionForm,
    claimed: Decimal | None,
) -> str:
    """Record a decision on a claim the viewer holds. Returns the task's new state: `done` (ready
    for apply_review) or `awaiting_approval` (above the viewer's authority)."""
    decision = build_decision(form, viewer.username, claimed).model_copy(update={"claim_id": claim_id})
    state = AWAITING if needs_second_approval(decision, viewer, settings) else DONE
    with store.session() as s:
        res = s.execute(
            update(ReviewTaskRow)
            .where(_holds(viewer.username, claim_id))
            .values(
                status=state,
                decision=decision.model_dump(mode="json"),
                locked_by=None if state == AWAITING else viewer.username,
                locked_at=None if state == AWAITING else utcnow(),
                version=ReviewTaskRow.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if res.rowcount != 1:
            raise Conflict(f"claim {claim_id}: not held by you any more (or already decided); reopen it")
        s.add(
            _event(
                viewer.username,
                "propose_decision" if state == AWAITING else "decide",
                claim_id,
                action=decision.action.value,
                amount=str(decision.amount) if decision.amount is not None else None,
                reason=decision.reason,
                missing_documents=[d.value for d in decision.missing_documents],
                needs_approval_above=str(settings.review_approval_limit) if state == AWAITING else None,
            )
        )
    return state


def approve(store: CaseStore, viewer: Viewer, claim_id: str, version: int) -> ReviewDecision:
    """A senior's second approval of exactly the proposal they saw (the task's version)."""
    if not viewer.can(Cap.APPROVE):
        raise ReviewError("only a senior adjuster gives the second approval")
    with store.session() as s:
        row = s.scalar(select(ReviewTaskRow).where(ReviewTaskRow.claim_id == claim_id))
        if row is None or row.status != AWAITING or not row.decision:
            raise Conflict(f"claim {claim_id} is not waiting for a second approval")
        proposal = ReviewDecision.model_validate(row.decision)
        if proposal.reviewer == viewer.username:
            raise ReviewError("four-eyes: the second approval must come from someone else")
        approved = proposal.model_copy(update={"approved_by": viewer.username})
        res = s.execute(
            update(ReviewTaskRow)
            .where(
                ReviewTaskRow.claim_id == claim_id,
                ReviewTaskRow.status == AWAITING,
                ReviewTaskRow.version == version,
            )
            .values(status=DONE, decision=approved.model_dump(mode="json"), version=ReviewTaskRow.version + 1)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount != 1:
            raise Conflict(f"claim {claim_id} changed since you opened it; look again before approving")
        s.add(
            _event(
                viewer.username,
                "approve_decision",
                claim_id,
                reviewer=proposal.reviewer,
                action=proposal.action.value,
                amount=str(proposal.amount),
            )
        )
    return approved


def send_back(store: CaseStore, viewer: Viewer, claim_id: str, version: int, reason: str) -> None:
    """A senior refuses the proposal: the claim returns to the queue, with the reason on its trail."""
    if not viewer.can(Cap.APPROVE):
        raise ReviewError("only a senior adjuster can refuse a proposal")
    if not reason.strip():
        raise ReviewError("say why the proposal is sent back")
    with store.session() as s:
        row = s.scalar(select(ReviewTaskRow).where(ReviewTaskRow.claim_id == claim_id))
        if row is None or row.status != AWAITING or not row.decision:
            raise Conflict(f"claim {claim_id} is not waiting for a second approval")
        proposal = ReviewDecision.model_validate(row.decision)
        if proposal.reviewer == viewer.username:
            raise ReviewError("four-eyes: someone else must review your proposal")
        res = s.execute(
            update(ReviewTaskRow)
            .where(
                ReviewTaskRow.claim_id == claim_id,
                ReviewTaskRow.status == AWAITING,
                ReviewTaskRow.version == version,
            )
            .values(
                status=OPEN, decision=None, locked_by=None, locked_at=None, version=ReviewTaskRow.version + 1
            )
            .execution_options(synchronize_session=False)
        )
        if res.rowcount != 1:
            raise Conflict(f"claim {claim_id} changed since you opened it; look again")
        s.add(
            _event(
                viewer.username,
                "send_back",
                claim_id,
                reviewer=proposal.reviewer,
                action=proposal.action.value,
                amount=str(proposal.amount) if proposal.amount is not None else None,
                reason=reason.strip(),
            )
        )

"""What an adjuster does to a claim: take it, correct what was misread, decide; and the second
approval above a person's own limit (four-eyes, 双人复核), by the payment authority table
(`Settings.authority`, 权限表) that adjudication reads the machine's limit from too.

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

from pipeline.records import DocType, Extraction, Field, ReviewAction, ReviewDecision, money
from pipeline.review_tables import UserRow
from pipeline.settings import AUTHORITY_ROLES, Settings
from pipeline.stages import Stage
from pipeline.store import AuditEventRow, CaseStore, ClaimDocumentRow, FieldRow, ReviewTaskRow, utcnow
from review.auth import CAPABILITIES, Cap, Role, Viewer
from review.casefile import DOC_TYPE_FIELD, claim_product, payable_cap
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
    ex = store.get_result(claim_id, Stage.EXTRACT, Extraction, key=document_id)
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


def over_cap(amount: Decimal, cap: Decimal | None, basis: str) -> str | None:
    """Why `amount` cannot be paid on a claim capped at `cap` (see `casefile.payable_cap`), or None."""
    if cap is None or amount <= cap:
        return None
    allows = "the benefit calculation allows" if basis == "benefit" else "claimed"
    return f"the amount {amount} is more than the {cap} {allows}"


def build_decision(form: DecisionForm, reviewer: str, cap: tuple[Decimal | None, str]) -> ReviewDecision:
    """A valid ReviewDecision from the form, or a ReviewError saying what is missing. `cap` is the
    claim's (amount, basis) from `casefile.payable_cap`: nobody approves more than it."""
    try:
        action = ReviewAction(form.action)
    except ValueError:
        raise ReviewError(f"unknown decision {form.action!r}") from None
    amount: Decimal | None = None
    if action in (ReviewAction.APPROVE, ReviewAction.PARTIAL):
        try:
            amount = money(form.amount.replace(",", "").strip())  # yuan and fen, as it will be paid
        except (InvalidOperation, ValueError):
            raise ReviewError(f"{action.value} needs an amount in yuan, e.g. 812.40") from None
        if amount <= 0:
            raise ReviewError("the amount must be more than 0; to pay nothing, deny with a reason")
        too_much = over_cap(amount, *cap)
        if too_much:
            raise ReviewError(too_much)
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


# --- authority -----------------------------------------------------------------------------------

ROLE_NAMES = {
    Role.ADJUSTER: "an adjuster",
    Role.SENIOR: "a senior adjuster",
    Role.MANAGER: "a claims manager",
}
APPROVERS = tuple(r for r in Role if Cap.APPROVE in CAPABILITIES[r])
"""The roles that give second approvals (senior adjusters and claims managers)."""


def own_limit(settings: Settings, role: Role | str | None, product_id: str | None = None) -> Decimal | None:
    """What a person of `role` pays alone on a claim of `product_id` (None: no limit). A role outside
    the authority table (operations, auditors, an unknown account) pays nothing."""
    if role is None or str(role) not in AUTHORITY_ROLES:
        return Decimal("0.00")
    return settings.authority.limit(str(role), product_id)


def needs_second_approval(
    decision: ReviewDecision, role: Role, settings: Settings, basis: str, product_id: str | None = None
) -> bool:
    """Four-eyes: a payment above the decider's own limit; and any payment on a claim with no amount
    to check it against (basis "none") decided by someone who cannot approve."""
    if decision.action not in (ReviewAction.APPROVE, ReviewAction.PARTIAL) or decision.amount is None:
        return False
    if basis == "none" and Cap.APPROVE not in CAPABILITIES[role]:
        return True
    if str(role) not in AUTHORITY_ROLES:
        return True  # no authority at all (a role that cannot work claims anyway)
    return not settings.authority.covers(decision.amount, str(role), product_id=product_id)


def approval_covers(
    settings: Settings, amount: Decimal, proposer: str | None, approver: str, product_id: str | None = None
) -> bool:
    """Whether `approver`'s second approval pays `amount`: within the approver's own limit, or a senior
    adjuster's proposal approved by a second senior within the two seniors' limit."""
    if str(approver) not in AUTHORITY_ROLES:
        return False
    seniors = str(proposer) == str(approver) == Role.SENIOR.value
    pair = (Role.SENIOR.value, Role.SENIOR.value) if seniors else (str(approver),)
    return settings.authority.covers(amount, *pair, product_id=product_id)


def who_can_approve(
    settings: Settings, amount: Decimal, proposer: str | None, product_id: str | None = None
) -> str:
    """Who may give the second approval to `proposer`'s `amount`, in words for the page and errors."""
    senior = proposer == Role.SENIOR.value
    able = [r for r in APPROVERS if approval_covers(settings, amount, proposer, r.value, product_id)]
    names = ["a second senior adjuster" if r is Role.SENIOR and senior else ROLE_NAMES[r] for r in able]
    text = " or ".join(names)
    if (
        Role.SENIOR not in able
        and not senior
        and approval_covers(settings, amount, "senior_adjuster", "senior_adjuster", product_id)
    ):
        alt = "a senior adjuster's own proposal approved by a second senior"
        text = f"{text}, or {alt}" if text else alt
    return text or "nobody: it is above every limit in the authority table"


def user_role(store: CaseStore, username: str) -> str | None:
    """The role an account has now (the users table), or None for an account that is gone."""
    with store.session() as s:
        row = s.get(UserRow, username)
        return row.role if row is not None else None


@dataclass(frozen=True)
class ApprovalView:
    """What the claim page says about a proposal waiting for a second approval."""

    proposer_role: str | None
    proposer_limit: Decimal | None
    who: str
    """Who may approve it, in words."""
    why_not: str | None
    """Why the viewer cannot approve it (None: they can)."""


def approval_view(
    store: CaseStore,
    settings: Settings,
    viewer: Viewer,
    proposal: ReviewDecision,
    cap: tuple[Decimal | None, str],
    product_id: str | None = None,
) -> ApprovalView:
    """The same checks `approve` makes, ahead of time, so the page offers only what will succeed."""
    role = user_role(store, proposal.reviewer)
    amount = proposal.amount or Decimal("0.00")
    why_not: str | None = None
    too_much = over_cap(amount, *cap)
    if not viewer.can(Cap.APPROVE):
        why_not = "your role does not give second approvals"
    elif viewer.username == proposal.reviewer:
        why_not = "four-eyes: someone else must approve your proposal"
    elif too_much:
        why_not = f"{too_much}: send it back"
    elif not approval_covers(settings, amount, role, viewer.role.value, product_id):
        why_not = (
            f"it is beyond your authority ({_limit_words(own_limit(settings, viewer.role, product_id))})"
        )
    return ApprovalView(
        proposer_role=role,
        proposer_limit=own_limit(settings, role, product_id),
        who=who_can_approve(settings, amount, role, product_id),
        why_not=why_not,
    )


# --- decisions -----------------------------------------------------------------------------------


def decide(store: CaseStore, settings: Settings, viewer: Viewer, claim_id: str, form: DecisionForm) -> str:
    """Record a decision on a claim the viewer holds, never above the claim's cap (`payable_cap`).
    Returns the task's new state: `done` (ready for apply_review) or `awaiting_approval` (above the
    viewer's own limit in the authority table, or nothing to check the amount against)."""
    cap, basis = payable_cap(store, claim_id)
    product = claim_product(store, claim_id)
    decision = build_decision(form, viewer.username, (cap, basis)).model_copy(update={"claim_id": claim_id})
    state = AWAITING if needs_second_approval(decision, viewer.role, settings, basis, product) else DONE
    above: str | None = None  # on the trail: the limit the proposal is above (0: no amount to go by)
    if state == AWAITING:
        no_amount = basis == "none" and not viewer.can(Cap.APPROVE)
        limit = Decimal("0.00") if no_amount else own_limit(settings, viewer.role, product)
        above = str(limit) if limit is not None else None
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
                cap=str(cap) if cap is not None else None,
                cap_basis=basis,
                needs_approval_above=above,
            )
        )
    return state


def approve(
    store: CaseStore, settings: Settings, viewer: Viewer, claim_id: str, version: int
) -> ReviewDecision:
    """A second approval of exactly the proposal the approver saw (the task's version), by someone
    else whose own limit covers the amount (two senior adjusters: the two seniors' limit), and never
    above the claim's cap. The proposer's role is the one their account has now."""
    if not viewer.can(Cap.APPROVE):
        raise ReviewError("only a senior adjuster or a claims manager gives the second approval")
    cap, basis = payable_cap(store, claim_id)
    product = claim_product(store, claim_id)
    with store.session() as s:
        row = s.scalar(select(ReviewTaskRow).where(ReviewTaskRow.claim_id == claim_id))
        if row is None or row.status != AWAITING or not row.decision:
            raise Conflict(f"claim {claim_id} is not waiting for a second approval")
        proposal = ReviewDecision.model_validate(row.decision)
        if proposal.reviewer == viewer.username:
            raise ReviewError("four-eyes: the second approval must come from someone else")
        proposer = s.get(UserRow, proposal.reviewer)
        proposer_role = proposer.role if proposer is not None else None
        if proposal.amount is not None:
            too_much = over_cap(proposal.amount, cap, basis)
            if too_much:
                raise ReviewError(f"{too_much}: send the proposal back")
            if not approval_covers(settings, proposal.amount, proposer_role, viewer.role.value, product):
                raise ReviewError(
                    f"{proposal.amount:,.2f} yuan proposed by {proposal.reviewer} is beyond your authority"
                    f" ({_limit_words(own_limit(settings, viewer.role, product))}): it needs"
                    f" {who_can_approve(settings, proposal.amount, proposer_role, product)}"
                )
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
                reviewer_role=proposer_role,
                approver_role=viewer.role.value,
                action=proposal.action.value,
                amount=str(proposal.amount),
            )
        )
    return approved


def _limit_words(limit: Decimal | None) -> str:
    return "no limit" if limit is None else f"limit {limit:,.2f}"


def send_back(store: CaseStore, viewer: Viewer, claim_id: str, version: int, reason: str) -> None:
    """A senior refuses the proposal: the claim returns to the queue, with the reason on its trail."""
    if not viewer.can(Cap.APPROVE):
        raise ReviewError("only a senior adjuster or a claims manager can refuse a proposal")
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

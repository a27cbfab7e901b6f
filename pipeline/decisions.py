"""A claim's decisions, each recorded once, and who owns the claim after each.

A claim's decisions are versions 1, 2, ... of the `decisions` table. Every writer appends through
this module, in one transaction that first locks the claim's row (PostgreSQL `SELECT ... FOR
UPDATE`, SQLite's write lock) and then checks what it builds on, so two writers can never both
decide a claim, and a re-run, a retry or a crashed run's successor finds the decision already there.

Who may append, and when:
- the runner (`record_machine_decision`, `record_error`): a claim with no decision yet; one whose
  last run failed (`error`), unless a person has decided it since; one resumed with the documents a
  request asked for (`resume`). Every other claim is settled: the runner gets its recorded decision.
- an adjuster's decision (`record_review_decision`): right after the decision that routed the claim
  to them, never after a later one.
- a senior's reopen (`reopen`): the only way past a final decision; audited, with its reason.

Final routes pay or deny. The others wait: `request_info` for the claimant's documents, `adjuster`
and `error` for a person, through the claim's review task, which is opened, renewed or closed in
the same transaction as the decision that needs it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pipeline.errors import ClaimsError
from pipeline.reasons import adjuster_source, system_source
from pipeline.records import Outcome, Reason, Route
from pipeline.stages import RESUMED_STAGES
from pipeline.store import (
    AuditEventRow,
    CaseStore,
    ClaimRow,
    DecisionRow,
    ReviewTaskRow,
    StageResultRow,
    as_utc,
    utcnow,
)

FINAL = frozenset({Route.FLASH_PAY, Route.AUTO_APPROVE, Route.DENY})
PAYING = frozenset({Route.FLASH_PAY, Route.AUTO_APPROVE})
MACHINE = "machine"
RESUMED = "resumed"
"""A claim's status once new documents answered its request: the runner decides it anew."""
PROCESSING_ERROR = "PROCESSING_ERROR"

# review task states; `review.work` moves a task between the first three
TASK_OPEN, TASK_AWAITING, TASK_DONE, TASK_CLOSED = "open", "awaiting_approval", "done", "closed"


class DecisionRefused(ClaimsError):
    """A decision that may not be recorded as asked: the message says why and what to do."""


@dataclass(frozen=True)
class Recorded:
    """A claim's decision after a writer's attempt: the one it recorded, or the one already there."""

    version: int
    outcome: Outcome
    decided_by: str
    new: bool
    settled: str | None = None
    """Why nothing was recorded (the claim was already decided, or waits for someone)."""


@dataclass(frozen=True)
class Routing:
    """What a person's queue needs of a claim routed to them."""

    priority: int
    due_at: dt.datetime | None
    reasons: list[Reason] = field(default_factory=list)
    """Each with its source: the queue shows what raised it (a rule, the model, a check, a person)."""


def by_reviewer(username: str) -> str:
    return f"review:{username}"


# --- reading -------------------------------------------------------------------------------------


def lock_claim(s: Session, claim_id: str) -> ClaimRow:
    """Hold the claim's row until the transaction ends. Must be the session's first statement: on
    SQLite a write takes the database's write lock, so nothing read after it can change meanwhile."""
    if s.get_bind().dialect.name == "sqlite":
        res = s.execute(
            update(ClaimRow)
            .where(ClaimRow.claim_id == claim_id)
            .values(version=ClaimRow.version)
            .execution_options(synchronize_session=False)
        )
        row = s.get(ClaimRow, claim_id) if res.rowcount == 1 else None
    else:
        row = s.scalar(select(ClaimRow).where(ClaimRow.claim_id == claim_id).with_for_update())
    if row is None:
        raise ClaimsError(f"no claim {claim_id} in the case store")
    return row


def latest_row(s: Session, claim_id: str) -> DecisionRow | None:
    return s.scalar(
        select(DecisionRow)
        .where(DecisionRow.claim_id == claim_id)
        .order_by(DecisionRow.decision_version.desc())
        .limit(1)
    )


def _task(s: Session, claim_id: str) -> ReviewTaskRow | None:
    return s.scalar(select(ReviewTaskRow).where(ReviewTaskRow.claim_id == claim_id))


def _settled(s: Session, claim: ClaimRow, latest: DecisionRow | None) -> str | None:
    """Why the runner must leave this claim as it is, or None when it may decide it."""
    if latest is None:
        return None
    route = Route(latest.route)
    if route is Route.REQUEST_INFO:
        return None if claim.status == RESUMED else "waiting for the documents it was asked for"
    if route is Route.ERROR:
        task = _task(s, claim.claim_id)
        if (
            task is not None
            and task.decision_version == latest.decision_version
            and task.status in (TASK_AWAITING, TASK_DONE)
        ):
            return "an adjuster has decided it; apply_review records the decision"
        return None
    if route is Route.ADJUSTER:
        return "waiting for an adjuster"
    return f"decided: {route.value} (v{latest.decision_version})"


def runner_may_decide(store: CaseStore, claim_id: str) -> str | None:
    """None if the runner may (re)decide the claim now, else why not. A hint for skipping work; the
    recording functions check again under the claim's lock."""
    with store.session() as s:
        claim = s.get(ClaimRow, claim_id)
        if claim is None:
            return f"no claim {claim_id}"
        return _settled(s, claim, latest_row(s, claim_id))


def latest(store: CaseStore, claim_id: str) -> Recorded | None:
    """The claim's latest decision, with why the runner would leave it as it is (None: it may not)."""
    with store.session() as s:
        claim = s.get(ClaimRow, claim_id)
        row = latest_row(s, claim_id)
        if claim is None or row is None:
            return None
        return _recorded(row, new=False, settled=_settled(s, claim, row))


def _recorded(row: DecisionRow, new: bool, settled: str | None = None) -> Recorded:
    return Recorded(
        version=row.decision_version,
        outcome=Outcome.model_validate(row.record),
        decided_by=row.decided_by,
        new=new,
        settled=settled,
    )


# --- writing -------------------------------------------------------------------------------------


def _append(
    s: Session,
    claim: ClaimRow,
    outcome: Outcome,
    decided_by: str,
    after: int,
    notified_at: dt.datetime | None = None,
) -> DecisionRow:
    row = DecisionRow(
        claim_id=claim.claim_id,
        decision_version=after + 1,
        route=outcome.route.value,
        payable=outcome.payable,
        record=outcome.model_dump(mode="json"),
        decided_at=as_utc(outcome.decided_at),
        decided_by=decided_by,
    )
    s.add(row)
    claim.status = f"decided:{outcome.route.value}"
    _clock(claim, outcome, notified_at)
    s.flush()
    return row


def _clock(claim: ClaimRow, outcome: Outcome, notified_at: dt.datetime | None) -> None:
    """The claim's times after a decision. A final one is decided and notified: the machine's notice
    goes out with its decision, an adjuster's when `apply_review` records it (`notified_at`). Any
    other reopens the claim, and a request for documents says its documents are not complete."""
    if outcome.route in FINAL:
        claim.decided_at = as_utc(outcome.decided_at)
        claim.notice_at = as_utc(notified_at or outcome.decided_at)
        return
    claim.decided_at = claim.notice_at = None
    if outcome.route is Route.REQUEST_INFO:
        claim.documents_complete_at = None


def _stored(reasons: list[Reason]) -> list[dict[str, Any]]:
    """A review task's reasons as its JSON column holds them (`pipeline.reasons.read_reasons` reads them)."""
    return [r.model_dump(mode="json") for r in reasons]


def _event(actor: str, action: str, claim_id: str, **detail: Any) -> AuditEventRow:
    return AuditEventRow(actor=actor, action=action, claim_id=claim_id, detail=detail, at=utcnow())


def _to_person(s: Session, claim_id: str, version: int, routing: Routing, actor: str) -> None:
    """Open the claim's review task for decision `version`, or renew the one a finished round left."""
    task = _task(s, claim_id)
    if task is None:
        s.add(
            ReviewTaskRow(
                claim_id=claim_id,
                status=TASK_OPEN,
                decision_version=version,
                priority=routing.priority,
                due_at=routing.due_at,
                reasons=_stored(routing.reasons),
            )
        )
        return
    if task.decision_version == version:
        return
    if task.status == TASK_AWAITING or (task.status == TASK_DONE and task.decision_version == version - 1):
        raise DecisionRefused(f"claim {claim_id}: a person's decision waits to be applied")
    s.add(
        _event(
            actor,
            "review_task_renewed",
            claim_id,
            previous_status=task.status,
            previous_version=task.decision_version,
            previous_decision=task.decision,
            decision_version=version,
        )
    )
    task.status, task.decision, task.locked_by, task.locked_at = TASK_OPEN, None, None, None
    task.decision_version, task.priority, task.due_at = version, routing.priority, routing.due_at
    task.reasons = _stored(routing.reasons)


def _close_task(s: Session, claim_id: str, row: DecisionRow) -> None:
    """A claim a re-run decided needs no person any more: its open task (a processing error) closes."""
    task = _task(s, claim_id)
    if task is None or task.status != TASK_OPEN:
        return
    task.status, task.locked_by, task.locked_at = TASK_CLOSED, None, None
    s.add(
        _event(
            MACHINE,
            "review_task_closed",
            claim_id,
            reason=f"decided by a re-run: v{row.decision_version} {row.route}",
            previous_version=task.decision_version,
        )
    )


def record_machine_decision(
    store: CaseStore,
    outcome: Outcome,
    *,
    routing: Routing | None = None,
    result: tuple[str, Callable[[int], BaseModel]] | None = None,
) -> Recorded:
    """The runner's decision, recorded unless the claim is settled (then the recorded one returns).

    `result` is a stage result written in the same transaction, made from the new version (the
    decision bundle that carries it); `routing` opens the review task of a claim routed to a person.
    """
    claim_id = outcome.claim_id
    with store.session() as s:
        claim = lock_claim(s, claim_id)
        latest = latest_row(s, claim_id)
        why = _settled(s, claim, latest)
        if why is not None:
            assert latest is not None
            return _recorded(latest, new=False, settled=why)
        row = _append(s, claim, outcome, MACHINE, latest.decision_version if latest else 0)
        if outcome.route is Route.ADJUSTER:
            _to_person(
                s, claim_id, row.decision_version, routing or Routing(0, None, outcome.reasons), MACHINE
            )
        else:
            _close_task(s, claim_id, row)
        if result is not None:
            stage, make = result
            _put_result(s, claim_id, stage, make(row.decision_version))
        return _recorded(row, new=True)


def record_error(
    store: CaseStore, claim_id: str, problem: str, *, routing: Routing, now: dt.datetime | None = None
) -> Recorded:
    """A claim the runner could not take to a decision: recorded once (a claim failing again keeps its
    version, with the new problem on its task) and given to a person with `PROCESSING_ERROR`."""
    reasons = [Reason(code=PROCESSING_ERROR, message=problem, source=system_source())]
    with store.session() as s:
        claim = lock_claim(s, claim_id)
        latest = latest_row(s, claim_id)
        why = _settled(s, claim, latest)
        if why is not None:
            assert latest is not None
            return _recorded(latest, new=False, settled=why)
        if latest is not None and latest.route == Route.ERROR.value:
            task = _task(s, claim_id)
            if task is not None and task.status == TASK_OPEN and task.reasons != _stored(reasons):
                task.reasons = _stored(reasons)
            return _recorded(latest, new=False)
        outcome = Outcome(
            claim_id=claim_id,
            route=Route.ERROR,
            reasons=[Reason(message=problem, source=system_source())],
            decided_at=now or utcnow(),
        )
        row = _append(s, claim, outcome, MACHINE, latest.decision_version if latest else 0)
        _to_person(
            s, claim_id, row.decision_version, Routing(routing.priority, routing.due_at, reasons), MACHINE
        )
        return _recorded(row, new=True)


def record_review_decision(
    store: CaseStore,
    outcome: Outcome,
    *,
    reviewer: str,
    routed_version: int | None,
    now: dt.datetime | None = None,
) -> Recorded:
    """An adjuster's decision, recorded right after the decision that routed the claim to them.

    Recording it twice gives the first recording back (a crash between recording and marking it
    applied); a decision recorded meanwhile by anyone else refuses it. `now` is when it is recorded,
    which is when its notice goes out (the legal clock of a denial's notice runs from the decision).
    """
    by = by_reviewer(reviewer)
    with store.session() as s:
        claim = lock_claim(s, outcome.claim_id)
        latest = latest_row(s, outcome.claim_id)
        own = s.scalars(
            select(DecisionRow).where(DecisionRow.claim_id == outcome.claim_id, DecisionRow.decided_by == by)
        ).all()
        for row in own:
            if Outcome.model_validate(row.record).decided_at == outcome.decided_at:
                return _recorded(row, new=False)
        after = latest.decision_version if latest else 0
        if routed_version is not None and after != routed_version:
            raise DecisionRefused(
                f"claim {outcome.claim_id}: {reviewer}'s decision follows v{routed_version}, but v{after} "
                "was recorded since; it is not applied (reopen the claim to decide it again)"
            )
        return _recorded(_append(s, claim, outcome, by, after, now or utcnow()), new=True)


def reopen(
    store: CaseStore,
    claim_id: str,
    *,
    by: str,
    reason: str,
    routing: Routing | None = None,
    now: dt.datetime | None = None,
) -> Recorded:
    """A senior's reopening of a final decision: a new version routed to a person, with the reason.

    The caller checks that `by` is a senior; the payments stand (a lower decision later is an
    overpayment that `reconcile` names), and the next decision pays only what is not yet paid.
    """
    reason = reason.strip()
    if not reason:
        raise DecisionRefused("a reopen needs a reason (--reason), for the claim's audit trail")
    with store.session() as s:
        claim = lock_claim(s, claim_id)
        latest = latest_row(s, claim_id)
        if latest is None or Route(latest.route) not in FINAL:
            state = "undecided" if latest is None else f"{latest.route} (v{latest.decision_version})"
            raise DecisionRefused(f"claim {claim_id} has no final decision to reopen: it is {state}")
        previous = Outcome.model_validate(latest.record)
        why = [
            Reason(
                code="REOPENED",
                message=f"{reason} (by {by}; v{latest.decision_version} was {latest.route} {latest.payable})",
                source=adjuster_source(by),
            )
        ]
        outcome = Outcome(
            claim_id=claim_id,
            route=Route.ADJUSTER,
            reasons=why,
            decided_at=now or utcnow(),
            rule_set_version=previous.rule_set_version,
            model_versions=previous.model_versions,
        )
        row = _append(s, claim, outcome, f"reopen:{by}", latest.decision_version)
        r = routing or Routing(priority=100, due_at=None)
        _to_person(s, claim_id, row.decision_version, Routing(r.priority, r.due_at, why), by)
        s.add(
            _event(
                by,
                "reopen",
                claim_id,
                reason=reason,
                previous_version=latest.decision_version,
                previous_route=latest.route,
                previous_payable=str(latest.payable),
                decision_version=row.decision_version,
            )
        )
        return _recorded(row, new=True)


def resume(
    store: CaseStore,
    claim_id: str,
    *,
    actor: str,
    detail: dict[str, Any] | None = None,
    also: Callable[[Session], None] | None = None,
    now: dt.datetime | None = None,
) -> None:
    """New documents answered the claim's request: its facts, score and decision are made anew.

    Only a claim whose decision asks for documents can resume; `also` runs in the same transaction
    (the intake queue's own row). From `now` the claim's documents count as complete.
    """
    with store.session() as s:
        claim = lock_claim(s, claim_id)
        latest = latest_row(s, claim_id)
        if latest is None or latest.route != Route.REQUEST_INFO.value:
            state = "undecided" if latest is None else latest.route
            raise DecisionRefused(
                f"claim {claim_id} asks for no documents (it is {state}): nothing to resume"
            )
        s.execute(
            delete(StageResultRow).where(
                StageResultRow.claim_id == claim_id,
                StageResultRow.stage.in_([str(st) for st in RESUMED_STAGES]),
            )
        )
        claim.status = RESUMED
        claim.documents_complete_at = as_utc(now) or utcnow()
        s.add(_event(actor, "resumed", claim_id, after_version=latest.decision_version, **(detail or {})))
        if also is not None:
            also(s)


def _put_result(s: Session, claim_id: str, stage: str, record: BaseModel) -> None:
    payload = record.model_dump(mode="json")
    row = s.scalar(
        select(StageResultRow).where(
            StageResultRow.claim_id == claim_id, StageResultRow.stage == stage, StageResultRow.key == ""
        )
    )
    if row is None:
        s.add(
            StageResultRow(
                claim_id=claim_id, stage=stage, key="", record_type=type(record).__name__, record=payload
            )
        )
    else:
        row.record, row.record_type = payload, type(record).__name__


def final_amount(store: CaseStore, claim_id: str) -> Decimal | None:
    """What the claim's latest final decision pays (0 for a denial); None if it has none."""
    with store.session() as s:
        rows = s.scalars(
            select(DecisionRow)
            .where(DecisionRow.claim_id == claim_id)
            .order_by(DecisionRow.decision_version.desc())
        )
        for row in rows:
            if Route(row.route) in FINAL:
                return row.payable if Route(row.route) in PAYING else Decimal("0.00")
    return None

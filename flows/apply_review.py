"""Apply adjusters' decisions: every completed review task becomes the claim's next outcome, once.

Human review is asynchronous (DESIGN.md): the batch flow parks a claim in the review queue, an
adjuster decides it in the web app (`review.work`), and this flow turns the decision into the
claim's next decision version (`pipeline.decisions.record_review_decision`: right after the one
that routed the claim to the adjuster, never after a later one), a payment (approve/partial, through
`pipeline.payout.pay`, which pays only what the decision still owes) and a notice in plain Chinese;
the run's payment instructions leave in one payment file. Each applied decision leaves a stage
result keyed by the decision's time, so a rerun, or a rerun after a crash, applies nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from pydantic import BaseModel

from adjudication.decide import REVIEW_RIGHT_ZH
from adjudication.terms import DOC_NAMES_ZH
from flows import steps
from flows.runtime import store_for, transient
from pipeline import decisions
from pipeline.errors import ClaimsError
from pipeline.payout import mask_account, pay, payee_of
from pipeline.reasons import adjuster_source
from pipeline.records import Claim, ClaimFacts, Outcome, Reason, ReviewAction, ReviewDecision, Route
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore

log = logging.getLogger(__name__)

ACTOR = "apply_review"

_ROUTES = {
    ReviewAction.APPROVE: Route.AUTO_APPROVE,
    ReviewAction.PARTIAL: Route.AUTO_APPROVE,
    ReviewAction.DENY: Route.DENY,
    ReviewAction.REQUEST_INFO: Route.REQUEST_INFO,
}


class Applied(BaseModel):
    """What applying one adjuster decision did; stored as the `review_applied` stage result."""

    claim_id: str
    reviewer: str
    action: str
    decided_at: dt.datetime
    decision_version: int
    route: str
    paid: str | None = None
    held: list[str] = []
    notice: str


def _key(decision: ReviewDecision) -> str:
    return decision.decided_at.astimezone(dt.UTC).isoformat()


class Pending(BaseModel):
    """A completed review task's decision, and the decision version it follows."""

    decision: ReviewDecision
    routed_version: int | None


def pending_decisions(store: CaseStore) -> list[Pending]:
    """Completed review tasks whose decision has not been applied yet."""
    out = []
    for t in store.review_tasks(status="done"):
        if not t.get("decision"):
            continue
        decision = ReviewDecision.model_validate(t["decision"])
        if store.get_result(decision.claim_id, Stage.REVIEW_APPLIED, Applied, key=_key(decision)) is None:
            out.append(Pending(decision=decision, routed_version=t.get("decision_version")))
    return out


def _date_zh(d: dt.date | dt.datetime) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _header(claim: Claim) -> str:
    return (
        f"尊敬的{claim.claimant}：\n"
        f"您于{_date_zh(claim.submitted_at)}提交的理赔申请（案件号{claim.claim_id}，保单号{claim.policy_number}）"
    )


def review_notice(claim: Claim, decision: ReviewDecision, account: str | None) -> str:
    """The claimant's letter for an adjuster's decision, in plain Chinese (电子理赔通知书)."""
    when = _date_zh(decision.decided_at)
    if decision.action in (ReviewAction.APPROVE, ReviewAction.PARTIAL):
        part = (
            "（部分赔付：" + (decision.reason or "部分费用不属于保险责任") + "）"
            if decision.action is ReviewAction.PARTIAL
            else ""
        )
        tail = f"至您尾号{account[-4:]}的账户" if account else "至您指定的账户"
        return (
            f"{_header(claim)}经理赔人员审核，赔付金额{decision.amount}元{part}，将于近日支付{tail}。"
            f"赔付明细可在APP中查看。（{when}）"
        )
    if decision.action is ReviewAction.DENY:
        return (
            f"{_header(claim)}经理赔人员审核，很遗憾，本次申请不予赔付，原因如下：\n1. {decision.reason}。\n"
            f"{REVIEW_RIGHT_ZH}\n（{when}）"
        )
    listing = "\n".join(
        f"{i}. {DOC_NAMES_ZH.get(d, d.value)}" for i, d in enumerate(decision.missing_documents, 1)
    )
    return (
        f"{_header(claim)}还缺少以下材料，请通过原申请渠道上传补充：\n{listing}\n"
        f"收到完整材料后我们将尽快审核。（{when}）"
    )


def _reasons(decision: ReviewDecision) -> list[Reason]:
    """The adjuster's decision as reasons, every one of them the adjuster's (and the approver's)."""
    approved = f" (approved by {decision.approved_by})" if decision.approved_by else ""
    src = adjuster_source(decision.reviewer, decision.reviewer + approved)
    who = Reason(code="REVIEWED_BY", message=decision.reviewer + approved, source=src)
    if decision.action in (ReviewAction.APPROVE, ReviewAction.PARTIAL):
        said = [Reason(message=decision.reason, source=src)] if decision.reason else []
        return [Reason(message=f"{decision.action.value}: {decision.amount}", source=src), who, *said]
    if decision.action is ReviewAction.DENY:
        return [Reason(code="ADJUSTER_DENIED", message=decision.reason or "", source=src), who]
    asked = [Reason(code="MISSING_DOCUMENT", message=d.value, source=src) for d in decision.missing_documents]
    return [*asked, who]


def apply_decision(store: CaseStore, decision: ReviewDecision, routed_version: int | None = None) -> Applied:
    """Record the adjuster's decision as the claim's next outcome, pay it if it pays, mark it applied.

    `routed_version` is the decision that routed the claim to the adjuster: if another was recorded
    since, the adjuster's is refused (`DecisionRefused`), never recorded on top of it.
    """
    key = _key(decision)
    done = store.get_result(decision.claim_id, Stage.REVIEW_APPLIED, Applied, key=key)
    if done is not None:
        return done
    claim = store.get_claim(decision.claim_id)
    if claim is None:
        raise ClaimsError(f"review decision for claim {decision.claim_id}, which the store does not hold")
    facts = store.get_result(claim.claim_id, Stage.FACTS, ClaimFacts)
    route = _ROUTES[decision.action]
    previous = store.latest_outcome(claim.claim_id)
    outcome = Outcome(
        claim_id=claim.claim_id,
        route=route,
        reasons=_reasons(decision),
        payable=decision.amount
        if route is Route.AUTO_APPROVE and decision.amount is not None
        else Decimal("0"),
        decided_at=decision.decided_at,
        rule_set_version=previous.rule_set_version if previous else None,
        model_versions={**(previous.model_versions if previous else {}), "review": decision.reviewer},
    )
    recorded = decisions.record_review_decision(
        store, outcome, reviewer=decision.reviewer, routed_version=routed_version
    )
    version = recorded.version
    paid, held = None, []
    payee, entitled = payee_of(facts, claim.claimant)
    if route is Route.AUTO_APPROVE:
        result = pay(
            store, claim.claim_id, payee, entitled=entitled, issued_by=ACTOR, decision_version=version
        )
        held = result.held
        if result.instruction is not None:
            paid = format(result.instruction.amount, "f")
    account = payee.account if payee else None
    applied = Applied(
        claim_id=claim.claim_id,
        reviewer=decision.reviewer,
        action=decision.action.value,
        decided_at=decision.decided_at,
        decision_version=version,
        route=route.value,
        paid=paid,
        held=held,
        notice=review_notice(claim, decision, account),
    )
    store.audit(
        ACTOR,
        "review_applied",
        claim.claim_id,
        {
            "action": decision.action.value,
            "reviewer": decision.reviewer,
            "decision_version": version,
            "paid": paid,
            "account": mask_account(account) if account else None,
        },
    )
    store.put_result(claim.claim_id, Stage.REVIEW_APPLIED, applied, key=key)
    return applied


@task(
    name="apply-decision", retries=2, retry_delay_seconds=2, retry_condition_fn=transient, cache_policy=NONE
)
def apply_task(pending: Pending, settings: Settings) -> Applied:
    return apply_decision(store_for(settings), pending.decision, pending.routed_version)


@flow(name="apply-review", log_prints=False)
def apply_review(data_dir: str | None = None) -> list[Applied]:
    """Apply every adjuster decision not yet applied; one failing decision does not stop the others."""
    logger = get_run_logger()
    settings = Settings(data_dir=Path(data_dir)) if data_dir else Settings()
    store = store_for(settings)
    todo = pending_decisions(store)
    logger.info("%d adjuster decisions to apply", len(todo))
    applied: list[Applied] = []
    for pending in todo:  # one by one: a handful per run, and SQLite wants one writer
        state = apply_task(pending, settings, return_state=True)
        if state.is_completed():
            applied.append(state.result())
        else:
            logger.error("claim %s: decision not applied: %s", pending.decision.claim_id, state.message)
    export = steps.export_payments(store, settings, ACTOR)
    if export:
        logger.info("payment file %s", export[0])
    if applied:
        create_table_artifact(
            key="review-applied",
            table=[
                {
                    "claim": a.claim_id,
                    "action": a.action,
                    "version": a.decision_version,
                    "paid": a.paid or "",
                    "held": "; ".join(a.held),
                }
                for a in applied
            ],
            description="Adjuster decisions applied in this run",
        )
    return applied

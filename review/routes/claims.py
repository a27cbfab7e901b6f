"""A claim: its case file, and what an adjuster does with it (lock, correct, decide, approve, reopen).

Opening a claim that waits for a person takes it for the adjuster who may work it. Every action ends
in a redirect to the claim with a notice, or in the claim page again with the reason it was refused.
Decisions only mark review tasks; the `apply_review` flow pays or sends the notice.
"""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipeline.errors import ClaimsError
from pipeline.settings import Settings
from pipeline.store import CaseStore
from review import casefile, work
from review.access import AppSettings, ClaimViewer, FormText, Senior, Store, Worker
from review.auth import Cap, Viewer
from review.masking import mask_text
from review.render import page
from review.reopen import reopen_claim

router = APIRouter()


def claim_page(
    request: Request, viewer: Viewer, claim_id: str, *, error: str | None = None, status_code: int = 200
) -> Response:
    """The case file as `viewer` may see it (masked without `SEE_IDENTIFIERS`), with its history; the
    page every claim action returns to when it is refused."""
    store: CaseStore = request.app.state.store
    settings: Settings = request.app.state.settings
    case = casefile.load_case(store, settings, claim_id, masked=not viewer.can(Cap.SEE_IDENTIFIERS))
    if case is None:
        return page(request, "error.html", 404, title="No such claim", message=f"No claim {claim_id}.")
    task = case.task
    if viewer.can(Cap.WORK_CLAIM) and task and task["status"] == work.OPEN and error is None:
        work.take_lock(store, settings, claim_id, viewer.username)  # opening a claim takes it
        task = casefile.review_task(store, claim_id)
    store.audit(
        viewer.username,
        "view_claim",
        claim_id,
        {"masked": case.masked, "identifiers_shown": case.sensitive_shown},
    )
    events = store.audit_events(claim_id)
    if case.masked:
        for e in events:
            e["detail"] = json.loads(mask_text(json.dumps(e["detail"], ensure_ascii=False, default=str)))
    holds = bool(task and task["status"] == work.OPEN and task["locked_by"] == viewer.username)
    approval = None
    if task and task["status"] == work.AWAITING and case.proposal is not None:
        approval = work.approval_view(
            store, settings, viewer, case.proposal, (case.cap, case.cap_basis), case.product_id
        )
    return page(
        request,
        "claim.html",
        status_code,
        pii=mask_text if case.masked else str,
        case=case,
        task=task,
        holds=holds,
        events=list(reversed(events)),
        error=error,
        limit=work.own_limit(settings, viewer.role, case.product_id),
        always_second=case.cap_basis == "none" and not viewer.can(Cap.APPROVE),
        approval=approval,
    )


def _after(claim_id: str, note: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/claims/{quote(claim_id)}?note={note}{anchor}", status_code=303)


def _failed(request: Request, viewer: Viewer, claim_id: str, exc: work.ReviewError) -> Response:
    return claim_page(request, viewer, claim_id, error=str(exc), status_code=exc.status_code)


def _as_review_error(exc: Exception) -> work.ReviewError:
    return (
        exc if isinstance(exc, work.ReviewError) else work.ReviewError("the form was incomplete; reload it")
    )


@router.get("/claims/{claim_id}", response_class=HTMLResponse)
def claim(request: Request, claim_id: str, viewer: ClaimViewer) -> Response:
    return claim_page(request, viewer, claim_id)


@router.post("/claims/{claim_id}/lock")
def lock(request: Request, claim_id: str, viewer: Worker, store: Store, settings: AppSettings) -> Response:
    state = work.take_lock(store, settings, claim_id, viewer.username)
    if not state.ok:
        return _failed(
            request, viewer, claim_id, work.Conflict(f"claim {claim_id} is held by {state.holder}")
        )
    return _after(claim_id, "locked")


@router.post("/claims/{claim_id}/release")
def release(claim_id: str, viewer: Worker, store: Store) -> Response:
    work.release_lock(store, claim_id, viewer.username)
    return RedirectResponse("/queue?note=released", status_code=303)


@router.post("/claims/{claim_id}/fields")
def correct(
    request: Request,
    claim_id: str,
    viewer: Worker,
    store: Store,
    document_id: FormText = "",
    name: FormText = "",
    value: FormText = "",
) -> Response:
    try:
        if name == casefile.DOC_TYPE_FIELD:
            work.correct_doc_type(store, viewer, claim_id, document_id, value)
        else:
            work.correct_field(store, viewer, claim_id, document_id, name, value)
    except work.ReviewError as exc:
        return _failed(request, viewer, claim_id, exc)
    return _after(claim_id, "corrected", f"#doc-{quote(document_id[:12])}")


@router.post("/claims/{claim_id}/decision")
def decision(
    request: Request,
    claim_id: str,
    viewer: Worker,
    store: Store,
    settings: AppSettings,
    action: FormText = "",
    amount: FormText = "",
    reason: FormText = "",
    missing_documents: Annotated[list[str] | None, Form()] = None,
) -> Response:
    decided = work.DecisionForm(action, amount, reason, tuple(missing_documents or ()))
    try:
        state = work.decide(store, settings, viewer, claim_id, decided)  # capped by casefile.payable_cap
    except work.ReviewError as exc:
        return _failed(request, viewer, claim_id, exc)
    return _after(claim_id, "proposed" if state == work.AWAITING else "decided")


@router.post("/claims/{claim_id}/approve")
def approve(
    request: Request,
    claim_id: str,
    viewer: Senior,
    store: Store,
    settings: AppSettings,
    version: FormText = "",
) -> Response:
    try:
        work.approve(store, settings, viewer, claim_id, int(version or "0"))
    except (work.ReviewError, ValueError) as exc:
        return _failed(request, viewer, claim_id, _as_review_error(exc))
    return _after(claim_id, "approved")


@router.post("/claims/{claim_id}/send-back")
def send_back(
    request: Request,
    claim_id: str,
    viewer: Senior,
    store: Store,
    version: FormText = "",
    reason: FormText = "",
) -> Response:
    try:
        work.send_back(store, viewer, claim_id, int(version or "0"), reason)
    except (work.ReviewError, ValueError) as exc:
        return _failed(request, viewer, claim_id, _as_review_error(exc))
    return _after(claim_id, "sent_back")


@router.post("/claims/{claim_id}/reopen")
def reopen(request: Request, claim_id: str, viewer: Senior, store: Store, reason: FormText = "") -> Response:
    try:
        reopen_claim(store, viewer.username, claim_id, reason)
    except ClaimsError as exc:
        return _failed(request, viewer, claim_id, work.ReviewError(str(exc)))
    return _after(claim_id, "reopened")

"""Operations (batches, outcome rates, the review backlog) and the audit trail."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from review import ops
from review.access import Auditor, OpsViewer, Store
from review.auth import Cap
from review.masking import mask_text
from review.render import page

router = APIRouter()


@router.get("/ops", response_class=HTMLResponse)
def operations(request: Request, viewer: OpsViewer, store: Store) -> Response:
    rates, n, payable = ops.outcome_rates(store)
    unit, series = ops.rates_over_time(store)
    return page(
        request,
        "ops.html",
        batches=ops.recent_batches(store),
        rates=rates,
        claims=n,
        payable=payable,
        backlog=ops.review_backlog(store),
        plot=ops.rates_svg(series, unit),
        unit=unit,
        series=series,
    )


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, viewer: Auditor, store: Store, claim: str = "", actor: str = "") -> Response:
    events = store.audit_events(claim.strip() or None)
    if actor.strip():
        events = [e for e in events if e["actor"] == actor.strip()]
    events = list(reversed(events))[:500]
    if not viewer.can(Cap.SEE_IDENTIFIERS):
        for e in events:
            e["detail"] = json.loads(mask_text(json.dumps(e["detail"], ensure_ascii=False, default=str)))
    return page(request, "audit.html", events=events, claim=claim, actor=actor)

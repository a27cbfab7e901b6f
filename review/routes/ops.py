"""Operations (batches, outcome rates, the review backlog, the service indicators and their full
report) and the audit trail."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from pipeline.indicators import from_store, last_days, parse_day
from pipeline.report_html import csp, render
from review import ops
from review.access import AppSettings, Auditor, OpsViewer, Store
from review.auth import Cap
from review.masking import mask_text
from review.render import page

router = APIRouter()


@router.get("/ops", response_class=HTMLResponse)
def operations(request: Request, viewer: OpsViewer, store: Store, settings: AppSettings) -> Response:
    rates, n, payable = ops.outcome_rates(store)
    unit, series = ops.rates_over_time(store)
    service, service_rows = ops.service_last_days(store, settings.service_targets)
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
        service=service,
        service_rows=service_rows,
    )


@router.get("/ops/report", response_class=HTMLResponse)
def service_report(
    request: Request,
    viewer: OpsViewer,
    store: Store,
    settings: AppSettings,
    start: Annotated[str, Query(alias="from")] = "",
    end: Annotated[str, Query(alias="to")] = "",
    by: str = "",
) -> Response:
    """`claims report --html` for a period (default: the last 30 days), as its own self-contained page."""
    try:
        last = parse_day(end, "to") if end else last_days(1)[1]
        first = parse_day(start, "from") if start else last - dt.timedelta(days=ops.SERVICE_DAYS - 1)
        report, series = from_store(store, first, last, by=by or None, targets=settings.service_targets)
    except ValueError as exc:
        return page(request, "error.html", 400, title="Not a report period", message=str(exc))
    return HTMLResponse(render(report, series), headers={"Content-Security-Policy": csp(header=True)})


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

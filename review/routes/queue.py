"""The queue: claims waiting for a person, most urgent first, filtered as the adjuster asks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from review import work
from review.access import AppSettings, QueueViewer, Store
from review.queue import QueueFilters, build_queue
from review.render import page

router = APIRouter()


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, viewer: QueueViewer, store: Store, settings: AppSettings) -> Response:
    filters = QueueFilters.from_query(dict(request.query_params))
    items, codes = build_queue(store, filters)
    store.audit(
        viewer.username,
        "view_queue",
        None,
        {"claims": [i.claim_id for i in items][:200], "filters": dict(request.query_params)},
    )
    return page(
        request,
        "queue.html",
        items=items,
        codes=codes,
        filters=filters,
        limit=work.own_limit(settings, viewer.role),
    )

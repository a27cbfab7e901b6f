"""Rendering the review app's pages: the Jinja2 templates, their filters, and `page()` every route uses.

Times are shown in China's time zone, money with two places and thousands separators; a redirect's
`?note=` key becomes the one-line notice at the top of the next page.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pipeline import decisions
from pipeline.reasons import describe_source
from pipeline.records import DocType, ReviewAction
from review.auth import Cap

HERE = Path(__file__).parent
TZ = ZoneInfo("Asia/Shanghai")

NOTES = {
    "locked": "The claim is yours until you decide or release it.",
    "released": "Released to the queue.",
    "corrected": "Correction saved; it is kept as a training label.",
    "decided": "Decision recorded; the apply_review flow issues the payment or the notice.",
    "proposed": "Above your limit: the decision waits for a second approval.",
    "approved": "Approved; the apply_review flow issues the payment.",
    "reopened": "Reopened: a new decision version waits in the queue.",
    "sent_back": "Sent back to the queue with your reason.",
}


def _local(t: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if t is None:
        return ""
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(TZ).strftime(fmt)


def _money(v: Decimal | str | float | None) -> str:
    if v is None or v == "":
        return ""
    return f"{Decimal(str(v)):,.2f}"


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.1%}"


def _limit(v: Decimal | None) -> str:
    """A limit of the authority table in words: None is no limit."""
    return "no limit" if v is None else f"{_money(v)} yuan"


def templates() -> Jinja2Templates:
    """The app's templates with their filters and globals; `create_app` keeps one in `app.state`."""
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.filters.update(local=_local, money=_money, pct=_pct, limit=_limit, source=describe_source)
    t.env.globals.update(
        Cap=Cap,
        ReviewAction=ReviewAction,
        DOC_TYPES=[d.value for d in DocType],
        FINAL_ROUTES=[r.value for r in decisions.FINAL],
    )
    return t


def page(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    """Template `name` with the signed-in viewer, the settings and the notice the URL asks for."""
    viewer = getattr(request.state, "viewer", None)
    ctx.setdefault("note", NOTES.get(request.query_params.get("note", "")))
    return request.app.state.templates.TemplateResponse(
        request,
        name,
        {"viewer": viewer, "settings": request.app.state.settings, **ctx},
        status_code=status_code,
    )

"""The adjusters' review app: `create_app(settings)` returns the FastAPI application.

Server-rendered pages (Jinja2) with a little plain JavaScript, over the case store. Access is decided
in one place: every route but sign-in, health and static files depends on `require(capability)`,
which loads the server-side session, checks the role's capabilities and, for anything but GET, the
session's CSRF token. Views of personal data and every action are written to the append-only audit
trail. Decisions only mark review tasks; the `apply_review` flow pays or sends the notice.

Run it with `claims review serve` (uvicorn), after `claims review adduser`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pylopdf_fonts_zh_cn
from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from pipeline import decisions, logs
from pipeline.errors import ClaimsError
from pipeline.records import DocType, ReviewAction
from pipeline.review_tables import require_schema
from pipeline.settings import Settings, get_settings
from pipeline.stages import Stage
from pipeline.store import CaseStore, ClaimDocumentRow, open_store
from review import casefile, ops, work
from review.auth import (
    Cap,
    Viewer,
    authenticate,
    csrf_matches,
    end_session,
    load_session,
    start_session,
)
from review.masking import is_sensitive_field, mask_text
from review.queue import QueueFilters, build_queue
from review.reopen import reopen_claim

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
FONTS = Path(pylopdf_fonts_zh_cn.__file__).parent
COOKIE = "claims_session"
LOGIN_CSRF_COOKIE = "claims_login_csrf"
TZ = ZoneInfo("Asia/Shanghai")
PUBLIC_PATHS = frozenset({"/login", "/healthz"})
"""The only routes without `require`: signing in and the load balancer's health check (plus /static)."""

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


class NotSignedIn(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def require(cap: Cap | None) -> Callable[[Request], Awaitable[Viewer]]:
    """The dependency every non-public route has: a signed-in viewer whose role has `cap` (None: any
    role), and on POST the session's CSRF token in the form or the X-CSRF-Token header."""

    async def dependency(request: Request) -> Viewer:
        app = request.app
        token = request.cookies.get(COOKIE)
        viewer = await run_in_threadpool(load_session, app.state.store, app.state.settings, token)
        if viewer is None:
            raise NotSignedIn()
        request.state.viewer = viewer
        if cap is not None and not viewer.can(cap):
            raise Forbidden(f"your role ({viewer.role.value}) may not {cap.value.replace('_', ' ')}")
        if request.method not in ("GET", "HEAD"):
            given = request.headers.get("x-csrf-token")
            if given is None:
                given = str((await request.form()).get("csrf_token") or "")
            if not csrf_matches(viewer.csrf_token, given):
                raise Forbidden("the form's security token is missing or old; reload the page and try again")
        return viewer

    dependency.capability = cap  # type: ignore[attr-defined]
    return dependency


FormText = Annotated[str, Form()]
"""A form field; every one defaults to empty so a bad post gets our message, not a 422."""
SignedIn = Annotated[Viewer, Depends(require(None))]
QueueViewer = Annotated[Viewer, Depends(require(Cap.VIEW_QUEUE))]
ClaimViewer = Annotated[Viewer, Depends(require(Cap.VIEW_CLAIM))]
Worker = Annotated[Viewer, Depends(require(Cap.WORK_CLAIM))]
Senior = Annotated[Viewer, Depends(require(Cap.APPROVE))]
OpsViewer = Annotated[Viewer, Depends(require(Cap.VIEW_OPS))]
Auditor = Annotated[Viewer, Depends(require(Cap.VIEW_AUDIT))]


# --- template helpers ---------------------------------------------------------------------------


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


def _templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.filters.update(local=_local, money=_money, pct=_pct, limit=_limit)
    t.env.globals.update(
        Cap=Cap,
        ReviewAction=ReviewAction,
        DOC_TYPES=[d.value for d in DocType],
        FINAL_ROUTES=[r.value for r in decisions.FINAL],
    )
    return t


def _safe_next(target: str | None) -> str:
    """Only a local path: a sign-in link must not send anyone to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


# --- the app ------------------------------------------------------------------------------------


def create_app(settings: Settings | None = None, store: CaseStore | None = None) -> FastAPI:
    """The review app over the case store of `settings` (schema migrated on start)."""
    logs.install()  # claimants' ID and account numbers never reach a log line in clear
    settings = settings or get_settings()
    store = store or open_store(settings)
    require_schema(store.engine)
    app = FastAPI(title="claims-di review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.store = store
    templates = _templates()
    # the Noto CJK face the project already ships, for browsers on machines without a Chinese font
    app.mount("/static/fonts", StaticFiles(directory=str(FONTS)), name="fonts")
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def page(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        viewer = getattr(request.state, "viewer", None)
        ctx.setdefault("note", NOTES.get(request.query_params.get("note", "")))
        return templates.TemplateResponse(
            request, name, {"viewer": viewer, "settings": settings, **ctx}, status_code=status_code
        )

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")  # pages hold claimants' data
        return response

    @app.exception_handler(NotSignedIn)
    def _signed_out(request: Request, exc: NotSignedIn) -> Response:
        if request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        return page(request, "error.html", 401, title="Signed out", message="Please sign in again.")

    @app.exception_handler(Forbidden)
    def _forbidden(request: Request, exc: Forbidden) -> Response:
        viewer = getattr(request.state, "viewer", None)
        store.audit(
            viewer.username if viewer else "anonymous",
            "forbidden",
            request.path_params.get("claim_id"),
            {"path": request.url.path, "method": request.method, "why": exc.why},
        )
        return page(request, "error.html", 403, title="Not allowed", message=exc.why)

    # sign-in -------------------------------------------------------------------------------------

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> Response:
        token = secrets.token_urlsafe(24)
        response = page(request, "login.html", login_csrf=token, next=_safe_next(next), error=None)
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=settings.review_secure_cookies
        )
        return response

    @app.post("/login")
    def login(
        request: Request,
        username: FormText = "",
        password: FormText = "",
        next: FormText = "/",
        csrf_token: FormText = "",
    ) -> Response:
        username = username.strip()[:64]
        target = _safe_next(next)
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        if not cookie or not csrf_matches(cookie, csrf_token):
            return page(request, "error.html", 403, title="Not allowed", message="Reload the sign-in page.")
        user = authenticate(store, username, password) if username and password else None
        if user is None:
            store.audit(username or "anonymous", "sign_in_failed", None, {})
            token = secrets.token_urlsafe(24)
            response = page(
                request,
                "login.html",
                401,
                login_csrf=token,
                next=target,
                error="Wrong username or password, or the account is locked for a while.",
            )
            response.set_cookie(
                LOGIN_CSRF_COOKIE,
                token,
                httponly=True,
                samesite="strict",
                secure=settings.review_secure_cookies,
            )
            return response
        old = load_session(store, settings, request.cookies.get(COOKIE))
        if old is not None:  # a new sign-in never reuses a session id (fixation)
            end_session(store, old.session_id)
        token = start_session(store, settings, user.username, request.headers.get("user-agent"))
        store.audit(user.username, "sign_in", None, {"role": user.role})
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE, token, httponly=True, samesite="lax", secure=settings.review_secure_cookies, path="/"
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout")
    def logout(viewer: SignedIn) -> Response:
        released = work.release_all(store, viewer.username)
        end_session(store, viewer.session_id)
        store.audit(viewer.username, "sign_out", None, {"released": released})
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/")
    def home(viewer: SignedIn) -> Response:
        return RedirectResponse("/queue" if viewer.can(Cap.VIEW_QUEUE) else "/ops", status_code=303)

    # the queue -----------------------------------------------------------------------------------

    @app.get("/queue", response_class=HTMLResponse)
    def queue(request: Request, viewer: QueueViewer) -> Response:
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

    # a claim -------------------------------------------------------------------------------------

    def claim_page(
        request: Request, viewer: Viewer, claim_id: str, *, error: str | None = None, status_code: int = 200
    ) -> Response:
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

    @app.get("/claims/{claim_id}", response_class=HTMLResponse)
    def claim(request: Request, claim_id: str, viewer: ClaimViewer) -> Response:
        return claim_page(request, viewer, claim_id)

    def after(claim_id: str, note: str, anchor: str = "") -> Response:
        return RedirectResponse(f"/claims/{quote(claim_id)}?note={note}{anchor}", status_code=303)

    def failed(request: Request, viewer: Viewer, claim_id: str, exc: work.ReviewError) -> Response:
        return claim_page(request, viewer, claim_id, error=str(exc), status_code=exc.status_code)

    @app.post("/claims/{claim_id}/lock")
    def lock(request: Request, claim_id: str, viewer: Worker) -> Response:
        state = work.take_lock(store, settings, claim_id, viewer.username)
        if not state.ok:
            return failed(
                request, viewer, claim_id, work.Conflict(f"claim {claim_id} is held by {state.holder}")
            )
        return after(claim_id, "locked")

    @app.post("/claims/{claim_id}/release")
    def release(claim_id: str, viewer: Worker) -> Response:
        work.release_lock(store, claim_id, viewer.username)
        return RedirectResponse("/queue?note=released", status_code=303)

    @app.post("/claims/{claim_id}/fields")
    def correct(
        request: Request,
        claim_id: str,
        viewer: Worker,
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
            return failed(request, viewer, claim_id, exc)
        return after(claim_id, "corrected", f"#doc-{quote(document_id[:12])}")

    @app.post("/claims/{claim_id}/decision")
    def decision(
        request: Request,
        claim_id: str,
        viewer: Worker,
        action: FormText = "",
        amount: FormText = "",
        reason: FormText = "",
        missing_documents: Annotated[list[str] | None, Form()] = None,
    ) -> Response:
        decided = work.DecisionForm(action, amount, reason, tuple(missing_documents or ()))
        try:
            state = work.decide(store, settings, viewer, claim_id, decided)  # capped by casefile.payable_cap
        except work.ReviewError as exc:
            return failed(request, viewer, claim_id, exc)
        return after(claim_id, "proposed" if state == work.AWAITING else "decided")

    @app.post("/claims/{claim_id}/approve")
    def approve(request: Request, claim_id: str, viewer: Senior, version: FormText = "") -> Response:
        try:
            work.approve(store, settings, viewer, claim_id, int(version or "0"))
        except (work.ReviewError, ValueError) as exc:
            return failed(request, viewer, claim_id, _as_review_error(exc))
        return after(claim_id, "approved")

    @app.post("/claims/{claim_id}/send-back")
    def send_back(
        request: Request, claim_id: str, viewer: Senior, version: FormText = "", reason: FormText = ""
    ) -> Response:
        try:
            work.send_back(store, viewer, claim_id, int(version or "0"), reason)
        except (work.ReviewError, ValueError) as exc:
            return failed(request, viewer, claim_id, _as_review_error(exc))
        return after(claim_id, "sent_back")

    @app.post("/claims/{claim_id}/reopen")
    def reopen(request: Request, claim_id: str, viewer: Senior, reason: FormText = "") -> Response:
        try:
            reopen_claim(store, viewer.username, claim_id, reason)
        except ClaimsError as exc:
            return failed(request, viewer, claim_id, work.ReviewError(str(exc)))
        return after(claim_id, "reopened")

    @app.get("/claims/{claim_id}/documents/{document_id}/pages/{number}.jpg")
    def page_image(claim_id: str, document_id: str, number: int, viewer: ClaimViewer) -> Response:
        with store.session() as s:
            linked = s.scalar(
                select(ClaimDocumentRow.id).where(
                    ClaimDocumentRow.claim_id == claim_id, ClaimDocumentRow.document_id == document_id
                )
            )
        if linked is None:
            return Response("no such document on this claim", status_code=404, media_type="text/plain")
        masked = not viewer.can(Cap.SEE_IDENTIFIERS)
        data = page_jpeg(store, settings, claim_id, document_id, number, masked=masked)
        if data is None:
            return Response("no image kept for this page", status_code=404, media_type="text/plain")
        store.audit(
            viewer.username,
            "view_page_image",
            claim_id,
            {"document_id": document_id, "page": number, "masked": masked},
        )
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})

    # operations and audit ------------------------------------------------------------------------

    @app.get("/ops", response_class=HTMLResponse)
    def operations(request: Request, viewer: OpsViewer) -> Response:
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

    @app.get("/audit", response_class=HTMLResponse)
    def audit(request: Request, viewer: Auditor, claim: str = "", actor: str = "") -> Response:
        events = store.audit_events(claim.strip() or None)
        if actor.strip():
            events = [e for e in events if e["actor"] == actor.strip()]
        events = list(reversed(events))[:500]
        if not viewer.can(Cap.SEE_IDENTIFIERS):
            for e in events:
                e["detail"] = json.loads(mask_text(json.dumps(e["detail"], ensure_ascii=False, default=str)))
        return page(request, "audit.html", events=events, claim=claim, actor=actor)

    return app


def _as_review_error(exc: Exception) -> work.ReviewError:
    return (
        exc if isinstance(exc, work.ReviewError) else work.ReviewError("the form was incomplete; reload it")
    )


# --- page images --------------------------------------------------------------------------------


def page_jpeg(
    store: CaseStore, settings: Settings, claim_id: str, document_id: str, number: int, *, masked: bool
) -> bytes | None:
    """The page image the OCR boxes refer to, with identifiers blacked out for masked roles.

    OCR'd pages are served as the batch saved them (the cleaned image: re-deriving it would mean
    running the engine again, and a newer engine could turn or warp the page differently from the
    stored boxes). A text-layer PDF page has no cleaning: it is rasterised at the loader's dpi on
    first request and kept beside the others.
    """
    key = casefile.latest_pages_key(store, document_id)
    if key is None:
        return None
    pages = store.get_pages(document_id, key) or []
    page = next((p for p in pages if p.number == number), None)
    if page is None:
        return None
    path = casefile.page_image_path(settings, document_id, key, number)
    if not path.is_file():
        if page.source != "pdf_text":
            return None
        source = store.files.path(document_id)
        if source is None:
            return None
        from pipeline.page_images import write_pdf_page_image

        write_pdf_page_image(source, number, path)
    if not masked:
        return path.read_bytes()
    return _redacted(store, claim_id, document_id, page, path)


def _redacted(store: CaseStore, claim_id: str, document_id: str, page: Any, path: Path) -> bytes:
    """Black boxes over every line that holds an ID- or account-shaped number, and over the boxes
    of sensitive fields, scaled from page coordinates to the image's pixels."""
    from PIL import Image, ImageDraw

    from pipeline.records import Extraction

    boxes = [ln.box for ln in page.lines if mask_text(ln.text) != ln.text]
    ex = store.get_result(claim_id, Stage.EXTRACT, Extraction, key=document_id)
    if ex is not None:
        boxes += [f.box for f in ex.fields if f.box and f.page == page.number and is_sensitive_field(f.name)]
    with Image.open(path) as im:
        img = im.convert("RGB")
    sx, sy = img.width / page.width, img.height / page.height
    draw = ImageDraw.Draw(img)
    for box in boxes:
        xs = [p[0] * sx for p in box]
        ys = [p[1] * sy for p in box]
        pad = 0.15 * (max(ys) - min(ys))
        draw.rectangle([min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad], fill=(0, 0, 0))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return out.getvalue()

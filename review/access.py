"""Who may do what, decided in one place: `require(capability)` on every route but the public ones.

It loads the server-side session, checks the role's capabilities and, for anything but GET, the
session's CSRF token. A viewer who is not signed in is sent to sign in; a refusal is written to the
audit trail and answered with a page that says why. Every response gets the security headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pipeline.settings import Settings
from pipeline.store import CaseStore
from review.auth import Cap, Viewer, csrf_matches, load_session
from review.render import page

COOKIE = "claims_session"
LOGIN_CSRF_COOKIE = "claims_login_csrf"
PUBLIC_PATHS = frozenset({"/login", "/healthz"})
"""The only routes without `require`: signing in and the load balancer's health check (plus /static)."""


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


async def case_store(request: Request) -> CaseStore:
    """The app's case store (`create_app` puts it in `app.state`)."""
    return request.app.state.store


async def app_settings(request: Request) -> Settings:
    """The app's settings (`create_app` puts them in `app.state`)."""
    return request.app.state.settings


FormText = Annotated[str, Form()]
"""A form field; every one defaults to empty so a bad post gets our message, not a 422."""
Store = Annotated[CaseStore, Depends(case_store)]
AppSettings = Annotated[Settings, Depends(app_settings)]
SignedIn = Annotated[Viewer, Depends(require(None))]
QueueViewer = Annotated[Viewer, Depends(require(Cap.VIEW_QUEUE))]
ClaimViewer = Annotated[Viewer, Depends(require(Cap.VIEW_CLAIM))]
Worker = Annotated[Viewer, Depends(require(Cap.WORK_CLAIM))]
Senior = Annotated[Viewer, Depends(require(Cap.APPROVE))]
OpsViewer = Annotated[Viewer, Depends(require(Cap.VIEW_OPS))]
Auditor = Annotated[Viewer, Depends(require(Cap.VIEW_AUDIT))]


async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """The HTTP middleware: a strict content security policy; pages are never cached."""
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


def signed_out(request: Request, exc: Exception) -> Response:
    """`NotSignedIn`: a page view goes to sign-in and comes back; a post says to sign in again."""
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return page(request, "error.html", 401, title="Signed out", message="Please sign in again.")


def forbidden(request: Request, exc: Exception) -> Response:
    """`Forbidden`: audited, and answered with the reason."""
    why = exc.why if isinstance(exc, Forbidden) else str(exc)
    viewer = getattr(request.state, "viewer", None)
    request.app.state.store.audit(
        viewer.username if viewer else "anonymous",
        "forbidden",
        request.path_params.get("claim_id"),
        {"path": request.url.path, "method": request.method, "why": why},
    )
    return page(request, "error.html", 403, title="Not allowed", message=why)

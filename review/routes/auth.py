"""Signing in and out, the health check, and the home page that sends each role where it works."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review import work
from review.access import COOKIE, LOGIN_CSRF_COOKIE, AppSettings, FormText, SignedIn, Store
from review.auth import Cap, authenticate, csrf_matches, end_session, load_session, start_session
from review.render import page

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a local path: a sign-in link must not send anyone to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: AppSettings, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", login_csrf=token, next=_safe_next(next), error=None)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=settings.review_secure_cookies
    )
    return response


@router.post("/login")
def login(
    request: Request,
    store: Store,
    settings: AppSettings,
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


@router.post("/logout")
def logout(viewer: SignedIn, store: Store) -> Response:
    released = work.release_all(store, viewer.username)
    end_session(store, viewer.session_id)
    store.audit(viewer.username, "sign_out", None, {"released": released})
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
def home(viewer: SignedIn) -> Response:
    return RedirectResponse("/queue" if viewer.can(Cap.VIEW_QUEUE) else "/ops", status_code=303)

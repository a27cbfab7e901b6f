"""The intake API's gate: key, rate limit, content type and body size, before a request's body is read.

Every request to `/claims` passes it first: the API key (`X-API-Key`) names the caller, the caller's
token bucket must hold a token (else 429 with Retry-After), the body must be of the right type
(else 415) and within the size limit (else 413, also when it turns out larger while streaming).
Each call, refused or not, leaves an event in the case store's audit trail with the key id, never
the key.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from intake.keys import Caller, KeyRing
from intake.ratelimit import RateLimiter, retry_after
from pipeline.settings import Settings
from pipeline.store import CaseStore

log = logging.getLogger(__name__)

API_KEY_HEADER = "X-API-Key"
PUBLIC_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/health"})
"""Everything else needs a key: a path added later is closed until it is listed here."""
_KEY_ID = re.compile(r"^cdi_([0-9a-f]{12})_")
_MULTIPART = re.compile(r"^/claims(/[^/]+/documents)?/?$")
_JSON = re.compile(r"^/claims/(hospital|[^/]+/rating)/?$")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def route_path(scope: Scope) -> str:
    """The path inside this app: mounted under /api, `/api/claims` is `/claims` (Starlette keeps
    the mount's prefix in `path` and puts it in `root_path`)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :] or "/"
    return path


def problem_response(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    body = {"error": error, "message": message, **{k: v for k, v in extra.items() if v is not None}}
    return JSONResponse(body, status_code=status)


class RequestTooLarge(HTTPException):
    """Raised from the body stream when an upload without Content-Length grows past the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            {
                "error": "request_too_large",
                "message": f"the request body is larger than the limit of {limit:,} bytes; send fewer or"
                " smaller files",
            },
        )


class Gate:
    """Authentication, rate limit, content type and body size before the body is read; audit after."""

    def __init__(
        self, app: ASGIApp, settings: Settings, store: CaseStore, keys: KeyRing, limiter: RateLimiter
    ):
        self.app, self.settings, self.store, self.keys, self.limiter = app, settings, store, keys, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope)
        if scope["type"] != "http" or path in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        status_box: dict[str, int] = {"status": 0}

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
            await send(message)

        raw_key = headers.get(API_KEY_HEADER.lower())
        caller = await run_in_threadpool(self.keys.authenticate, raw_key)
        refusal: JSONResponse | None = None
        if caller is None:
            state["audit_error"] = "unauthorized"
            refusal = problem_response(
                401,
                "unauthorized",
                f"a valid API key is required in the {API_KEY_HEADER} header (ask for one per channel:"
                " claims intake addkey)",
            )
            refusal.headers["WWW-Authenticate"] = f'ApiKey header="{API_KEY_HEADER}"'
        else:
            state["caller"] = caller
            wait = await run_in_threadpool(  # Redis is a network call: not on the event loop
                self.limiter.take,
                caller.key_id,
                caller.rate_per_minute or self.settings.intake_rate_per_minute,
                caller.burst or self.settings.intake_burst,
            )
            if wait > 0:
                state["audit_error"] = "rate_limited"
                refusal = problem_response(
                    429, "rate_limited", f"too many requests for this API key; retry in {retry_after(wait)} s"
                )
                refusal.headers["Retry-After"] = retry_after(wait)
            elif scope["method"] == "POST":
                refusal = self._body_refusal(path, headers, state)
        try:
            if refusal is not None:
                await refusal(scope, receive, send_status)
            else:
                await self.app(scope, self._limited(receive), send_status)
        finally:  # a call that crashed is audited too, as the 500 it became
            status = status_box["status"] or 500
            await run_in_threadpool(self._audit, scope, caller, raw_key, status, started)

    def _body_refusal(self, path: str, headers: dict[str, str], state: dict[str, Any]) -> JSONResponse | None:
        ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        want = (
            "multipart/form-data"
            if _MULTIPART.match(path)
            else "application/json"
            if _JSON.match(path)
            else None
        )
        if want is not None and ctype != want:
            state["audit_error"] = "unsupported_media_type"
            return problem_response(
                415,
                "unsupported_media_type",
                f"send this request as {want} (it came as {ctype or 'no content type'})",
            )
        length = headers.get("content-length")
        limit = self.settings.intake_max_request_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            state["audit_error"] = "request_too_large"
            return problem_response(
                413,
                "request_too_large",
                f"the request body is {int(length):,} bytes, larger than the limit of {limit:,}; send fewer"
                " or smaller files",
            )
        return None

    def _limited(self, receive: Receive) -> Receive:
        limit = self.settings.intake_max_request_bytes
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise RequestTooLarge(limit)
            return message

        return wrapped

    def _audit(
        self, scope: Scope, caller: Caller | None, raw_key: str | None, status: int, started: float
    ) -> None:
        state = scope.get("state", {})
        route = scope.get("route")
        detail: dict[str, Any] = {
            "method": scope["method"],
            "path": scope.get("path"),
            "route": getattr(route, "path", None),
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
        if caller is not None:
            detail.update(key_id=caller.key_id, channel=caller.channel, owner=caller.owner)
        elif raw_key and (m := _KEY_ID.match(raw_key)):
            detail["key_id_presented"] = m.group(1)
        for name in ("audit_error", "audit_replayed", "audit_idempotency_key"):
            if state.get(name) is not None:  # the client chose the key: never more than fits a key
                value = state[name]
                detail[name.removeprefix("audit_")] = value[:128] if isinstance(value, str) else value
        actor = caller.actor if caller is not None else "api:anonymous"
        try:
            self.store.audit(actor, "api_call", state.get("audit_claim"), detail)
        except Exception:  # the call has been answered; a failed audit write is logged loudly
            log.exception("intake: audit event not written for %s %s", scope["method"], scope.get("path"))

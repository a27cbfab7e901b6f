"""The intake API (FastAPI): one HTTP door for claims from the customer app, agents' tools and hospitals.

`create_app(settings, dispatcher=...)` gives the app over the case store of `settings`: the gate
(`intake.gate`: key, rate limit, content type, body size, audit) in front of the routes
(`intake.routes`), which do their work through `IntakeService`; its refusals become a `Problem` (a
code and a sentence naming the file or field). Accepted claims go to the dispatcher the app is
given (`flows.web` hands it the one `CLAIMS_INTAKE_DISPATCH` names); without one they wait, queued,
for the next intake batch.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from intake.dispatch import Dispatcher, QueueDispatcher
from intake.errors import IntakeError
from intake.gate import API_KEY_HEADER, Gate, problem_response, route_path
from intake.keys import KeyRing
from intake.ratelimit import RateLimiter, make_limiter
from intake.routes import router
from intake.service import IntakeService
from pipeline import logs
from pipeline.settings import Settings, get_settings
from pipeline.store import CaseStore, open_store

__all__ = ["create_app"]


async def intake_error(request: Request, exc: IntakeError) -> JSONResponse:
    request.state.audit_error = exc.error
    return JSONResponse(exc.body(), status_code=exc.status)


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    path = route_path(request.scope).rstrip("/")
    messages, first = [], None
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "header", "query", "path")]
        where = ".".join(loc) or "body"
        first = first or where
        messages.append(f"{where}: {str(err.get('msg', 'invalid')).lower()}")
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        error = "invalid_json"
    else:
        error = {"/claims": "invalid_metadata", "/claims/hospital": "invalid_submission"}.get(
            path, "invalid_request"
        )
    request.state.audit_error = error
    return problem_response(422, error, "; ".join(messages), field=first)


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if isinstance(exc.detail, dict) and "error" in exc.detail:
        body = exc.detail
    else:
        body = {
            "error": {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request"),
            "message": str(exc.detail),
        }
    request.state.audit_error = body["error"]
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def create_app(
    settings: Settings | None = None,
    *,
    store: CaseStore | None = None,
    dispatcher: Dispatcher | None = None,
    limiter: RateLimiter | None = None,
) -> FastAPI:
    """The intake API over the case store of `settings` (schema migrated when the store is opened)."""
    logs.install()  # uploads carry ID, account and phone numbers: none reaches a log line in clear
    settings = settings or get_settings()
    store = store or open_store(settings)
    dispatcher = dispatcher or QueueDispatcher()
    keys = KeyRing(store)
    service = IntakeService(settings, store, dispatcher)
    app = FastAPI(
        title="claims-di intake API",
        version="1",
        description=(
            "Claims from the customer app, agents' tools and hospitals (理赔受理). Authenticate with the"
            f" `{API_KEY_HEADER}` header; send a fresh `Idempotency-Key` with each new claim and the same"
            " one when retrying it. A claim is decided by the same pipeline as a batch; follow it at"
            " its status URL for the electronic claim notice (电子理赔通知书) and any request for"
            " documents (电子照会)."
        ),
    )
    app.state.settings, app.state.store, app.state.keys = settings, store, keys
    app.state.dispatcher, app.state.service = dispatcher, service
    app.add_middleware(
        Gate, settings=settings, store=store, keys=keys, limiter=limiter or make_limiter(settings)
    )
    app.add_exception_handler(IntakeError, intake_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.include_router(router)
    return app

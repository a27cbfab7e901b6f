"""The intake API (FastAPI): one HTTP door for claims from the customer app, agents' tools and hospitals.

`create_app(settings)` gives the app over the case store of `settings`. Every request to `/claims`
passes the gate first, before its body is read: the API key (`X-API-Key`) names the caller, the
caller's token bucket must hold a token (else 429 with Retry-After), the body must be of the right
type (else 415) and within the size limit (else 413, also when it turns out larger while streaming).
Each call, refused or not, leaves an event in the case store's audit trail with the key id, never
the key. Handlers then do their work through `IntakeService`; its refusals become a `Problem` (a
code and a sentence naming the file or field).
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, File, Form, Header, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from intake.dispatch import Dispatcher, make_dispatcher
from intake.keys import Caller, KeyRing
from intake.ratelimit import RateLimiter, make_limiter, retry_after
from intake.schemas import ClaimAccepted, ClaimStatus, HospitalSubmission, Problem, RatingIn, RatingOut
from intake.service import IntakeError, IntakeService, Reply, Upload
from pipeline import logs
from pipeline.settings import Settings, get_settings
from pipeline.store import CaseStore, open_store

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


def _problem(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
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
            refusal = _problem(
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
                refusal = _problem(
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
            return _problem(
                415,
                "unsupported_media_type",
                f"send this request as {want} (it came as {ctype or 'no content type'})",
            )
        length = headers.get("content-length")
        limit = self.settings.intake_max_request_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            state["audit_error"] = "request_too_large"
            return _problem(
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


# --- the app -------------------------------------------------------------------------------------

_api_key = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="A key of your channel (app, agent, hospital), from `claims intake addkey`.",
)


def caller(request: Request, _key: Annotated[str | None, Depends(_api_key)] = None) -> Caller:
    """The caller the gate authenticated (the dependency also documents the key in OpenAPI)."""
    found = getattr(request.state, "caller", None)
    if found is None:  # only without the gate, i.e. never in a real app
        raise IntakeError("unauthorized", "a valid API key is required", 401)
    return found


def base_url(request: Request) -> str:
    """This app's own root URL, under whatever it is mounted at (/api in `claims serve`): Starlette's
    `request.base_url` is the outermost app's."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}{root}/"


@contextmanager
def spooled(files: list[UploadFile] | None) -> Iterator[list[Upload]]:
    """The uploads copied to a private temporary folder, as the byte checks read paths."""
    tmp = Path(tempfile.mkdtemp(prefix="intake-upload-"))
    try:
        uploads = []
        for n, f in enumerate(files or [], 1):
            path = tmp / f"{n:04d}"
            with path.open("wb") as out:
                f.file.seek(0)
                shutil.copyfileobj(f.file, out, 1 << 20)
            uploads.append(Upload(filename=f.filename or "", path=path))
        yield uploads
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _respond(request: Request, reply: Reply) -> JSONResponse:
    request.state.audit_claim = reply.claim_id
    if reply.replayed:
        request.state.audit_replayed = True
    response = JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)
    if reply.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Idempotency-Key missing or malformed"},
    401: {"model": Problem, "description": "no valid API key"},
    404: {"model": Problem, "description": "no such claim for this key"},
    409: {"model": Problem, "description": "idempotency key reused or in progress; nothing to answer"},
    413: {"model": Problem, "description": "a file or the whole request is too large"},
    415: {"model": Problem, "description": "a file of an unsupported type, or a wrong content type"},
    422: {"model": Problem, "description": "a field or file is invalid: the message names it"},
    429: {"model": Problem, "description": "rate limit of the key exceeded (see Retry-After)"},
}


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
    dispatcher = dispatcher or make_dispatcher(settings)
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

    @app.exception_handler(IntakeError)
    async def _intake_error(request: Request, exc: IntakeError) -> JSONResponse:
        request.state.audit_error = exc.error
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
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
        return _problem(422, error, "; ".join(messages), field=first)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict) and "error" in exc.detail:
            body = exc.detail
        else:
            body = {
                "error": {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request"),
                "message": str(exc.detail),
            }
        request.state.audit_error = body["error"]
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        "/claims",
        status_code=201,
        response_model=ClaimAccepted,
        responses=_ERRORS,
        summary="Submit a claim with its documents (multipart)",
    )
    def submit_claim(
        request: Request,
        who: Annotated[Caller, Depends(caller)],
        policy_number: Annotated[str, Form(description="保单号")],
        claimant: Annotated[str, Form(description="申请人姓名")],
        incident_date: Annotated[str, Form(description="出险日期, YYYY-MM-DD")],
        idempotency_key: Annotated[
            str | None,
            Header(alias="Idempotency-Key", description="a fresh key per claim; the same key on a retry"),
        ] = None,
        claimant_id_number: Annotated[str | None, Form(description="申请人身份证号")] = None,
        insured: Annotated[str | None, Form(description="被保险人 (if not the claimant)")] = None,
        claim_type: Annotated[
            str | None, Form(description="outpatient, inpatient, accident, critical_illness (or 门诊, 住院…)")
        ] = None,
        amount_claimed: Annotated[str | None, Form(description="申请金额, yuan")] = None,
        documents: Annotated[
            list[UploadFile] | None,
            File(description="the claim's files: JPEG, PNG, TIFF, WebP or PDF, one part each"),
        ] = None,
    ) -> JSONResponse:
        """A claim and its documents. Every file is checked by its bytes (type, size, pixels, pages,
        truncation, encryption) before anything is stored; the first problem is refused with a 4xx
        naming the file. Answers 201 with the claim id and its status URL; a retry with the same
        Idempotency-Key answers the same (header `Idempotent-Replayed: true`) and makes no new claim."""
        request.state.audit_idempotency_key = idempotency_key
        form = {
            "policy_number": policy_number,
            "claimant": claimant,
            "incident_date": incident_date,
            "claimant_id_number": claimant_id_number,
            "insured": insured,
            "claim_type": claim_type,
            "amount_claimed": amount_claimed,
        }
        with spooled(documents) as uploads:
            reply = service.submit_upload(who, idempotency_key, form, uploads, base_url(request))
        return _respond(request, reply)

    @app.post(
        "/claims/hospital",
        status_code=201,
        response_model=ClaimAccepted,
        responses={**_ERRORS, 403: {"model": Problem, "description": "not a hospital key"}},
        summary="Submit a hospital's structured claim (医疗信息直连, JSON)",
    )
    def submit_hospital_claim(
        request: Request,
        who: Annotated[Caller, Depends(caller)],
        submission: Annotated[HospitalSubmission, Body()],
        idempotency_key: Annotated[
            str | None,
            Header(alias="Idempotency-Key", description="a fresh key per claim; the same key on a retry"),
        ] = None,
    ) -> JSONResponse:
        """The JSON form of the medical e-invoice, the expense list and the visit, in place of images:
        nothing is OCR'd, the same fields are extracted and checked, and the claim goes through the
        same triage, adjudication and fraud scoring. Where the product allows it the hospital is paid
        directly (医疗直付) to the account registered with its key."""
        request.state.audit_idempotency_key = idempotency_key
        reply = service.submit_structured(who, idempotency_key, submission, base_url(request))
        return _respond(request, reply)

    @app.get("/claims/{claim_id}", response_model=ClaimStatus, responses=_ERRORS, summary="A claim's status")
    def get_claim(request: Request, claim_id: str, who: Annotated[Caller, Depends(caller)]) -> ClaimStatus:
        """Where the claim stands; once decided, the electronic claim notice (amount, what is covered
        and what is not, with the reasons, in plain Chinese); any requests for documents (电子照会)."""
        request.state.audit_claim = claim_id
        return service.status(who, claim_id, base_url(request))

    @app.post(
        "/claims/{claim_id}/documents",
        status_code=202,
        responses=_ERRORS,
        summary="Answer a request for documents (电子照会) and resume the claim",
    )
    def add_documents(
        request: Request,
        claim_id: str,
        who: Annotated[Caller, Depends(caller)],
        documents: Annotated[list[UploadFile] | None, File(description="the requested files")] = None,
        request_id: Annotated[
            str | None, Form(description="the request answered (default: the open one)")
        ] = None,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> JSONResponse:
        """The files a request for documents asked for; the claim is queued again and decided anew."""
        request.state.audit_claim = claim_id
        request.state.audit_idempotency_key = idempotency_key
        with spooled(documents) as uploads:
            reply = service.add_documents(
                who,
                claim_id,
                uploads,
                base_url(request),
                idempotency_key=idempotency_key,
                request_id=request_id,
            )
        return _respond(request, reply)

    @app.post(
        "/claims/{claim_id}/rating",
        response_model=RatingOut,
        responses=_ERRORS,
        summary="Rate the claims service (理赔服务打分), 1 to 5",
    )
    def rate_claim(
        request: Request, claim_id: str, rating: RatingIn, who: Annotated[Caller, Depends(caller)]
    ) -> RatingOut:
        """The claimant's rating of how the claim was handled, once it is decided."""
        request.state.audit_claim = claim_id
        return service.rate(who, claim_id, rating)

    return app

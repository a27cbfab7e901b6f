"""The intake API's routes (`/claims`): each hands its request to `IntakeService` and answers its reply.

Handlers see only what the gate let through (`intake.gate`): an authenticated caller with a token
in its bucket and a body of the right type and size. Uploads are spooled to a private temporary
folder, as the byte checks read paths.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Header, Request, UploadFile
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader

from intake.errors import IntakeError
from intake.gate import API_KEY_HEADER
from intake.idempotency import Reply
from intake.keys import Caller
from intake.schemas import ClaimAccepted, ClaimStatus, HospitalSubmission, Problem, RatingIn, RatingOut
from intake.service import IntakeService
from intake.uploads import Upload

router = APIRouter()

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


def intake_service(request: Request) -> IntakeService:
    """The service `create_app` made for this app (mounted under /api, `request.app` is still ours)."""
    return request.app.state.service


Service = Annotated[IntakeService, Depends(intake_service)]


@router.get("/health", include_in_schema=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post(
    "/claims",
    status_code=201,
    response_model=ClaimAccepted,
    responses=_ERRORS,
    summary="Submit a claim with its documents (multipart)",
)
def submit_claim(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    service: Service,
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


@router.post(
    "/claims/hospital",
    status_code=201,
    response_model=ClaimAccepted,
    responses={**_ERRORS, 403: {"model": Problem, "description": "not a hospital key"}},
    summary="Submit a hospital's structured claim (医疗信息直连, JSON)",
)
def submit_hospital_claim(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    service: Service,
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


@router.get("/claims/{claim_id}", response_model=ClaimStatus, responses=_ERRORS, summary="A claim's status")
def get_claim(
    request: Request, claim_id: str, who: Annotated[Caller, Depends(caller)], service: Service
) -> ClaimStatus:
    """Where the claim stands; once decided, the electronic claim notice (amount, what is covered
    and what is not, with the reasons, in plain Chinese); any requests for documents (电子照会)."""
    request.state.audit_claim = claim_id
    return service.status(who, claim_id, base_url(request))


@router.post(
    "/claims/{claim_id}/documents",
    status_code=202,
    responses=_ERRORS,
    summary="Answer a request for documents (电子照会) and resume the claim",
)
def add_documents(
    request: Request,
    claim_id: str,
    who: Annotated[Caller, Depends(caller)],
    service: Service,
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


@router.post(
    "/claims/{claim_id}/rating",
    response_model=RatingOut,
    responses=_ERRORS,
    summary="Rate the claims service (理赔服务打分), 1 to 5",
)
def rate_claim(
    request: Request,
    claim_id: str,
    rating: RatingIn,
    who: Annotated[Caller, Depends(caller)],
    service: Service,
) -> RatingOut:
    """The claimant's rating of how the claim was handled, once it is decided."""
    request.state.audit_claim = claim_id
    return service.rate(who, claim_id, rating)

"""The door itself: every kind of bad request refused with a 4xx naming the file or field and storing
nothing, idempotent retries, keys limited to their own claims, rate limits, and the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import money
from helpers.files import encrypted_pdf, gif_bytes, image_bytes, pdf_bytes, png_header_only
from intake_api import Api, make_api
from intake_files import HOSPITAL, OUTPATIENT_POLICY, PATIENT, hospital_submission
from sqlalchemy import func, select

from intake.keys import revoke_key
from pipeline.intake_tables import IdempotencyRow, IntakeClaimRow
from pipeline.records import Outcome, Route
from pipeline.settings import Settings
from pipeline.store import ClaimRow, DocumentRow

FORM = {"policy_number": OUTPATIENT_POLICY, "claimant": PATIENT, "incident_date": "2025-06-01"}


def files(*items: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("documents", (name, data, "application/octet-stream")) for name, data in items]


def good_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    return files(("invoice.jpg", image_bytes("JPEG", seed=1)), ("list.png", image_bytes("PNG", seed=2)))


def stored(api: Api) -> dict[str, int]:
    """How many claims and documents the store holds, and files on disk."""
    with api.store.session() as s:
        claims = s.scalar(select(func.count()).select_from(ClaimRow)) or 0
        docs = s.scalar(select(func.count()).select_from(DocumentRow)) or 0
    on_disk = (
        sum(1 for p in api.settings.documents_dir.rglob("*") if p.is_file())
        if api.settings.documents_dir.exists()
        else 0
    )
    return {"claims": claims, "documents": docs, "files": on_disk}


def post_claim(api: Api, idem: str | None = "k-1", who: str = "app", form: dict[str, str] | None = None,
               upload: Any = None, **kw: Any) -> Any:  # fmt: skip
    return api.client.post(
        "/claims",
        headers=api.headers(who, idem),
        data=FORM if form is None else form,
        files=good_files() if upload is None else upload,
        **kw,
    )


# --- idempotency -----------------------------------------------------------------------------------


def test_a_retried_upload_makes_no_second_claim(api: Api) -> None:
    first = post_claim(api, "retry-me")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "queued"
    assert body["status_url"].endswith(f"/claims/{body['claim_id']}")
    assert first.headers["Location"] == body["status_url"]
    assert [d["filename"] for d in body["documents"]] == ["invoice.jpg", "list.png"]

    again = post_claim(api, "retry-me")
    assert again.status_code == 201
    assert again.json() == body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert stored(api) == {"claims": 1, "documents": 2, "files": 2}

    other = post_claim(api, "another-claim")
    assert other.status_code == 201 and other.json()["claim_id"] != body["claim_id"]
    assert stored(api)["claims"] == 2


def test_the_same_key_for_another_request_is_refused(api: Api) -> None:
    assert post_claim(api, "k").status_code == 201
    r = post_claim(api, "k", upload=files(("other.jpg", image_bytes(seed=9))))
    assert r.status_code == 409
    assert r.json()["error"] == "idempotency_key_reused"
    assert "Idempotency-Key 'k'" in r.json()["message"]
    assert stored(api)["claims"] == 1


def test_a_retry_while_the_first_try_runs_is_told_to_wait_and_a_dead_try_is_taken_over(api: Api) -> None:
    r = post_claim(api, "slow")
    claim_id = r.json()["claim_id"]
    with api.store.session() as s:  # as if the first try were still running
        row = s.scalar(select(IdempotencyRow).where(IdempotencyRow.idempotency_key == "slow"))
        assert row is not None
        row.state, row.response = "pending", None
    busy = post_claim(api, "slow")
    assert busy.status_code == 409 and busy.json()["error"] == "request_in_progress"
    with api.store.session() as s:  # ... and now as if it had died minutes ago
        row = s.scalar(select(IdempotencyRow).where(IdempotencyRow.idempotency_key == "slow"))
        assert row is not None
        row.created_at = row.created_at - dt.timedelta(minutes=10)
    taken_over = post_claim(api, "slow")
    assert taken_over.status_code == 201
    assert taken_over.json()["claim_id"] == claim_id  # the same claim, finished, not a second one
    assert stored(api)["claims"] == 1


# --- every kind of bad request -------------------------------------------------------------------------


@pytest.fixture
def tight(tmp_path: Any) -> Iterator[Api]:
    """Small limits, so each can be crossed with small files."""
    settings = Settings(
        data_dir=tmp_path / "tight",
        max_file_bytes=20_000,
        max_documents_per_claim=3,
        max_pdf_pages=2,
        intake_max_request_bytes=120_000,
    )
    a = make_api(settings)
    yield a
    a.client.close()


BAD_FILES = [
    ("empty.jpg", b"", 422, "empty_file", "empty file"),
    ("huge.png", image_bytes("PNG", size=(120, 120)), 413, "file_too_large", "file too large"),
    ("scan.gif", gif_bytes(), 415, "unsupported_file_type", "a GIF image"),
    ("notes.txt", "理赔说明".encode() * 10, 415, "unsupported_file_type", "a text file"),
    ("random.bin", bytes(range(256)) * 4, 415, "unsupported_file_type", "unrecognised file type"),
    ("cut.jpg", image_bytes("JPEG", size=(80, 60))[:600], 422, "truncated_file", "truncated JPEG"),
    ("bad.jpg", b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(200), 422, "corrupt_file", "corrupt JPEG"),
    ("bomb.png", png_header_only(30000, 30000), 422, "image_too_large", "decompression bomb"),
    ("locked.pdf", encrypted_pdf(b"secret"), 422, "encrypted_pdf", "password-protected PDF"),
    ("owner-locked.pdf", encrypted_pdf(b""), 422, "encrypted_pdf", "encrypted PDF"),
    ("long.pdf", pdf_bytes(3), 422, "too_many_pages", "PDF has 3 pages, more than the limit of 2"),
]


@pytest.mark.parametrize(
    ("name", "data", "status", "error", "says"), BAD_FILES, ids=[b[3] + ":" + b[0] for b in BAD_FILES]
)
def test_each_bad_file_is_refused_by_name_and_nothing_is_stored(
    tight: Api, name: str, data: bytes, status: int, error: str, says: str
) -> None:
    good = ("good.jpg", image_bytes(seed=3))
    r = post_claim(tight, "bad-file", upload=files(good, (name, data)))
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error
    assert body["file"] == name
    assert body["message"].startswith(f"{name}: ") and says in body["message"]
    assert stored(tight) == {"claims": 0, "documents": 0, "files": 0}
    # a refused request does not use up its key: the corrected upload goes through
    assert post_claim(tight, "bad-file", upload=files(good)).status_code == 201


def test_each_bad_request_is_refused_with_its_own_code(tight: Api) -> None:
    c, t = tight.client, tight
    forged = {"X-API-Key": "cdi_0123456789ab_" + "x" * 43}
    four = files(*((f"p{i}.jpg", image_bytes(seed=i)) for i in range(4)))
    twins = files(("a.jpg", image_bytes(seed=1)), ("dir/a.jpg", image_bytes(seed=2)))
    no_policy = {k: v for k, v in FORM.items() if k != "policy_number"}
    cases: list[tuple[Any, int, str, str]] = [
        (c.post("/claims", data=FORM, files=good_files()), 401, "unauthorized", "X-API-Key"),
        (c.post("/claims", headers=forged, data=FORM, files=good_files()), 401, "unauthorized", "X-API-Key"),
        (post_claim(t, None), 400, "idempotency_key_missing", "Idempotency-Key"),
        (post_claim(t, "not a key!"), 400, "idempotency_key_invalid", "Idempotency-Key"),
        (
            c.post("/claims", headers=t.headers("app", "j"), json=FORM),
            415,
            "unsupported_media_type",
            "multipart/form-data",
        ),
        (
            post_claim(t, "big", upload=files(("scan.png", image_bytes("PNG", size=(240, 240))))),
            413,
            "request_too_large",
            "larger than the limit",
        ),
        (post_claim(t, "m1", form=no_policy), 422, "invalid_metadata", "policy_number"),
        (
            post_claim(t, "m2", form={**FORM, "incident_date": "32/13/2025"}),
            422,
            "invalid_metadata",
            "incident_date '32/13/2025' is not a date",
        ),
        (post_claim(t, "m3", form={**FORM, "claim_type": "dental"}), 422, "invalid_metadata", "claim_type"),
        (post_claim(t, "m4", form={**FORM, "amount_claimed": "lots"}), 422, "invalid_metadata", "amount"),
        (post_claim(t, "m5", form={**FORM, "incident_date": "2999-01-01"}), 422, "invalid_metadata", "after"),
        (post_claim(t, "d0", upload=[("note", (None, b"x"))]), 422, "no_documents", "no documents"),
        (
            post_claim(t, "d4", upload=four),
            422,
            "too_many_documents",
            "4 files sent, more than the limit of 3",
        ),
        (post_claim(t, "dup", upload=twins), 422, "duplicate_filename", "a.jpg: sent twice"),
        (c.get("/claims/APP-NOSUCH", headers=t.headers()), 404, "claim_not_found", "APP-NOSUCH"),
    ]
    for response, status, error, says in cases:
        assert response.status_code == status, (error, response.text)
        assert response.json()["error"] == error, response.text
        assert says in response.json()["message"], response.text
    assert stored(tight) == {"claims": 0, "documents": 0, "files": 0}


def test_a_body_that_grows_past_the_limit_while_streaming_is_refused(tight: Api) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: only counting the stream can stop it
        yield b'--x\r\nContent-Disposition: form-data; name="documents"; filename="a.jpg"\r\n\r\n'
        for _ in range(200):
            yield bytes(1000)

    r = tight.client.post(
        "/claims",
        headers={**tight.headers("app", "stream"), "Content-Type": "multipart/form-data; boundary=x"},
        content=chunks(),
    )
    assert r.status_code == 413 and r.json()["error"] == "request_too_large"


def test_hospital_submissions_refuse_other_channels_foreign_invoices_and_bad_json(api: Api) -> None:
    c = api.client
    r = c.post("/claims/hospital", headers=api.headers("app", "h1"), json=hospital_submission())
    assert (r.status_code, r.json()["error"]) == (403, "wrong_channel")
    r = c.post("/claims/hospital", headers=api.headers("other_hospital", "h2"), json=hospital_submission())
    assert (r.status_code, r.json()["error"], r.json()["field"]) == (
        422,
        "hospital_mismatch",
        "invoice.hospital",
    )
    bad = hospital_submission()
    bad["invoice"]["total"] = "a lot"
    del bad["expense_list"]["items"]
    r = c.post("/claims/hospital", headers=api.headers("hospital", "h3"), json=bad)
    assert (r.status_code, r.json()["error"]) == (422, "invalid_submission")
    assert "invoice.total" in r.json()["message"] and "expense_list.items" in r.json()["message"]
    r = c.post(
        "/claims/hospital",
        headers={**api.headers("hospital", "h4"), "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert (r.status_code, r.json()["error"]) == (422, "invalid_json")
    r = c.post("/claims/hospital", headers=api.headers("hospital", "h5"), data={"a": "b"})
    assert (r.status_code, r.json()["error"]) == (415, "unsupported_media_type")
    assert stored(api)["claims"] == 0


# --- keys: each limited to its own claims ---------------------------------------------------------------


def test_each_key_reads_only_its_own_claims(api: Api) -> None:
    customer = post_claim(api, "c1").json()["claim_id"]
    hospital = api.client.post(
        "/claims/hospital", headers=api.headers("hospital", "h1"), json=hospital_submission()
    ).json()["claim_id"]

    assert api.client.get(f"/claims/{customer}", headers=api.headers("app")).status_code == 200
    for who in ("hospital", "other_hospital", "agent"):  # a hospital cannot read a customer's claim
        r = api.client.get(f"/claims/{customer}", headers=api.headers(who))
        assert r.status_code == 404 and r.json()["error"] == "claim_not_found"
    assert api.client.get(f"/claims/{hospital}", headers=api.headers("hospital")).status_code == 200
    for who in ("app", "other_hospital"):  # nor one hospital another's
        assert api.client.get(f"/claims/{hospital}", headers=api.headers(who)).status_code == 404
    r = api.client.post(f"/claims/{customer}/rating", headers=api.headers("hospital"), json={"score": 1})
    assert r.status_code == 404
    r = api.client.post(
        f"/claims/{customer}/documents",
        headers=api.headers("hospital"),
        files=files(("x.jpg", image_bytes())),
    )
    assert r.status_code == 404


def test_the_same_idempotency_key_from_two_owners_makes_two_claims(api: Api) -> None:
    a = post_claim(api, "shared", who="app").json()["claim_id"]
    b = post_claim(api, "shared", who="agent").json()["claim_id"]
    assert a != b and a.startswith("APP-") and b.startswith("AGT-")


def test_a_revoked_key_is_refused(api: Api) -> None:
    from intake.keys import KeyRing

    key = api.keys["agent"]
    assert api.client.get("/claims/X", headers=api.headers("agent")).status_code == 404
    assert revoke_key(api.store, key.split("_")[1])
    ring: KeyRing = api.client.app.state.keys  # type: ignore[attr-defined]
    ring.forget()  # otherwise within 30 s
    r = api.client.get("/claims/X", headers=api.headers("agent"))
    assert r.status_code == 401


# --- rate limits -----------------------------------------------------------------------------------------


def test_each_key_has_its_own_token_bucket(tmp_path: Any) -> None:
    a = make_api(Settings(data_dir=tmp_path / "d", intake_rate_per_minute=6, intake_burst=3))
    get = lambda who: a.client.get("/claims/X", headers=a.headers(who))  # noqa: E731
    assert [get("app").status_code for _ in range(3)] == [404, 404, 404]
    limited = get("app")
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    assert limited.headers["Retry-After"] == "10"  # 6 a minute: one token every 10 s
    assert get("agent").status_code == 404  # another key, another bucket
    a.clock[0] += 10
    assert get("app").status_code == 404
    assert get("app").status_code == 429
    events = [e for e in a.store.audit_events() if e["action"] == "api_call"]
    assert sum(e["detail"].get("error") == "rate_limited" for e in events) == 2


# --- audit -----------------------------------------------------------------------------------------------


def test_every_call_is_audited_with_the_key_id_and_never_the_key(api: Api) -> None:
    claim_id = post_claim(api, "a1").json()["claim_id"]
    api.client.get(f"/claims/{claim_id}", headers=api.headers())
    api.client.get(f"/claims/{claim_id}", headers=api.headers("hospital"))
    api.client.get(f"/claims/{claim_id}")
    post_claim(api, None)
    calls = [e for e in api.store.audit_events() if e["action"] == "api_call"]
    assert [(e["detail"]["method"], e["detail"]["status"]) for e in calls] == [
        ("POST", 201), ("GET", 200), ("GET", 404), ("GET", 401), ("POST", 400),
    ]  # fmt: skip
    assert calls[0]["claim_id"] == claim_id and calls[0]["detail"]["idempotency_key"] == "a1"
    assert calls[0]["detail"]["route"] == "/claims"
    assert calls[2]["detail"]["error"] == "claim_not_found" and calls[2]["detail"]["channel"] == "hospital"
    assert calls[3]["actor"] == "api:anonymous"
    assert {e["actor"] for e in calls[:2]} == {f"api:app:{api.keys['app'].split('_')[1]}"}
    text = repr(api.store.audit_events())
    assert not any(key in text for key in api.keys.values())
    received = [e for e in api.store.audit_events() if e["action"] == "claim_received"]
    assert received[0]["claim_id"] == claim_id


# --- requests for documents and ratings before a decision -------------------------------------------------


def decide(api: Api, claim_id: str, route: Route, reasons: list[str]) -> None:
    """As if the intake flow had decided the claim."""
    money.record(
        api.store,
        Outcome(claim_id=claim_id, route=route, reasons=reasons, decided_at=dt.datetime.now(dt.UTC)),
    )
    with api.store.session() as s:
        row = s.get(IntakeClaimRow, claim_id)
        assert row is not None
        row.status = "done"


def test_documents_answer_only_an_open_request_and_ratings_wait_for_a_decision(api: Api) -> None:
    claim_id = post_claim(api, "r1").json()["claim_id"]
    url = f"/claims/{claim_id}"
    r = api.client.post(f"{url}/rating", headers=api.headers(), json={"score": 5})
    assert (r.status_code, r.json()["error"]) == (409, "not_decided")
    r = api.client.post(
        f"{url}/documents", headers=api.headers(), files=files(("id.jpg", image_bytes(seed=7)))
    )
    assert (r.status_code, r.json()["error"]) == (409, "no_open_request")
    assert "it is queued" in r.json()["message"]

    decide(api, claim_id, Route.REQUEST_INFO, ["MISSING_DOCUMENT: id_card"])
    status = api.client.get(url, headers=api.headers()).json()
    assert status["status"] == "documents_requested"
    (request,) = status["document_requests"]
    assert request["status"] == "open" and [d["name"] for d in request["documents"]] == ["身份证"]
    assert request["answer_url"].endswith(f"{url}/documents")
    r = api.client.post(
        f"{url}/documents",
        headers=api.headers(),
        data={"request_id": "nope"},
        files=files(("id.jpg", image_bytes(seed=7))),
    )
    assert (r.status_code, r.json()["error"]) == (409, "request_not_open")
    r = api.client.post(
        f"{url}/documents",
        headers=api.headers(idem="ans-1"),
        files=files(("invoice.jpg", image_bytes(seed=7))),
    )
    assert r.status_code == 202, r.text
    assert r.json()["documents"][0]["filename"] == "invoice (2).jpg"  # the claim already has an invoice.jpg
    again = api.client.post(
        f"{url}/documents",
        headers=api.headers(idem="ans-1"),
        files=files(("invoice.jpg", image_bytes(seed=7))),
    )
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    status = api.client.get(url, headers=api.headers()).json()
    assert status["status"] == "queued" and len(status["documents"]) == 3
    assert status["document_requests"][0]["status"] == "answered"

    decide(api, claim_id, Route.DENY, ["WAITING_PERIOD: ..."])
    for score, code in ((0, 422), (6, 422), (4, 200)):
        r = api.client.post(f"{url}/rating", headers=api.headers(), json={"score": score, "comment": "很快"})
        assert r.status_code == code, r.text
    assert api.client.get(url, headers=api.headers()).json()["rating"] == 4
    assert [
        e["detail"]["score"] for e in api.store.audit_events(claim_id) if e["action"] == "service_rated"
    ] == [4]


def test_the_openapi_document_publishes_the_hospital_schema(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for name in (
        "HospitalSubmission",
        "EInvoice",
        "ExpenseList",
        "ExpenseItem",
        "Visit",
        "Problem",
        "ClaimStatus",
    ):
        assert name in schemas
    assert "APIKeyHeader" in spec["components"]["securitySchemes"]
    paths = {"/claims", "/claims/hospital", "/claims/{claim_id}", "/claims/{claim_id}/documents"}
    assert set(spec["paths"]) >= paths | {"/claims/{claim_id}/rating"}
    multipart = spec["paths"]["/claims"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in multipart
    assert HOSPITAL in str(schemas["HospitalSubmission"].get("example"))


# --- keys and paths: what the other tests do not show (issue 11) --------------------------------------------


def test_a_rotated_key_reads_its_predecessors_claims_and_a_namesake_in_another_channel_does_not(
    api: Api,
) -> None:
    from intake.keys import KeyRing, create_key

    claim_id = post_claim(api, "rot-1").json()["claim_id"]
    new_key, _ = create_key(api.store, "app", "安康APP")  # the same channel and name: a rotation
    assert revoke_key(api.store, api.keys["app"].split("_")[1])
    ring: KeyRing = api.client.app.state.keys  # type: ignore[attr-defined]
    ring.forget()
    assert api.client.get(f"/claims/{claim_id}", headers=api.headers("app")).status_code == 401
    assert api.client.get(f"/claims/{claim_id}", headers={"X-API-Key": new_key}).status_code == 200
    again = api.client.post(  # the old key's retry, sent with the new key: the same claim
        "/claims", headers={"X-API-Key": new_key, "Idempotency-Key": "rot-1"}, data=FORM, files=good_files()
    )
    assert again.status_code == 201 and again.json()["claim_id"] == claim_id
    assert again.headers["Idempotent-Replayed"] == "true"
    namesake, _ = create_key(api.store, "agent", "安康APP")  # owner is channel:name, not the name
    assert api.client.get(f"/claims/{claim_id}", headers={"X-API-Key": namesake}).status_code == 404


def test_the_key_counts_only_in_its_own_header(api: Api) -> None:
    key = api.keys["app"]
    for how in (
        {"headers": {"Authorization": f"Bearer {key}"}},
        {"headers": {"Authorization": f"ApiKey {key}"}},
        {"params": {"api_key": key, "X-API-Key": key}},
        {"headers": {"Cookie": f"X-API-Key={key}"}},
        {"headers": {"X-API-Key": key.upper()}},
        {"headers": {"X-API-Key": key[:-1]}},
    ):
        r = api.client.get("/claims/X", **how)  # type: ignore[arg-type]
        assert r.status_code == 401, how
    assert api.client.get("/claims/X", headers={"X-API-Key": key}).status_code == 404


def test_uploaded_names_never_place_a_file_outside_the_document_store(api: Api) -> None:
    names = [
        "../../../../evil1.jpg",
        "..\\..\\..\\evil2.jpg",
        "/etc/cron.d/evil3.jpg",
        "C:\\Windows\\evil4.jpg",
        "scans/../../evil5.jpg",
        "..",
        "%2e%2e%2fevil6.jpg",
    ]
    root = api.settings.data_dir.parent
    before = {p for p in root.rglob("*")}
    cwd_before = set(Path.cwd().iterdir())
    r = post_claim(api, "names", upload=files(*((n, image_bytes(seed=40 + i)) for i, n in enumerate(names))))
    assert r.status_code == 201, r.text
    shown = [d["filename"] for d in r.json()["documents"]]
    for name in shown:
        assert "/" not in name and "\\" not in name and name not in ("..", "."), shown
    claim = api.store.get_claim(r.json()["claim_id"])
    assert claim is not None and sorted(d.filename for d in claim.documents) == sorted(shown)
    new = {p for p in root.rglob("*")} - before
    assert new and all(p.is_relative_to(api.settings.data_dir) for p in new), sorted(new)
    stored = [p for p in new if p.is_file() and p.is_relative_to(api.settings.documents_dir)]
    assert sorted(p.name for p in stored) == sorted(d.id for d in claim.documents)
    assert set(Path.cwd().iterdir()) == cwd_before
    assert api.client.get("/claims/..%2F..%2Fclaims.db", headers=api.headers()).status_code == 404

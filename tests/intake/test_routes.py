"""The intake routes: each hands its request to the service and answers its reply, with the status URL
under wherever the app is mounted; uploads spooled to a private folder that goes once answered."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi import FastAPI, UploadFile
from fastapi.testclient import TestClient
from helpers.files import image_bytes
from intake_api import Api
from intake_files import OUTPATIENT_POLICY, PATIENT, hospital_submission
from starlette.requests import Request

from intake.errors import IntakeError
from intake.routes import base_url, caller, router, spooled

FORM = {"policy_number": OUTPATIENT_POLICY, "claimant": PATIENT, "incident_date": "2025-06-01"}


def upload() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("documents", ("invoice.jpg", image_bytes("JPEG", seed=1), "image/jpeg"))]


def request(root_path: str = "") -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "https",
            "server": ("claims.example", 443),
            "path": f"{root_path}/claims/X",
            "root_path": root_path,
            "headers": [(b"host", b"claims.example")],
            "query_string": b"",
        }
    )


def test_every_route_of_the_router_is_published_by_the_app(api: Api) -> None:
    mine = {(r.path, m.lower()) for r in router.routes for m in r.methods if r.include_in_schema}  # type: ignore[attr-defined]
    published = {(p, m) for p, ops in api.client.get("/openapi.json").json()["paths"].items() for m in ops}
    assert {("/claims", "post"), ("/claims/hospital", "post"), ("/claims/{claim_id}", "get")} <= mine
    assert mine == published
    assert api.client.get("/health").json() == {"status": "ok"}  # unpublished, and no key needed


def test_a_claim_goes_in_and_its_status_comes_back_through_the_routes(api: Api) -> None:
    r = api.client.post("/claims", headers=api.headers("app", "rt-1"), data=FORM, files=upload())
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["Location"] == body["status_url"] == f"http://testserver/claims/{body['claim_id']}"
    again = api.client.post("/claims", headers=api.headers("app", "rt-1"), data=FORM, files=upload())
    assert again.json() == body and again.headers["Idempotent-Replayed"] == "true"

    status = api.client.get(f"/claims/{body['claim_id']}", headers=api.headers("app"))
    assert status.status_code == 200 and status.json()["status"] == "queued"
    r = api.client.post(f"/claims/{body['claim_id']}/rating", headers=api.headers("app"), json={"score": 5})
    assert (r.status_code, r.json()["error"]) == (409, "not_decided")
    r = api.client.post(f"/claims/{body['claim_id']}/documents", headers=api.headers("app"), files=upload())
    assert (r.status_code, r.json()["error"]) == (409, "no_open_request")

    r = api.client.post(
        "/claims/hospital", headers=api.headers("hospital", "rt-2"), json=hospital_submission()
    )
    assert r.status_code == 201, r.text


def test_mounted_under_api_the_status_url_is_under_api(api: Api) -> None:
    outer = FastAPI()
    outer.mount("/api", api.client.app)
    with TestClient(outer) as client:
        r = client.post("/api/claims", headers=api.headers("app", "rt-3"), data=FORM, files=upload())
    assert r.status_code == 201, r.text
    assert r.json()["status_url"] == f"http://testserver/api/claims/{r.json()['claim_id']}"


def test_base_url_is_this_apps_root_and_caller_needs_the_gate() -> None:
    assert base_url(request()) == "https://claims.example/"
    assert base_url(request("/api")) == "https://claims.example/api/"
    with pytest.raises(IntakeError) as caught:
        caller(request())
    assert (caught.value.error, caught.value.status) == ("unauthorized", 401)


def test_uploads_are_spooled_to_a_private_folder_removed_afterwards() -> None:
    files = [
        UploadFile(io.BytesIO(b"first"), filename="a.jpg"),
        UploadFile(io.BytesIO(b"second"), filename=None),
    ]
    with spooled(files) as uploads:
        assert [(u.filename, u.path.read_bytes()) for u in uploads] == [("a.jpg", b"first"), ("", b"second")]
        folder = uploads[0].path.parent
        assert folder.name.startswith("intake-upload-") and (folder.stat().st_mode & 0o077) == 0
    assert not Path(folder).exists()
    with spooled(None) as none:
        assert none == []

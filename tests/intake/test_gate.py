"""The gate before every request's body: key, rate limit, content type, body size; every call audited
with the key id and never the key. Driven around a bare ASGI app, so only the gate answers refusals."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from intake.gate import (
    API_KEY_HEADER,
    PUBLIC_PATHS,
    Gate,
    Receive,
    RequestTooLarge,
    Scope,
    Send,
    problem_response,
    route_path,
)
from intake.keys import KeyRing, create_key
from intake.ratelimit import MemoryBuckets
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """The app behind the gate: reads the whole body and says how long it was, and who called."""
    size = 0
    more = True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    caller = scope.get("state", {}).get("caller")
    await problem_response(200, "ok", f"{size} bytes from {getattr(caller, 'owner', None)}")(
        scope, receive, send
    )


@dataclass
class Gated:
    client: TestClient
    store: CaseStore
    key: str
    clock: list[float]


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[Gated]:
    settings = Settings(data_dir=tmp_path / "data", intake_max_request_bytes=1000, intake_burst=2)
    store = open_store(settings)
    key, _ = create_key(store, "app", "安康APP")
    clock = [1000.0]
    gate = Gate(echo, settings, store, KeyRing(store), MemoryBuckets(clock=lambda: clock[0]))
    client = TestClient(gate)  # no lifespan: the bare app below the gate has none
    yield Gated(client, store, key, clock)
    client.close()
    store.engine.dispose()


def test_the_path_is_the_one_inside_the_mount() -> None:
    assert route_path({"path": "/api/claims", "root_path": "/api"}) == "/claims"
    assert route_path({"path": "/api", "root_path": "/api"}) == "/"
    assert route_path({"path": "/apiary/claims", "root_path": "/api"}) == "/apiary/claims"
    assert route_path({"path": "/claims"}) == "/claims"


def test_public_paths_need_no_key_and_others_do(gated: Gated) -> None:
    assert "/health" in PUBLIC_PATHS
    assert gated.client.get("/health").status_code == 200
    r = gated.client.get("/claims/X")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    assert r.headers["WWW-Authenticate"] == f'ApiKey header="{API_KEY_HEADER}"'
    r = gated.client.get("/claims/X", headers={API_KEY_HEADER: gated.key})
    assert r.status_code == 200 and r.json()["message"] == "0 bytes from app:安康APP"


def test_each_key_has_a_bucket_and_an_empty_one_is_told_when_to_retry(gated: Gated) -> None:
    headers = {API_KEY_HEADER: gated.key}
    assert [gated.client.get("/claims/X", headers=headers).status_code for _ in range(2)] == [200, 200]
    r = gated.client.get("/claims/X", headers=headers)
    assert r.status_code == 429 and r.json()["error"] == "rate_limited"
    assert int(r.headers["Retry-After"]) >= 1
    gated.clock[0] += 60  # a minute later the bucket has refilled
    assert gated.client.get("/claims/X", headers=headers).status_code == 200


def test_a_body_of_the_wrong_type_or_too_large_is_refused_before_it_is_read(gated: Gated) -> None:
    headers = {API_KEY_HEADER: gated.key}
    gated.clock[0] += 1e6  # the bucket's burst of 2 is not what this test is about: let time pass
    r = gated.client.post("/claims", headers=headers, json={"a": 1})
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
    assert "multipart/form-data" in r.json()["message"]
    r = gated.client.post("/claims/hospital", headers=headers, files={"documents": ("a.jpg", b"x")})
    assert r.status_code == 415 and "application/json" in r.json()["message"]
    gated.clock[0] += 1e6
    r = gated.client.post("/claims", headers=headers, files={"documents": ("a.jpg", b"x" * 2000)})
    assert r.status_code == 413 and r.json()["error"] == "request_too_large"
    r = gated.client.post("/claims", headers=headers, files={"documents": ("a.jpg", b"x" * 100)})
    assert r.status_code == 200


def test_every_call_is_audited_with_the_key_id_never_the_key(gated: Gated) -> None:
    gated.client.get("/claims/X", headers={API_KEY_HEADER: gated.key})
    gated.client.get("/claims/X", headers={API_KEY_HEADER: gated.key[:-3] + "xyz"})  # a forged secret
    gated.client.get("/health")  # public: not audited
    calls = [e for e in gated.store.audit_events() if e["action"] == "api_call"]
    key_id = gated.key.split("_")[1]
    assert [(e["actor"], e["detail"]["status"]) for e in calls] == [
        (f"api:app:{key_id}", 200),
        ("api:anonymous", 401),
    ]
    assert calls[0]["detail"]["key_id"] == key_id and calls[1]["detail"]["key_id_presented"] == key_id
    assert calls[1]["detail"]["error"] == "unauthorized"
    assert gated.key not in repr(gated.store.audit_events())


def test_a_body_that_grows_past_the_limit_while_streaming_is_stopped(gated: Gated) -> None:
    """No Content-Length to judge by: the stream itself raises once past the limit (the app answers 413)."""

    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"x" * 400

    headers = {API_KEY_HEADER: gated.key, "Content-Type": "multipart/form-data; boundary=b"}
    with pytest.raises(RequestTooLarge) as caught:
        gated.client.post("/claims", headers=headers, content=chunks())
    assert caught.value.status_code == 413 and caught.value.detail["error"] == "request_too_large"
    calls = [e for e in gated.store.audit_events() if e["action"] == "api_call"]
    assert calls[-1]["detail"]["status"] == 500  # audited as what it became without the app's handler

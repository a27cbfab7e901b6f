"""Every role against every route: what each may do, and that nothing else decides access.

`ROUTES` lists every route of the app with the roles allowed on it; a test checks the list is the
app's full route table, so a new route cannot be added without saying who may use it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from review_fixtures import USERS, Built, Session

from review.app import PUBLIC_PATHS

ADJ, SENIOR, OPS, AUD = "adj1", "senior1", "ops1", "aud1"
ALL = (ADJ, SENIOR, OPS, AUD)

# (method, path template, concrete path, form data, roles allowed)
ROUTES: list[tuple[str, str, str, dict[str, str], tuple[str, ...]]] = [
    ("GET", "/", "/", {}, ALL),
    ("GET", "/queue", "/queue", {}, (ADJ, SENIOR, AUD)),
    ("GET", "/claims/{claim_id}", "/claims/C100", {}, (ADJ, SENIOR, AUD)),
    (
        "GET",
        "/claims/{claim_id}/documents/{document_id}/pages/{number}.jpg",
        "/claims/C100/documents/{sha}/pages/1.jpg",
        {},
        (ADJ, SENIOR, AUD),
    ),
    ("POST", "/claims/{claim_id}/lock", "/claims/C100/lock", {}, (ADJ, SENIOR)),
    (
        "POST",
        "/claims/{claim_id}/fields",
        "/claims/C100/fields",
        {"document_id": "x", "name": "nope"},
        (ADJ, SENIOR),
    ),
    ("POST", "/claims/{claim_id}/decision", "/claims/C100/decision", {"action": "bogus"}, (ADJ, SENIOR)),
    ("POST", "/claims/{claim_id}/approve", "/claims/C200/approve", {"version": "0"}, (SENIOR,)),
    ("POST", "/claims/{claim_id}/send-back", "/claims/C200/send-back", {"version": "0"}, (SENIOR,)),
    ("POST", "/claims/{claim_id}/release", "/claims/C100/release", {}, (ADJ, SENIOR)),
    ("GET", "/ops", "/ops", {}, (OPS, AUD)),
    ("GET", "/audit", "/audit", {}, (AUD,)),
    ("POST", "/logout", "/logout", {}, ALL),
]
SignIn = Callable[[str | None], Session]


def test_every_route_is_in_the_matrix_and_guarded(app: FastAPI) -> None:
    listed = {(m, p) for m, p, *_ in ROUTES}
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue  # the static mounts (CSS, JS, font)
        for method in route.methods - {"HEAD"}:
            if route.path in PUBLIC_PATHS:
                continue
            assert (method, route.path) in listed, f"{method} {route.path} is not in the access matrix"
            caps = [getattr(d.call, "capability", "missing") for d in route.dependant.dependencies]
            assert any(c != "missing" for c in caps), f"{method} {route.path} has no require() dependency"
    assert listed <= {(m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods}
    assert set(USERS) >= set(ALL)


@pytest.mark.parametrize("user", ALL)
def test_role_route_matrix(user: str, sign_in: SignIn, built: Built) -> None:
    s = sign_in(user)
    for method, _, path, data, allowed in ROUTES:
        url = path.format(sha=built.document_id)
        r = s.get(url) if method == "GET" else s.post(url, data)
        if user in allowed:
            assert r.status_code not in (401, 403), f"{user} {method} {url}: {r.status_code}"
        else:
            assert r.status_code == 403, f"{user} {method} {url}: {r.status_code}"
    denied = [e for e in built.store.audit_events() if e["action"] == "forbidden" and e["actor"] == user]
    assert len(denied) == sum(1 for *_, allowed in ROUTES if user not in allowed)


def test_anonymous_gets_nothing(sign_in: SignIn, built: Built) -> None:
    s = sign_in(None)
    for method, _, path, data, _ in ROUTES:
        url = path.format(sha=built.document_id)
        r = s.get(url) if method == "GET" else s.post(url, data, csrf=False)
        assert r.status_code in (303, 401), f"{method} {url}: {r.status_code}"
        if method == "GET":
            assert r.headers["location"].startswith("/login")
    assert s.get("/healthz").status_code == 200
    assert s.get("/static/app.css").status_code == 200


@pytest.mark.parametrize("user", [ADJ, SENIOR])
def test_every_post_needs_the_csrf_token(user: str, sign_in: SignIn, built: Built) -> None:
    s = sign_in(user)
    for method, _, path, data, allowed in ROUTES:
        if method != "POST" or user not in allowed:
            continue
        r = s.post(path, data, csrf=False)
        assert r.status_code == 403, f"{user} POST {path} without a token: {r.status_code}"


def test_operations_sees_no_claimant(sign_in: SignIn) -> None:
    s = sign_in(OPS)
    r = s.get("/ops")
    assert r.status_code == 200
    assert "张伟" not in r.text and "C100" not in r.text
    assert s.get("/").headers["location"] == "/ops"

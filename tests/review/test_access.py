"""Every role against every route: what each may do, and that nothing else decides access.

`ROUTES` lists every route of the app with the roles allowed on it; a test checks the list is the
app's full route table, so a new route cannot be added without saying who may use it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from review_fixtures import USERS, Built, Session

from review.access import PUBLIC_PATHS

ADJ, SENIOR, MGR, OPS, AUD = "adj1", "senior1", "mgr1", "ops1", "aud1"
ALL = (ADJ, SENIOR, MGR, OPS, AUD)

# (method, path template, concrete path, form data, roles allowed)
ROUTES: list[tuple[str, str, str, dict[str, str], tuple[str, ...]]] = [
    ("GET", "/", "/", {}, ALL),
    ("GET", "/queue", "/queue", {}, (ADJ, SENIOR, MGR, AUD)),
    ("GET", "/claims/{claim_id}", "/claims/C100", {}, (ADJ, SENIOR, MGR, AUD)),
    (
        "GET",
        "/claims/{claim_id}/documents/{document_id}/pages/{number}.jpg",
        "/claims/C100/documents/{sha}/pages/1.jpg",
        {},
        (ADJ, SENIOR, MGR, AUD),
    ),
    ("POST", "/claims/{claim_id}/lock", "/claims/C100/lock", {}, (ADJ, SENIOR, MGR)),
    (
        "POST",
        "/claims/{claim_id}/fields",
        "/claims/C100/fields",
        {"document_id": "x", "name": "nope"},
        (ADJ, SENIOR, MGR),
    ),
    ("POST", "/claims/{claim_id}/decision", "/claims/C100/decision", {"action": "bogus"}, (ADJ, SENIOR, MGR)),
    ("POST", "/claims/{claim_id}/approve", "/claims/C200/approve", {"version": "0"}, (SENIOR, MGR)),
    ("POST", "/claims/{claim_id}/send-back", "/claims/C200/send-back", {"version": "0"}, (SENIOR, MGR)),
    ("POST", "/claims/{claim_id}/release", "/claims/C100/release", {}, (ADJ, SENIOR, MGR)),
    ("POST", "/claims/{claim_id}/reopen", "/claims/C100/reopen", {"reason": ""}, (SENIOR, MGR)),
    ("GET", "/ops", "/ops", {}, (OPS, AUD)),
    ("GET", "/ops/report", "/ops/report", {}, (OPS, AUD)),
    ("GET", "/audit", "/audit", {}, (AUD,)),
    ("POST", "/logout", "/logout", {}, ALL),
]
SignIn = Callable[[str | None], Session]


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API route of the app, those of the routers it includes too (FastAPI keeps an included
    router as one entry of `app.routes`); the static mounts (CSS, JS, font) are not API routes."""
    return [
        c.original_route for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)
    ]


def test_every_route_is_in_the_matrix_and_guarded(app: FastAPI) -> None:
    listed = {(m, p) for m, p, *_ in ROUTES}
    routes = api_routes(app)
    for route in routes:
        for method in route.methods - {"HEAD"}:
            if route.path in PUBLIC_PATHS:
                continue
            assert (method, route.path) in listed, f"{method} {route.path} is not in the access matrix"
            caps = [getattr(d.call, "capability", "missing") for d in route.dependant.dependencies]
            assert any(c != "missing" for c in caps), f"{method} {route.path} has no require() dependency"
    assert listed <= {(m, r.path) for r in routes for m in r.methods}
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


# --- what the matrix does not show (issue 11) ------------------------------------------------------


def test_a_changed_role_applies_from_the_next_request(sign_in: SignIn, built: Built) -> None:
    """Roles are read with the session on every request: no signed cookie keeps an old role alive."""
    from sqlalchemy import update

    from pipeline.review_tables import UserRow

    s = sign_in(ADJ)
    assert s.get("/queue").status_code == 200
    with built.store.session() as db:
        db.execute(update(UserRow).where(UserRow.username == ADJ).values(role="operations"))
    assert s.get("/queue").status_code == 403
    assert s.post("/claims/C100/lock").status_code == 403
    assert s.get("/ops").status_code == 200


def test_signing_in_again_never_keeps_the_old_session(sign_in: SignIn, built: Built) -> None:
    """Session fixation: a sign-in on a browser that has a session replaces it, even as someone else."""
    from sqlalchemy import select

    from pipeline.review_tables import WebSessionRow

    s = sign_in(ADJ)
    old = s.client.cookies.get("claims_session")
    assert s.login(AUD).status_code == 303  # type: ignore[attr-defined]
    assert s.client.cookies.get("claims_session") != old
    with built.store.session() as db:
        assert list(db.scalars(select(WebSessionRow.username))) == [AUD]
    s.client.cookies.set("claims_session", old or "")
    assert s.get("/queue").status_code == 303  # the old token signs nobody in


@pytest.mark.parametrize(
    "path",
    [
        "/claims/..%2F..%2Fetc%2Fpasswd",
        "/claims/C100/documents/..%2F..%2F..%2Fclaims.db/pages/1.jpg",
        "/claims/C100/documents/{sha}%2F..%2F..%2F..%2Fclaims.db/pages/1.jpg",
        "/claims/C100/documents/{sha}/pages/-1.jpg",
        "/static/..%2F..%2Fpipeline%2Fsettings.py",
        "/static/fonts/..%2F..%2F..%2Fpipeline%2Fsettings.py",
    ],
)
def test_paths_never_reach_a_file_outside_what_is_served(path: str, sign_in: SignIn, built: Built) -> None:
    r = sign_in(ADJ).get(path.format(sha=built.document_id))
    assert r.status_code == 404, (path, r.status_code)
    assert b"CREATE TABLE" not in r.content and b"class Settings" not in r.content

"""The sign-in router through the review app: health, where a sign-in may send you, home, sign-out."""

from __future__ import annotations

from review_fixtures import PASSWORD, Built

from review.routes.auth import healthz, router


def test_the_router_serves_sign_in_health_and_home() -> None:
    assert {"/healthz", "/login", "/logout", "/"} <= {r.path for r in router.routes}  # type: ignore[attr-defined]
    assert healthz() == {"status": "ok"}


def test_health_needs_no_sign_in(sign_in) -> None:  # type: ignore[no-untyped-def]
    r = sign_in(None).get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def _login_to(session, target: str):  # type: ignore[no-untyped-def]
    form = session.client.get("/login")
    token = form.cookies.get("claims_login_csrf") or session.client.cookies.get("claims_login_csrf")
    return session.client.post(
        "/login",
        data={"username": "adj1", "password": PASSWORD, "csrf_token": token, "next": target},
        follow_redirects=False,
    )


def test_sign_in_goes_back_only_to_a_local_page(sign_in) -> None:  # type: ignore[no-untyped-def]
    assert _login_to(sign_in(None), "/claims/C100").headers["location"] == "/claims/C100"
    for elsewhere in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        assert _login_to(sign_in(None), elsewhere).headers["location"] == "/"


def test_home_sends_each_role_where_it_works(sign_in) -> None:  # type: ignore[no-untyped-def]
    assert sign_in("adj1").get("/").headers["location"] == "/queue"
    assert sign_in("ops1").get("/").headers["location"] == "/ops"
    assert sign_in(None).get("/").headers["location"] == "/login?next=/"


def test_sign_out_releases_the_claims_held(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    s = sign_in("adj1")
    assert s.get(f"/claims/{built.claim_id}").status_code == 200  # opening it takes it
    held = {t["claim_id"]: t["locked_by"] for t in built.store.review_tasks()}
    assert held[built.claim_id] == "adj1"
    r = s.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert all(t["locked_by"] is None for t in built.store.review_tasks())
    (out,) = [e for e in built.store.audit_events() if e["action"] == "sign_out"]
    assert out["actor"] == "adj1" and out["detail"]["released"]
    assert s.get("/queue").status_code == 303  # the session is gone

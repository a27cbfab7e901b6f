"""Sign-in, server-side sessions, password hashing and CSRF protection of the review app."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from review_fixtures import PASSWORD, Built
from sqlalchemy import select, update

from pipeline.review_tables import UserRow, WebSessionRow
from review.auth import (
    MAX_FAILED_LOGINS,
    AccountError,
    Role,
    add_user,
    hash_password,
    verify_password,
)


def test_password_hash_is_salted_scrypt() -> None:
    a, b = hash_password("s3cret-enough"), hash_password("s3cret-enough")
    assert a != b and a.startswith("scrypt$") and "s3cret" not in a
    assert verify_password("s3cret-enough", a) and verify_password("s3cret-enough", b)
    assert not verify_password("s3cret-enougH", a)
    assert not verify_password("x", "garbage")


def test_add_user_validates(built: Built) -> None:
    with pytest.raises(AccountError, match="10 characters"):
        add_user(built.store, "newbie", "short", Role.ADJUSTER)
    with pytest.raises(AccountError, match="role"):
        add_user(built.store, "newbie", PASSWORD, "boss")
    with pytest.raises(AccountError, match="username"):
        add_user(built.store, "no spaces", PASSWORD, Role.ADJUSTER)
    with built.store.session() as s:
        stored = s.scalar(select(UserRow.password_hash).where(UserRow.username == "adj1"))
    assert stored and PASSWORD not in stored


def test_sign_in_sets_a_server_session_cookie(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    s = sign_in(None)
    r = s.login("adj1")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert (
        "claims_session=" in cookie
        and "HttpOnly" in cookie
        and "SameSite=lax" in cookie.replace("Lax", "lax")
    )
    token = re.search(r"claims_session=([^;]+)", cookie).group(1)  # type: ignore[union-attr]
    with built.store.session() as db:
        ids = list(db.scalars(select(WebSessionRow.id)))
    assert len(ids) == 1 and token not in ids  # the table holds a hash of the token, not the token
    assert s.get("/queue").status_code == 200
    events = [e["action"] for e in built.store.audit_events()]
    assert "sign_in" in events


def test_wrong_password_and_lockout(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    s = sign_in(None)
    assert s.login("adj1", "wrong-password").status_code == 401
    assert s.login("nobody", "wrong-password").status_code == 401
    for _ in range(MAX_FAILED_LOGINS):
        s.login("adj2", "wrong-password")
    assert s.login("adj2").status_code == 401  # locked out now, even with the right password
    with built.store.session() as db:
        assert db.get(UserRow, "adj2").locked_until is not None  # type: ignore[union-attr]
        db.execute(update(UserRow).where(UserRow.username == "adj2").values(locked_until=None))
    assert s.login("adj2").status_code == 303
    assert [e["action"] for e in built.store.audit_events()].count("sign_in_failed") >= 2


def test_login_form_needs_its_csrf_cookie(sign_in) -> None:  # type: ignore[no-untyped-def]
    s = sign_in(None)
    r = s.client.post(
        "/login",
        data={"username": "adj1", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert r.status_code == 403


def test_signed_out_requests_go_to_sign_in(sign_in) -> None:  # type: ignore[no-untyped-def]
    s = sign_in(None)
    r = s.get("/claims/C100")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/claims/C100"
    assert s.post("/claims/C100/decision", {"action": "deny"}, csrf=False).status_code == 401


def test_next_never_leaves_the_site(sign_in) -> None:  # type: ignore[no-untyped-def]
    s = sign_in(None)
    form = s.client.get("/login?next=//evil.example/x")
    assert 'value="/"' in form.text and "evil" not in form.text


def test_post_without_or_with_wrong_csrf_is_refused(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    s = sign_in("adj1")
    assert s.get("/claims/C100").status_code == 200  # takes the lock
    for token in (None, "", "not-the-token"):
        data = (
            {"action": "deny", "reason": "x"}
            if token is None
            else {"action": "deny", "reason": "x", "csrf_token": token}
        )
        r = s.post("/claims/C100/decision", data, csrf=False)
        assert r.status_code == 403, token
    assert built.store.review_tasks(status="done") == []
    # another session's token does not work either
    other = sign_in("adj2")
    r = s.post(
        "/claims/C100/decision", {"action": "deny", "reason": "x", "csrf_token": other.csrf}, csrf=False
    )
    assert r.status_code == 403
    # the header works as well as the form field (for scripts)
    r = s.client.post("/claims/C100/release", headers={"X-CSRF-Token": s.csrf}, follow_redirects=False)
    assert r.status_code == 303


def test_sign_out_ends_the_session_and_releases_locks(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    s = sign_in("adj1")
    s.get("/claims/C100")
    assert built.store.review_tasks()[0]["locked_by"] in ("adj1", None)
    r = s.post("/logout")
    assert r.status_code == 303
    assert s.get("/queue").status_code == 303  # back to sign-in
    assert all(t["locked_by"] is None for t in built.store.review_tasks())
    with built.store.session() as db:
        assert db.scalar(select(WebSessionRow).where(WebSessionRow.username == "adj1")) is None


def test_idle_and_expired_sessions_end(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    s = sign_in("adj1")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=built.settings.review_idle_minutes + 1)
    with built.store.session() as db:
        db.execute(update(WebSessionRow).values(last_seen_at=old))
    assert s.get("/queue").status_code == 303
    s2 = sign_in("adj1")
    with built.store.session() as db:
        db.execute(update(WebSessionRow).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert s2.get("/queue").status_code == 303


def test_disabled_account_is_signed_out_at_once(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    s = sign_in("adj1")
    with built.store.session() as db:
        db.execute(update(UserRow).where(UserRow.username == "adj1").values(active=False))
    assert s.get("/queue").status_code == 303


def test_security_headers(sign_in) -> None:  # type: ignore[no-untyped-def]
    s = sign_in("adj1")
    r = s.get("/claims/C100")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"

"""Accounts, roles, sessions and CSRF tokens of the review app.

Five roles, each a set of capabilities; a route names the one capability it needs and nothing else
decides access (`review.app.require`). Passwords are stored as salted scrypt hashes (stdlib, no
extra dependency). Sessions live in the database, not in a signed cookie, so signing out, a
changed role or a disabled account takes effect at once; the cookie carries a random token whose
SHA-256 is the session's key. Each session has its own CSRF token, which every POST must echo.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select

from pipeline.review_tables import UserRow, WebSessionRow, require_schema
from pipeline.settings import Settings
from pipeline.store import CaseStore, utcnow


class Role(StrEnum):
    ADJUSTER = "adjuster"  # 理赔员
    SENIOR = "senior_adjuster"  # 高级理赔员: approves above the adjusters' authority (four-eyes)
    MANAGER = "claims_manager"  # 理赔经理: a senior's capabilities, with the authority table's widest limit
    OPERATIONS = "operations"  # 理赔运营: batches, KPIs and the backlog; no claimant's data
    AUDITOR = "auditor"  # 稽核: reads everything, changes nothing, sees identifiers masked


class Cap(StrEnum):
    """What a route may need. A role is nothing but a set of these."""

    VIEW_QUEUE = "view_queue"
    VIEW_CLAIM = "view_claim"
    WORK_CLAIM = "work_claim"
    """Open (lock), correct and decide claims."""
    APPROVE = "approve"
    """Give the second approval above a colleague's authority (how much: `Settings.authority`)."""
    VIEW_OPS = "view_ops"
    VIEW_AUDIT = "view_audit"
    SEE_IDENTIFIERS = "see_identifiers"
    """ID and bank numbers in clear; everyone else sees them masked, in text and on page images."""


CAPABILITIES: dict[Role, frozenset[Cap]] = {
    Role.ADJUSTER: frozenset({Cap.VIEW_QUEUE, Cap.VIEW_CLAIM, Cap.WORK_CLAIM, Cap.SEE_IDENTIFIERS}),
    Role.SENIOR: frozenset(
        {Cap.VIEW_QUEUE, Cap.VIEW_CLAIM, Cap.WORK_CLAIM, Cap.APPROVE, Cap.SEE_IDENTIFIERS}
    ),
    Role.MANAGER: frozenset(
        {Cap.VIEW_QUEUE, Cap.VIEW_CLAIM, Cap.WORK_CLAIM, Cap.APPROVE, Cap.SEE_IDENTIFIERS}
    ),
    Role.OPERATIONS: frozenset({Cap.VIEW_OPS}),
    Role.AUDITOR: frozenset({Cap.VIEW_QUEUE, Cap.VIEW_CLAIM, Cap.VIEW_OPS, Cap.VIEW_AUDIT}),
}

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class AccountError(ValueError):
    """A bad account request (`claims review adduser`): the message says what to change."""


# --- passwords ------------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash`, base64; parameters travel with the hash so they can be raised later."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(want)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
"""Checked against for unknown usernames, so timing does not tell which accounts exist."""


# --- accounts -------------------------------------------------------------------------------------


def add_user(
    store: CaseStore, username: str, password: str, role: Role | str, display_name: str | None = None
) -> None:
    """Create an account, or reset an existing one's password, role and name (and unlock it)."""
    username = username.strip()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise AccountError(f"username {username!r}: use 1-64 letters, digits, '.' or '_'")
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"role {role!r}: choose one of {', '.join(r.value for r in Role)}") from None
    if len(password) < 10:
        raise AccountError("the password needs at least 10 characters")
    require_schema(store.engine)
    with store.session() as s:
        row = s.get(UserRow, username)
        if row is None:
            row = UserRow(username=username)
            s.add(row)
        row.display_name = display_name or username
        row.role = role.value
        row.password_hash = hash_password(password)
        row.active = True
        row.failed_logins = 0
        row.locked_until = None
        s.execute(delete(WebSessionRow).where(WebSessionRow.username == username))


@dataclass(frozen=True)
class Viewer:
    """The signed-in person a request acts for."""

    username: str
    display_name: str
    role: Role
    csrf_token: str
    session_id: str

    @property
    def caps(self) -> frozenset[Cap]:
        return CAPABILITIES[self.role]

    def can(self, cap: Cap | str) -> bool:
        return Cap(cap) in self.caps


def authenticate(store: CaseStore, username: str, password: str) -> UserRow | None:
    """The account if the password is right and the account is usable; counts failures, locks out."""
    now = utcnow()
    with store.session() as s:
        row = s.get(UserRow, username.strip())
        if row is None:
            verify_password(password, _DUMMY_HASH)
            return None
        locked = row.locked_until is not None and _aware(row.locked_until) > now
        ok = verify_password(password, row.password_hash)
        if locked or not row.active:
            return None
        if not ok:
            row.failed_logins += 1
            if row.failed_logins >= MAX_FAILED_LOGINS:
                row.locked_until = now + LOCKOUT
                row.failed_logins = 0
            return None
        row.failed_logins = 0
        row.locked_until = None
        return row


# --- sessions -------------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """The id a session is stored under: its token's SHA-256, so the database never holds a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def start_session(store: CaseStore, settings: Settings, username: str, user_agent: str | None) -> str:
    """A new session for a signed-in user; returns the cookie's token (never stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with store.session() as s:
        s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))  # sweep the dead ones
        s.add(
            WebSessionRow(
                id=hash_token(token),
                username=username,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
                expires_at=now + dt.timedelta(hours=settings.review_session_hours),
                user_agent=(user_agent or "")[:256] or None,
            )
        )
    return token


def load_session(store: CaseStore, settings: Settings, token: str | None) -> Viewer | None:
    """The viewer behind a cookie, if the session is alive and the account still active."""
    if not token:
        return None
    now = utcnow()
    idle = dt.timedelta(minutes=settings.review_idle_minutes)
    with store.session() as s:
        row = s.get(WebSessionRow, hash_token(token))
        if row is None:
            return None
        if _aware(row.expires_at) <= now or _aware(row.last_seen_at) + idle <= now:
            s.delete(row)
            return None
        user = s.get(UserRow, row.username)
        if user is None or not user.active:
            s.delete(row)
            return None
        if now - _aware(row.last_seen_at) > dt.timedelta(seconds=30):  # fewer writes than one per request
            row.last_seen_at = now
        return Viewer(
            username=user.username,
            display_name=user.display_name,
            role=Role(user.role),
            csrf_token=row.csrf_token,
            session_id=row.id,
        )


def end_session(store: CaseStore, session_id: str) -> None:
    with store.session() as s:
        s.execute(delete(WebSessionRow).where(WebSessionRow.id == session_id))


def list_users(store: CaseStore) -> list[dict[str, object]]:
    with store.session() as s:
        return [
            {"username": u.username, "display_name": u.display_name, "role": u.role, "active": u.active}
            for u in s.scalars(select(UserRow).order_by(UserRow.username))
        ]


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())

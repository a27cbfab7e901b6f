"""API keys per channel: made once, shown once, kept as a SHA-256 digest, looked up by a public id.

A key reads `cdi_<key id>_<secret>`. The key id is public (it appears in the audit trail and in
`claims intake keys`); the secret is 32 random bytes, so a plain SHA-256 is enough to make a copy of
the table useless (a slow password hash protects guessable secrets, and these are not guessable).

A key belongs to a channel and an owner, `channel:name`. Claims belong to the owner: a hospital's
key reads that hospital's claims only, and a rotated key (same channel and name) still reads them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pipeline.errors import ClaimsError
from pipeline.intake_tables import ApiKeyRow
from pipeline.store import CaseStore, utcnow

CHANNELS: dict[str, str] = {
    "app": "customer app (APP、微信小程序)",
    "agent": "agent tool (代理人展业工具)",
    "hospital": "hospital (医疗信息直连, direct settlement 医疗直付)",
}
"""The channels a key may serve, with what they are."""

PREFIX = "cdi"
_KEY = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_\-]{{20,128}})$")
_CACHE_SECONDS = 30.0
"""How long a looked-up key is trusted without asking the database again (a revocation takes effect
within this time)."""


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's channel and owner, its own rate limit, a hospital's account."""

    key_id: str
    channel: str
    name: str
    owner: str
    rate_per_minute: float | None = None
    burst: int | None = None
    settlement_bank: str | None = None
    settlement_account: str | None = None

    @property
    def actor(self) -> str:
        """The audit trail's actor: the key id, never the key."""
        return f"api:{self.channel}:{self.key_id}"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    store: CaseStore,
    channel: str,
    name: str,
    *,
    rate_per_minute: float | None = None,
    burst: int | None = None,
    settlement_bank: str | None = None,
    settlement_account: str | None = None,
) -> tuple[str, Caller]:
    """Make a key; returns the key (shown once, never stored) and who it speaks for."""
    if channel not in CHANNELS:
        raise ClaimsError(f"unknown channel {channel!r}: choose {', '.join(CHANNELS)}")
    name = name.strip()
    if not name or len(name) > 128:
        raise ClaimsError("a key needs a name of 1 to 128 characters (the app, agency or hospital)")
    if settlement_account is not None:
        if channel != "hospital":
            raise ClaimsError("only a hospital key carries a settlement account (医疗直付)")
        settlement_account = re.sub(r"[\s-]", "", settlement_account)
        if not re.fullmatch(r"\d{8,32}", settlement_account):
            raise ClaimsError(f"settlement account {settlement_account!r}: 8 to 32 digits expected")
        if not settlement_bank:
            raise ClaimsError("a settlement account needs its bank (--bank)")
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKeyRow(
        key_id=key_id,
        secret_hash=digest(key),
        channel=channel,
        name=name,
        owner=f"{channel}:{name}",
        rate_per_minute=rate_per_minute,
        burst=burst,
        settlement_bank=settlement_bank,
        settlement_account=settlement_account,
    )
    with store.session() as s:
        s.add(row)
    store.audit("intake", "api_key_created", None, {"key_id": key_id, "channel": channel, "name": name})
    return key, _caller(row)


def revoke_key(store: CaseStore, key_id: str) -> bool:
    """Revoke a key; False if there is no such key or it was already revoked."""
    with store.session() as s:
        row = s.get(ApiKeyRow, key_id)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
    store.audit("intake", "api_key_revoked", None, {"key_id": key_id})
    return True


def list_keys(store: CaseStore) -> list[dict[str, Any]]:
    """Every key without its secret: id, channel, name, limits, created and revoked."""
    with store.session() as s:
        rows = s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all()
        return [
            {
                "key_id": r.key_id,
                "channel": r.channel,
                "name": r.name,
                "rate_per_minute": r.rate_per_minute,
                "burst": r.burst,
                "settlement_account": r.settlement_account,
                "created_at": r.created_at,
                "revoked_at": r.revoked_at,
            }
            for r in rows
        ]


def _caller(row: ApiKeyRow) -> Caller:
    return Caller(
        key_id=row.key_id,
        channel=row.channel,
        name=row.name,
        owner=row.owner,
        rate_per_minute=row.rate_per_minute,
        burst=row.burst,
        settlement_bank=row.settlement_bank,
        settlement_account=row.settlement_account,
    )


class KeyRing:
    """Authenticates keys against the store, trusting a lookup for `_CACHE_SECONDS`."""

    def __init__(self, store: CaseStore, cache_seconds: float = _CACHE_SECONDS) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, str, Caller | None]] = {}
        self._lock = threading.Lock()

    def authenticate(self, key: str | None) -> Caller | None:
        """The caller a key speaks for; None for a missing, malformed, unknown or revoked key."""
        if not key:
            return None
        m = _KEY.match(key.strip())
        if m is None:
            return None
        key_id = m.group(1)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key_id)
        if hit is None or now - hit[0] > self.cache_seconds:
            with self.store.session() as s:
                row = s.get(ApiKeyRow, key_id)
                entry = (
                    (now, "", None)
                    if row is None or row.revoked_at is not None
                    else (now, row.secret_hash, _caller(row))
                )
            with self._lock:
                self._cache[key_id] = entry
            hit = entry
        _, secret_hash, caller = hit
        if caller is None or not hmac.compare_digest(secret_hash, digest(key.strip())):
            return None
        return caller

    def forget(self, key_id: str | None = None) -> None:
        """Drop cached lookups (after a revocation in the same process)."""
        with self._lock:
            if key_id is None:
                self._cache.clear()
            else:
                self._cache.pop(key_id, None)

"""The review app's tables: who may sign in, and who is signed in.

They sit on the case store's `Base`, so one metadata (and one Alembic history, migration 0003)
covers the whole database; the spine owns the schema, so they live here beside the store.
Everything else the app writes goes to the case store's own tables: decisions to `review_tasks`,
corrections to `fields` (with `corrected_by`, so they are training labels), every view and action
to the append-only `audit_events`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.errors import ClaimsError
from pipeline.store import Base, utcnow


class UserRow(Base):
    """An account of the review app; the password is kept only as a salted scrypt hash."""

    __tablename__ = "review_users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """Set after too many wrong passwords in a row: guessing is slowed to a crawl."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebSessionRow(Base):
    """A signed-in browser. The id is the SHA-256 of the cookie's token, so a copy of the table
    signs nobody in; the CSRF token is the session's own."""

    __tablename__ = "review_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("review_users.username", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_agent: Mapped[str | None] = mapped_column(String(256))


def require_schema(engine: Engine) -> None:
    """Fail with a plain sentence, not a SQL error, when the review tables are not there.

    A database migrated while revision 0003 was still an empty placeholder is stamped past it and
    never got these tables; re-stamping it to 0002 and upgrading again creates them.
    """
    missing = {UserRow.__tablename__, WebSessionRow.__tablename__} - set(inspect(engine).get_table_names())
    if missing:
        raise ClaimsError(
            f"{engine.url.render_as_string(hide_password=True)}: the review app's tables"
            f" ({', '.join(sorted(missing))}) are missing: the database was migrated while revision 0003"
            " was an empty placeholder. Point sqlalchemy.url in alembic.ini at it and run"
            " `alembic stamp 0002 && alembic upgrade head`, or start a new data dir."
        )

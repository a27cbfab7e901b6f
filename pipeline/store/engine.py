"""The store's database: the engine for a URL, the Alembic upgrade, and what every repository shares.

SQLAlchemy 2 over a SQLite file by default, PostgreSQL by URL; the schema is created and changed only
by the Alembic migrations in `pipeline/migrations`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).parent.parent / "migrations"


class Sessions(Protocol):
    """What the repositories stand on: `CaseStore`, whose `session()` opens one transaction."""

    def session(self) -> AbstractContextManager[Session]: ...


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic (the only way the schema changes)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


class Repository:
    """One aggregate's reads and writes; every method is a short transaction of its own."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def session(self) -> AbstractContextManager[Session]:
        """A transaction of the store's, looked up at each call: whatever wraps the store's `session`
        (a test crashing at the n-th write) wraps the repositories' too."""
        return self._sessions.session()

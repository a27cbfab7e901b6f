"""The store's database on its own: the engine a URL gives, the Alembic upgrade, the repositories' base."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from pipeline.store.engine import MIGRATIONS, Repository, make_engine, migrate


def test_a_sqlite_engine_enforces_foreign_keys_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_migrate_goes_to_a_revision_then_to_head(tmp_path: Path) -> None:
    assert (MIGRATIONS / "env.py").is_file() and any((MIGRATIONS / "versions").glob("0001_*.py"))
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine, "0001")
    first = set(inspect(engine).get_table_names())
    assert {"claims", "documents", "audit_events"} <= first and "claim_keys" not in first
    migrate(engine)
    migrate(engine)  # already at head: nothing to do
    assert {"claim_keys", "review_users"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() != "0001"
    engine.dispose()


class _Counting:
    """A `Sessions` that counts the transactions it opens."""

    def __init__(self, engine_url: str) -> None:
        self.engine = make_engine(engine_url)
        self.opened = 0

    @contextmanager
    def _open(self) -> Iterator[Session]:
        self.opened += 1
        with Session(self.engine) as s, s.begin():
            yield s

    def session(self) -> AbstractContextManager[Session]:
        return self._open()


def test_a_repository_opens_its_sessions_on_what_it_stands_on(tmp_path: Path) -> None:
    sessions = _Counting(f"sqlite:///{tmp_path / 'x.db'}")
    repo = Repository(sessions)
    with repo.session() as s:
        assert s.execute(text("select 1")).scalar() == 1
    with repo.session():
        pass
    assert sessions.opened == 2
    sessions.engine.dispose()

"""Migration 0003 (the review app's tables) on SQLite and PostgreSQL, and `claims review adduser`."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from typer.testing import CliRunner

from pipeline.errors import ClaimsError
from pipeline.review_tables import UserRow, WebSessionRow
from pipeline.settings import Settings
from pipeline.store import Base, make_engine, migrate, open_store
from review.auth import Role, add_user, authenticate

REVIEW_TABLES = {UserRow.__tablename__, WebSessionRow.__tablename__}


def test_migration_matches_the_models(db_settings: Settings) -> None:
    store = open_store(db_settings)
    assert set(inspect(store.engine).get_table_names()) >= REVIEW_TABLES
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = [d for d in diffs if any(t in repr(d) for t in REVIEW_TABLES)]
    assert ours == [], ours
    add_user(store, "adj1", "a-long-password", Role.ADJUSTER)
    assert authenticate(store, "adj1", "a-long-password") is not None
    store.engine.dispose()


def test_downgrade_removes_the_tables(db_settings: Settings) -> None:
    from alembic import command
    from alembic.config import Config

    from pipeline.store import MIGRATIONS

    db_settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_settings.db_url)
    migrate(engine, "0003")
    assert set(inspect(engine).get_table_names()) >= REVIEW_TABLES
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    assert not REVIEW_TABLES & set(inspect(engine).get_table_names())
    migrate(engine, "0003")
    assert set(inspect(engine).get_table_names()) >= REVIEW_TABLES
    engine.dispose()


def test_missing_tables_are_explained(settings: Settings) -> None:
    from review.app import create_app

    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.db_url)
    migrate(engine, "0002")
    store = open_store(settings, migrate_schema=False)
    with pytest.raises(ClaimsError, match="review app's tables"):
        create_app(settings, store)


def test_adduser_command(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.cli import app
    from pipeline import settings as settings_module

    monkeypatch.setenv("CLAIMS_DATA_DIR", str(settings.data_dir))
    settings_module.get_settings.cache_clear()
    try:
        runner = CliRunner()
        ok = runner.invoke(
            app,
            [
                "review",
                "adduser",
                "li.na",
                "--role",
                "senior_adjuster",
                "--name",
                "李娜",
                "--password-stdin",
                "--json",
            ],
            input="a-long-password\n",
        )
        assert ok.exit_code == 0, ok.output
        assert '"role": "senior_adjuster"' in ok.output.splitlines()[-1]
        manager = runner.invoke(
            app,
            ["review", "adduser", "zhao.min", "--role", "claims_manager", "--password-stdin", "--json"],
            input="a-long-password\n",
        )
        assert manager.exit_code == 0 and '"role": "claims_manager"' in manager.output.splitlines()[-1]
        bad = runner.invoke(
            app, ["review", "adduser", "x", "--role", "boss", "--password-stdin"], input="a-long-password\n"
        )
        assert bad.exit_code == 2 and "role" in bad.output
        short = runner.invoke(app, ["review", "adduser", "y", "--password-stdin"], input="short\n")
        assert short.exit_code == 2 and "10 characters" in short.output
    finally:
        settings_module.get_settings.cache_clear()
    store = open_store(settings)
    user = authenticate(store, "li.na", "a-long-password")
    assert user is not None and user.role == "senior_adjuster" and user.display_name == "李娜"
    manager = authenticate(store, "zhao.min", "a-long-password")
    assert manager is not None and Role(manager.role) is Role.MANAGER

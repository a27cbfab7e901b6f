"""Fixtures for the review app tests; the store they stand on is built in review_fixtures.py."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from review_fixtures import Built, Session, build_store, copy_built

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium under Playwright (it cannot download browsers here), headless."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: `make browser` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        args = ["--disable-background-networking", "--disable-dev-shm-usage"]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to sandbox as root
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        yield b
        b.close()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The store built once per session (migrations, rendering, password hashing take seconds)."""
    built = build_store(tmp_path_factory.mktemp("review-template"))
    built.store.engine.dispose()  # checkpoints SQLite's WAL into the file, so a copy is complete
    return built


@pytest.fixture
def built(template: Built, tmp_path: Path) -> Built:
    """A private copy of the template store, free to change."""
    return copy_built(template, tmp_path / "store")


@pytest.fixture
def app(built: Built) -> FastAPI:
    from review.app import create_app

    return create_app(built.settings, built.store)


@pytest.fixture
def sign_in(app: FastAPI) -> Iterator[Callable[[str | None], Session]]:
    """sign_in("adj1") -> a Session signed in as adj1 (each with its own cookie jar)."""
    clients: list[TestClient] = []

    def make(username: str | None) -> Session:
        client = TestClient(app)
        clients.append(client)
        s = Session(client, None)
        if username is not None:
            r = s.login(username)
            assert r.status_code == 303, r.text  # type: ignore[attr-defined]
        return s

    yield make
    for c in clients:
        c.close()

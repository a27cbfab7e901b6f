"""Fixtures for the intake API tests: an app over a fresh store with one key per channel, and, for
the end-to-end tests only, one Prefect test server, small models and an OCR cache per session.

Prefect's environment is set here, before anything imports prefect: our own PREFECT_HOME (never
~/.prefect), no telemetry, and the longer start-up timeout this busy machine needs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="claims-intake-prefect-"))
os.environ.setdefault("PREFECT_HOME", str(_PREFECT_HOME))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")

from fastapi.testclient import TestClient  # noqa: E402
from intake_files import HOSPITAL, HOSPITAL_ACCOUNT, policies_csv  # noqa: E402

from intake.app import create_app  # noqa: E402
from intake.dispatch import Dispatcher, QueueDispatcher  # noqa: E402
from intake.keys import create_key  # noqa: E402
from intake.ratelimit import MemoryBuckets  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store import CaseStore, open_store  # noqa: E402


@dataclass
class Api:
    """An intake app under test with a key per channel (two hospitals, so scoping can be seen)."""

    client: TestClient
    store: CaseStore
    settings: Settings
    keys: dict[str, str]
    dispatcher: Any
    clock: list[float]

    def headers(self, who: str = "app", idem: str | None = None, **extra: str) -> dict[str, str]:
        h = {"X-API-Key": self.keys[who], **extra}
        if idem is not None:
            h["Idempotency-Key"] = idem
        return h


def make_api(
    settings: Settings, dispatcher: Dispatcher | None = None, more_policies: Path | None = None
) -> Api:
    """The app over a fresh store, its policy extract the test policies (plus `more_policies`' rows)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    policies = settings.data_dir / "policies.csv"
    extra = more_policies.read_text(encoding="utf-8").split("\n", 1)[1] if more_policies else ""
    policies.write_text(policies_csv() + extra, encoding="utf-8")
    settings = settings.model_copy(update={"intake_policies": policies})
    store = open_store(settings)
    keys = {
        "app": create_key(store, "app", "安康APP")[0],
        "agent": create_key(store, "agent", "城东营业部")[0],
        "hospital": create_key(
            store, "hospital", HOSPITAL, settlement_bank="中国工商银行", settlement_account=HOSPITAL_ACCOUNT
        )[0],
        "other_hospital": create_key(store, "hospital", "仁和医院")[0],
    }
    clock = [1000.0]
    dispatcher = dispatcher or QueueDispatcher()
    app = create_app(
        settings, store=store, dispatcher=dispatcher, limiter=MemoryBuckets(clock=lambda: clock[0])
    )
    return Api(TestClient(app), store, settings, keys, dispatcher, clock)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """The app with claims left queued (no flow runs): the door itself under test."""
    a = make_api(Settings(data_dir=tmp_path / "data"))
    yield a
    a.client.close()
    a.store.engine.dispose()


# --- end to end: Prefect, models, OCR ------------------------------------------------------------


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("intake-shared")


@pytest.fixture(scope="session")
def models_dir(shared_dir: Path) -> Path:
    """Champion models trained once per session on small synthetic sets."""
    from flows.models import ensure_models, train_doc_type_model, train_fraud_on_synthetic, train_gate_model
    from pipeline.registry import ModelRegistry

    settings = Settings(data_dir=shared_dir / "models-home")
    registry = ModelRegistry(settings.models_dir)
    for name, train in (
        ("doc-type", lambda: train_doc_type_model(settings, claims=30)),
        ("adjudication-gate", lambda: train_gate_model(settings, claims=800)),
        ("fraud", lambda: train_fraud_on_synthetic(settings, rows=4_000)),
    ):
        card = train()
        if registry.champion(name) is None:
            registry.promote(name, card.version)
    assert ensure_models(settings) == []
    return settings.models_dir


@pytest.fixture(scope="session")
def ocr_cache(shared_dir: Path) -> Path:
    path = shared_dir / "ocr-cache"
    path.mkdir()
    return path


def linked_settings(
    data_dir: Path, models_dir: Path, ocr_cache: Path, database_url: str | None = None
) -> Settings:
    """A fresh data dir (its own store) sharing the session's models and OCR cache."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "models").symlink_to(models_dir, target_is_directory=True)
    (data_dir / "ocr-cache").symlink_to(ocr_cache, target_is_directory=True)
    # the OCR cache is used only where the page images it refers to are there too
    images = ocr_cache.parent / "page-images"
    images.mkdir(exist_ok=True)
    (data_dir / "page-images").symlink_to(images, target_is_directory=True)
    return Settings(data_dir=data_dir, database_url=database_url)

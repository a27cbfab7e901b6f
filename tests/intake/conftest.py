"""Fixtures for the intake API tests: an app over a fresh store with one key per channel, and, for
the end-to-end tests only, one Prefect test server, small models and an OCR cache per session.

Prefect's environment is set here, before anything imports prefect: our own PREFECT_HOME (never
~/.prefect), no telemetry, and the longer start-up timeout this busy machine needs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="claims-intake-prefect-"))
os.environ.setdefault("PREFECT_HOME", str(_PREFECT_HOME))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")

from intake_api import Api, make_api  # noqa: E402

from pipeline.settings import Settings  # noqa: E402


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

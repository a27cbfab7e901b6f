"""The Prefect test server and the small models, shared by the test packages that run flows
(`tests/flows/`, `tests/intake/`); stage tests never start Prefect.

`isolate_prefect()` must run before anything imports prefect (at the top of those conftests): our own
PREFECT_HOME (never ~/.prefect), no telemetry, and the longer start-up timeout this busy machine needs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.settings import Settings

_HOME_MARK = "CLAIMS_TEST_PREFECT_HOME"


def isolate_prefect() -> None:
    """Point Prefect at a throw-away home, once per process, whatever the user's PREFECT_HOME."""
    if os.environ.get(_HOME_MARK) is None:
        os.environ[_HOME_MARK] = tempfile.mkdtemp(prefix="claims-prefect-home-")
    os.environ["PREFECT_HOME"] = os.environ[_HOME_MARK]
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A throw-away Prefect API (SQLite) for the session's flow runs."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's folder for what its flow runs share (models, OCR cache, page images)."""
    return tmp_path_factory.mktemp("flow-shared")


@pytest.fixture(scope="session")
def ocr_cache(shared_dir: Path) -> Path:
    """One OCR cache for the session: a document is read once, whichever test sends it."""
    path = shared_dir / "ocr-cache"
    path.mkdir()
    return path


def train_small_models(home: Path, *, doc_type_claims: int, fraud_rows: int) -> Path:
    """Champion models trained on small synthetic sets (seconds, not minutes); their models folder."""
    from flows.models import ensure_models, train_doc_type_model, train_fraud_on_synthetic, train_gate_model
    from pipeline.registry import ModelRegistry

    settings = Settings(data_dir=home)
    registry = ModelRegistry(settings.models_dir)
    for name, train in (
        # small frozen holdouts too: a test session judges challengers, it does not measure them
        ("doc-type", lambda: train_doc_type_model(settings, claims=doc_type_claims, holdout_claims=10)),
        ("adjudication-gate", lambda: train_gate_model(settings, claims=800, holdout_claims=400)),
        ("fraud", lambda: train_fraud_on_synthetic(settings, rows=fraud_rows)),
    ):
        card = train()
        if registry.champion(name) is None:
            registry.promote(name, card.version)
    assert ensure_models(settings) == []  # nothing left to train
    return settings.models_dir


def link_shared(
    data_dir: Path,
    models_dir: Path,
    ocr_cache: Path,
    *,
    page_images: bool = False,
    database_url: str | None = None,
) -> Settings:
    """A fresh data dir (its own case store) that shares the session's models and OCR cache, and with
    `page_images` the page images beside the cache (a cached reading is used only where its images are
    there too)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "models").symlink_to(models_dir, target_is_directory=True)
    (data_dir / "ocr-cache").symlink_to(ocr_cache, target_is_directory=True)
    if page_images:
        images = ocr_cache.parent / "page-images"
        images.mkdir(exist_ok=True)
        (data_dir / "page-images").symlink_to(images, target_is_directory=True)
    return Settings(data_dir=data_dir, database_url=database_url)

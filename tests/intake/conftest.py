"""Fixtures for the intake API tests: an app over a fresh store with one key per channel, and, for
the end-to-end tests only, one Prefect test server, small models and an OCR cache per session.

Prefect's environment is set first (`isolate_prefect`), before anything imports prefect.
"""

from __future__ import annotations

from helpers.prefect_harness import isolate_prefect

isolate_prefect()

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from helpers import prefect_harness as harness  # noqa: E402
from helpers.prefect_harness import train_small_models  # noqa: E402
from intake_api import Api, make_api  # noqa: E402

from pipeline.settings import Settings  # noqa: E402

# the session fixtures of helpers.prefect_harness, for this package's tests only
prefect_harness = harness.prefect_harness
shared_dir = harness.shared_dir
ocr_cache = harness.ocr_cache


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """The app with claims left queued (no flow runs): the door itself under test."""
    a = make_api(Settings(data_dir=tmp_path / "data"))
    yield a
    a.client.close()
    a.store.engine.dispose()


# --- end to end: Prefect, models, OCR ------------------------------------------------------------


@pytest.fixture(scope="session")
def models_dir(shared_dir: Path) -> Path:
    """Champion models trained once per session on small synthetic sets."""
    return train_small_models(shared_dir / "models-home", doc_type_claims=30, fraud_rows=4_000)

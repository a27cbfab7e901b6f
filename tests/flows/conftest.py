"""Fixtures for the flow tests: one Prefect test server, one set of small models and one OCR cache
per session, so each test pays only for its own flow runs.

Prefect's environment is set here, before anything imports prefect: our own PREFECT_HOME (never
~/.prefect), no telemetry, and the longer start-up timeout this busy machine needs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="claims-prefect-home-"))
os.environ["PREFECT_HOME"] = str(_PREFECT_HOME)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")

import datetime as dt  # noqa: E402
from decimal import Decimal  # noqa: E402

from helpers import money  # noqa: E402

from pipeline.records import DocType, Outcome, ReviewAction, ReviewDecision, Route  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store import CaseStore, open_store  # noqa: E402

CORPUS_CLAIMS = 3
CORPUS_SEED = 11
T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A throw-away Prefect API (SQLite) for the flow tests; stage tests never start Prefect."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("flows-shared")


@pytest.fixture(scope="session")
def models_dir(shared_dir: Path) -> Path:
    """Champion models trained once per session on small synthetic sets (seconds, not minutes)."""
    from flows.models import ensure_models, train_doc_type_model, train_fraud_on_synthetic, train_gate_model
    from pipeline.registry import ModelRegistry

    settings = Settings(data_dir=shared_dir / "models-home")
    registry = ModelRegistry(settings.models_dir)
    for name, card in (
        ("doc-type", lambda: train_doc_type_model(settings, claims=60)),
        ("adjudication-gate", lambda: train_gate_model(settings, claims=800)),
        ("fraud", lambda: train_fraud_on_synthetic(settings, rows=20_000)),
    ):
        c = card()
        if registry.champion(name) is None:
            registry.promote(name, c.version)
    assert ensure_models(settings) == []  # nothing left to train
    return settings.models_dir


@pytest.fixture(scope="session")
def ocr_cache(shared_dir: Path) -> Path:
    path = shared_dir / "ocr-cache"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def corpus(shared_dir: Path) -> Path:
    """A tiny rendered batch (claims.csv, policies.csv, documents); copy it before changing it."""
    from synth.documents import generate_corpus

    out = shared_dir / "corpus"
    generate_corpus(out, CORPUS_CLAIMS, CORPUS_SEED, render=True)
    return out


def link_shared(data_dir: Path, models_dir: Path, ocr_cache: Path) -> Settings:
    """A fresh data dir (its own case store) that shares the session's models and OCR cache."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "models").symlink_to(models_dir, target_is_directory=True)
    (data_dir / "ocr-cache").symlink_to(ocr_cache, target_is_directory=True)
    return Settings(data_dir=data_dir)


@pytest.fixture
def shared_data_dir(models_dir: Path, ocr_cache: Path) -> Callable[[Path], Settings]:
    """Make more data dirs like `flow_settings` (a test that needs two stores)."""
    return lambda data_dir: link_shared(data_dir, models_dir, ocr_cache)


@pytest.fixture
def flow_settings(tmp_path: Path, models_dir: Path, ocr_cache: Path) -> Settings:
    return link_shared(tmp_path / "data", models_dir, ocr_cache)


@pytest.fixture
def batch(tmp_path: Path, corpus: Path) -> Path:
    """A private copy of the corpus, free to damage."""
    out = tmp_path / "batch"
    shutil.copytree(corpus, out)
    return out


def _review_queue(tmp_path: Path, settings: Settings) -> tuple[CaseStore, list[str]]:
    """Three claims the batch sent to adjusters (facts from a generated corpus, no pixels), each
    decided in the review app: approve 812.40, deny, request the expense list."""
    from pipeline.stages import Stage
    from synth.documents import generate_corpus
    from synth.facts import load_facts

    generate_corpus(tmp_path / "c", 3, 5, render=False)
    facts = load_facts(tmp_path / "c")
    store = open_store(settings)
    ids = []
    for f in facts:
        store.save_claim(f.claim)
        store.put_result(f.claim.claim_id, Stage.FACTS, f)
        money.record(
            store,
            Outcome(
                claim_id=f.claim.claim_id, route=Route.ADJUSTER, reasons=["GATE_NOT_CONFIDENT"], decided_at=T0
            ),
            priority=1,
        )
        assert store.lock_review(f.claim.claim_id, "adj1")
        ids.append(f.claim.claim_id)
    later = T0 + dt.timedelta(hours=1)
    decisions = [
        ReviewDecision(
            claim_id=ids[0],
            reviewer="adj1",
            action=ReviewAction.APPROVE,
            amount=Decimal("812.40"),
            decided_at=later,
        ),
        ReviewDecision(
            claim_id=ids[1],
            reviewer="adj1",
            action=ReviewAction.DENY,
            reason="就诊日期在保单生效前",
            decided_at=later,
        ),
        ReviewDecision(
            claim_id=ids[2],
            reviewer="adj1",
            action=ReviewAction.REQUEST_INFO,
            missing_documents=[DocType.EXPENSE_LIST],
            decided_at=later,
        ),
    ]
    for d in decisions:
        assert store.complete_review(d)
    return store, ids


@pytest.fixture
def review_queue() -> Callable[[Path, Settings], tuple[CaseStore, list[str]]]:
    return _review_queue

"""Fixtures for the flow tests: one Prefect test server, one set of small models and one OCR cache
per session, so each test pays only for its own flow runs.

Prefect's environment is set first (`isolate_prefect`), before anything imports prefect.
"""

from __future__ import annotations

from helpers.prefect_harness import isolate_prefect

isolate_prefect()

import datetime as dt  # noqa: E402
import shutil  # noqa: E402
from collections.abc import Callable  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from helpers import money  # noqa: E402
from helpers import prefect_harness as harness  # noqa: E402
from helpers.prefect_harness import link_shared, train_small_models  # noqa: E402

from pipeline.records import DocType, Outcome, ReviewAction, ReviewDecision, Route  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store import CaseStore, open_store  # noqa: E402

# the session fixtures of helpers.prefect_harness, for this package's tests only
prefect_harness = harness.prefect_harness
shared_dir = harness.shared_dir
ocr_cache = harness.ocr_cache

CORPUS_CLAIMS = 3
CORPUS_SEED = 11
T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def models_dir(shared_dir: Path) -> Path:
    """Champion models trained once per session on small synthetic sets (seconds, not minutes)."""
    return train_small_models(shared_dir / "models-home", doc_type_claims=60, fraud_rows=20_000)


@pytest.fixture(scope="session")
def corpus(shared_dir: Path) -> Path:
    """A tiny rendered batch (claims.csv, policies.csv, documents); copy it before changing it."""
    from synth.documents import generate_corpus

    out = shared_dir / "corpus"
    generate_corpus(out, CORPUS_CLAIMS, CORPUS_SEED, render=True)
    return out


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

"""Load part (a)'s pieces, in this process: the seeded queue, a simulated adjuster working it through
the review app, and the checks that compare the store and its audit trail with what the client saw."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bench.loadtest.review import Person, ReviewLog, ReviewSeed, check_review, seed_review
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store
from review.app import create_app

CLAIMS = 5


@dataclass
class Seeded:
    store: CaseStore
    settings: Settings
    seed: ReviewSeed


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Seeded]:
    settings = Settings(data_dir=tmp_path / "data")
    store = open_store(settings)
    yield Seeded(store, settings, seed_review(store, settings, claims=CLAIMS, adjusters=2, seniors=1))
    store.engine.dispose()


def test_the_seed_routes_every_claim_to_a_person_and_makes_the_accounts(seeded: Seeded) -> None:
    seed = seeded.seed
    tasks = seeded.store.review_tasks()
    assert len(seed.claimed) == len(tasks) == CLAIMS
    assert set(seed.claimed) == {t["claim_id"] for t in tasks}
    assert (seed.adjusters, seed.seniors) == (["adj01", "adj02"], ["sen01"])
    assert seed.approval_limit > 0 and seed.approval_limit == seed.approval_limit.quantize(Decimal("0.01"))
    assert all(a is None or a >= 0 for a in seed.claimed.values())


def test_nothing_done_is_nothing_wrong(seeded: Seeded) -> None:
    anomalies = check_review(seeded.store, seeded.seed, ReviewLog())
    assert anomalies == dict.fromkeys(anomalies, 0)


def test_a_decision_the_client_was_told_of_but_the_store_lacks_is_found(seeded: Seeded) -> None:
    log = ReviewLog()
    claim = next(iter(seeded.seed.claimed))
    log.decisions.append(("adj01", claim, "approve", "10.00", "decided"))
    log.approvals.append(("sen01", claim))
    anomalies = check_review(seeded.store, seeded.seed, log)
    assert anomalies["lost_updates"] >= 2 and anomalies["audit_missing"] >= 2
    assert anomalies["double_decisions"] == anomalies["forbidden"] == 0


def test_an_adjuster_works_the_queue_and_the_store_agrees_with_what_it_saw(seeded: Seeded) -> None:
    log = ReviewLog()
    person = Person("https://testserver", "adj01", random.Random(3), log, seeded.seed)
    person.client.close()  # the review app in this process instead of a server
    person.client = TestClient(
        create_app(seeded.settings, seeded.store), base_url="https://testserver", follow_redirects=False
    )
    person.run(deadline=time.monotonic() + 60, senior=False)  # stops once the queue is empty
    person.close()
    assert log.errors == [] and log.signed_in == ["adj01"]
    assert log.decisions and {cid for _, cid, *_ in log.decisions} <= set(seeded.seed.claimed)
    anomalies = check_review(seeded.store, seeded.seed, log)
    assert anomalies == dict.fromkeys(anomalies, 0)

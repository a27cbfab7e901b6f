"""Load part (b)'s clients and checks, driven through the intake app in this process: the uploads it
makes, a client retrying with the same Idempotency-Key, and the checks that find a second claim, a
different answer or a lost document."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bench.loadtest.intake import IntakeLog, Upload, check_intake, image, upload_one, uploads
from intake.app import create_app
from intake.dispatch import QueueDispatcher
from intake.keys import create_key
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store

pytestmark = pytest.mark.filterwarnings(
    "ignore:You should not use the .timeout. argument"
)  # the bench sets one


@dataclass
class Api:
    client: TestClient
    store: CaseStore
    keys: dict[str, str]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """The intake app over a fresh store with two keys of unlimited rate, as `run_intake` makes them."""
    settings = Settings(data_dir=tmp_path / "data", intake_dispatch="queue")
    store = open_store(settings)
    keys = {
        channel: create_key(store, channel, f"load-{channel}", rate_per_minute=1e6, burst=1_000_000)[0]
        for channel in ("app", "agent")
    }
    client = TestClient(create_app(settings, store=store, dispatcher=QueueDispatcher()))
    yield Api(client, store, keys)
    client.close()
    store.engine.dispose()


def test_each_seed_gives_other_image_bytes_that_decode() -> None:
    assert image(1, (32, 24)) == image(1, (32, 24)) != image(2, (32, 24))
    assert image(1, (32, 24))[:3] == b"\xff\xd8\xff" and image(1, (32, 24), "PNG")[:4] == b"\x89PNG"


def test_the_uploads_spread_over_the_keys_with_retries_and_a_shared_file() -> None:
    work = uploads(["k1", "k2", "k3"], 60, (16, 12), seed=3)
    assert work == uploads(["k1", "k2", "k3"], 60, (16, 12), seed=3)  # the same load every run
    assert Counter(u.api_key for u in work) == {"k1": 20, "k2": 20, "k3": 20}
    assert len({u.key for u in work}) == 60
    assert set(Counter(u.retry for u in work)) == {"none", "after", "double", "timeout"}
    shared = [u for u in work if any(name == "id_card.jpg" for name, _ in u.files)]
    assert shared and len({dict(u.files)["id_card.jpg"] for u in shared}) == 1  # one family ID card
    assert all(2 <= len(u.files) <= 4 for u in work)
    assert all(u.form["claim_type"] == "outpatient" for u in work)


def test_retried_uploads_make_one_claim_each_and_the_checks_find_nothing(api: Api) -> None:
    work = uploads([api.keys["app"], api.keys["agent"]], 3, (24, 16), seed=5)
    for up, retry in zip(work, ["none", "after", "timeout"], strict=True):
        up.retry = retry
    log = IntakeLog()
    for up in work:
        upload_one(api.client, up, log, path="/claims")
    assert log.unanswered == []
    assert [len(log.answers[u.key]) for u in work] == [1, 2, 2]  # "after" resends; "timeout" retries
    assert Counter(k for k, _, _ in log.calls.items) == {"upload": 3, "replay": 2}
    anomalies = check_intake(api.store, work, log)
    assert anomalies == dict.fromkeys(anomalies, 0)


def test_the_checks_count_a_different_answer_and_a_lost_document(api: Api) -> None:
    [up] = uploads([api.keys["app"]], 1, (24, 16), seed=7)
    up.retry = "none"
    log = IntakeLog()
    upload_one(api.client, up, log, path="/claims")
    first = log.answers[up.key][0]
    log.answers[up.key].append({**first, "status": "different"})
    extra = Upload(up.key, up.api_key, up.form, [*up.files, ("never_sent.jpg", b"x")], "none")
    anomalies = check_intake(api.store, [extra], log)
    assert anomalies["different_answers"] == 1 and anomalies["lost_documents"] == 1
    assert anomalies["duplicate_claims"] == anomalies["lost_claims"] == 0

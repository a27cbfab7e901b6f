"""Idempotency keys: a retry gets the first answer, the same key with another request is refused, a
request in flight makes its retry wait, a dead one is taken over, and a failed one frees its key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from intake.errors import IntakeError
from intake.idempotency import (
    IDEMPOTENCY_KEY,
    STALE_PENDING,
    IdempotencyKeys,
    Reply,
    check_idempotency_key,
    request_hash,
)
from intake.keys import Caller
from pipeline.intake_tables import IdempotencyRow
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store, utcnow

APP = Caller(key_id="0123456789ab", channel="app", name="安康APP", owner="app:安康APP")
AGENT = Caller(key_id="ba9876543210", channel="agent", name="城东营业部", owner="agent:城东营业部")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    s = open_store(Settings(data_dir=tmp_path / "data"))
    yield s
    s.engine.dispose()


def test_a_key_is_required_and_checked() -> None:
    assert check_idempotency_key("  6f1c-uuid:1.a_b ") == "6f1c-uuid:1.a_b"
    assert check_idempotency_key(None, required=False) is None
    assert check_idempotency_key(" ", required=False) is None
    refused = [
        (None, "idempotency_key_missing"),
        ("", "idempotency_key_missing"),
        ("a b", "idempotency_key_invalid"),
        ("x" * 129, "idempotency_key_invalid"),
    ]
    for bad, error in refused:
        with pytest.raises(IntakeError) as caught:
            check_idempotency_key(bad)
        assert (caught.value.error, caught.value.status, caught.value.field) == (
            error,
            400,
            "Idempotency-Key",
        )
    assert IDEMPOTENCY_KEY.match("k" * 128)


def test_the_request_digest_depends_on_the_request_only() -> None:
    assert request_hash({"a": 1, "b": [2, 3]}) == request_hash({"b": [2, 3], "a": 1})
    assert request_hash({"a": 1}) != request_hash({"a": 2})


def test_a_retry_gets_the_stored_answer_and_another_request_with_the_key_is_refused(store: CaseStore) -> None:
    keys = IdempotencyKeys(store)
    assert keys.begin(APP, "k-1", "digest-1", "APP-1") is None  # a fresh key: go ahead
    keys.finish(APP, "k-1", Reply(201, {"claim_id": "APP-1"}, "APP-1"))

    again = keys.begin(APP, "k-1", "digest-1", "APP-1")
    assert again == Reply(201, {"claim_id": "APP-1"}, "APP-1", replayed=True)
    with pytest.raises(IntakeError) as caught:
        keys.begin(APP, "k-1", "digest-2", "APP-1")
    assert (caught.value.error, caught.value.status) == ("idempotency_key_reused", 409)
    assert "claim APP-1" in caught.value.message
    assert keys.begin(AGENT, "k-1", "digest-2", "AGT-1") is None  # keys are per owner


def test_a_request_in_flight_makes_its_retry_wait_and_a_dead_one_is_taken_over(store: CaseStore) -> None:
    keys = IdempotencyKeys(store)
    assert keys.begin(APP, "k-2", "d", "APP-2") is None
    with pytest.raises(IntakeError) as caught:
        keys.begin(APP, "k-2", "d", "APP-2")
    assert (caught.value.error, caught.value.status) == ("request_in_progress", 409)

    with store.session() as s:  # the first try died long ago
        row = s.scalar(select(IdempotencyRow).where(IdempotencyRow.idempotency_key == "k-2"))
        assert row is not None
        row.created_at = utcnow() - STALE_PENDING - dt.timedelta(seconds=5)
    assert keys.begin(APP, "k-2", "d", "APP-2") is None  # this retry finishes it
    with pytest.raises(IntakeError):  # and holds the key now
        keys.begin(APP, "k-2", "d", "APP-2")


def test_an_abandoned_key_is_free_for_a_fresh_start_but_an_answered_one_is_kept(store: CaseStore) -> None:
    keys = IdempotencyKeys(store)
    assert keys.begin(APP, "k-3", "d", "APP-3") is None
    keys.abandon(APP, "k-3")
    assert keys.begin(APP, "k-3", "another request", "APP-3") is None  # nothing remembered

    keys.finish(APP, "k-3", Reply(201, {"ok": True}, "APP-3"))
    keys.abandon(APP, "k-3")  # only a pending key is freed
    replay = keys.begin(APP, "k-3", "another request", "APP-3")
    assert replay is not None and replay.replayed and replay.body == {"ok": True}
    keys.finish(APP, None, Reply(200, {}))  # no key: nothing to keep
    keys.abandon(APP, None)

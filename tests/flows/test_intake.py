"""The intake flow: the claims the API queued, and only those, are taken to an outcome once; a run
with nothing queued does nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers.fake_reading import fake_ocr

from flows.intake import intake_batch
from pipeline.intake_tables import DONE, IntakeClaimRow, queued_claims
from pipeline.records import Claim
from pipeline.settings import Settings
from pipeline.store import open_store

pytestmark = pytest.mark.usefixtures("prefect_harness")

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_queued_claims_are_decided_once_and_others_wait(
    flow_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_ocr(monkeypatch)
    store = open_store(flow_settings)
    data_dir = str(flow_settings.data_dir)
    assert intake_batch(data_dir=data_dir) is None  # an empty queue: no batch
    for cid in ("W1", "W2"):
        store.save_claim(
            Claim(
                claim_id=cid,
                policy_number="P404",
                claimant="张三",
                incident_date=NOW.date(),
                submitted_at=NOW,
            )
        )
    with store.session() as s:
        s.add_all(
            IntakeClaimRow(claim_id=c, owner="app:test", key_id="k1", channel="app") for c in ("W1", "W2")
        )
    result = intake_batch(["W1"], data_dir=data_dir)
    assert result is not None and [c.claim_id for c in result.claims] == ["W1"]
    assert result.claims[0].route != "error" and store.latest_decision_version("W1") == 1
    assert queued_claims(store) == ["W2"]  # not named: still waiting
    with store.session() as s:
        assert s.get(IntakeClaimRow, "W1").status == DONE  # type: ignore[union-attr]
    assert intake_batch(["W1"], data_dir=data_dir) is None  # done: never taken again
    store.engine.dispose()

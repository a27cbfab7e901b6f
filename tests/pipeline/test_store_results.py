"""The stage-result repository used on its own: present means done, per claim, stage and key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from pipeline.records import Adjudication, Claim, Decision
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store
from pipeline.store.results import StageResultRepository


@pytest.fixture
def store(settings: Settings) -> Iterator[CaseStore]:
    s = open_store(settings)
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    s.save_claim(
        Claim(claim_id="C1", policy_number="P1", claimant="张三", incident_date=now.date(), submitted_at=now)
    )
    yield s
    s.engine.dispose()


def _adj(payable: str) -> Adjudication:
    return Adjudication(
        claim_id="C1", decision=Decision.APPROVE, payable=Decimal(payable), rule_set_version="r1"
    )


def test_put_then_get_and_a_second_put_replaces(store: CaseStore) -> None:
    results = StageResultRepository(store)
    assert results.get("C1", "adjudicate", Adjudication) is None
    results.put("C1", "adjudicate", _adj("10.00"))
    results.put("C1", "adjudicate", _adj("12.50"))
    assert results.get("C1", "adjudicate", Adjudication) == _adj("12.50")
    assert results.by_key("C1", "adjudicate", Adjudication) == {"": _adj("12.50")}


def test_a_per_document_stage_has_one_result_per_key(store: CaseStore) -> None:
    results = StageResultRepository(store)
    results.put("C1", "extract", _adj("2.00"), key="doc-b")
    results.put("C1", "extract", _adj("1.00"), key="doc-a")
    assert list(results.by_key("C1", "extract", Adjudication)) == ["doc-a", "doc-b"]
    assert results.get("C1", "extract", Adjudication, key="doc-a") == _adj("1.00")
    assert results.get("C1", "extract", Adjudication) is None  # the claim-level key is another result
    assert results.by_key("C1", "fraud", Adjudication) == {}

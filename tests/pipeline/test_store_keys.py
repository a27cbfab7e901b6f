"""The claim-key repository used on its own: what claims are recognised by, found across the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from helpers.claims import save_claims

from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store
from pipeline.store.keys import ClaimKeyRepository

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(db_settings: Settings) -> Iterator[CaseStore]:
    s = open_store(db_settings)
    save_claims(s, "C1", "C2", at=T0)
    yield s
    s.engine.dispose()


def test_a_shared_key_finds_every_claim_oldest_first(store: CaseStore) -> None:
    keys = ClaimKeyRepository(store)
    later = T0 + dt.timedelta(days=3)
    keys.index("C2", claimant="李四", submitted_at=later, keys=[("invoice", "inv-9", Decimal("120.00"))])
    keys.index(
        "C1",
        claimant="张三",
        submitted_at=T0,
        keys=[("invoice", "inv-9", Decimal("120.00")), ("account", "6222-x", None)],
    )
    found = keys.find("invoice", "inv-9")
    assert [(f["claim_id"], f["claimant"]) for f in found] == [("C1", "张三"), ("C2", "李四")]
    assert found[0]["amount"] == Decimal("120.00")
    (account,) = keys.find("account", "6222-x")
    assert account["claim_id"] == "C1" and account["amount"] is None
    assert keys.find("invoice", "inv-0") == []


def test_indexing_again_or_twice_in_one_list_adds_nothing(store: CaseStore) -> None:
    keys = ClaimKeyRepository(store)
    same = ("invoice", "inv-1", Decimal("5.00"))
    keys.index("C1", claimant="张三", submitted_at=T0, keys=[same, same])
    keys.index("C1", claimant="张三", submitted_at=T0, keys=[same])
    assert len(keys.find("invoice", "inv-1")) == 1

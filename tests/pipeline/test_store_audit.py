"""The audit repository used on its own: events kept in order, read for all claims or one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store
from pipeline.store.audit import AuditRepository


@pytest.fixture
def store(settings: Settings) -> Iterator[CaseStore]:
    s = open_store(settings)
    yield s
    s.engine.dispose()


def test_events_come_back_in_order_for_all_or_one_claim(store: CaseStore) -> None:
    audit = AuditRepository(store)
    assert audit.events() == []
    audit.record("alice", "sign_in")
    audit.record("alice", "view_claim", "C1", {"masked": True})
    audit.record("bob", "decide", "C2", {"action": "deny"})
    events = audit.events()
    assert [(e["actor"], e["action"], e["claim_id"]) for e in events] == [
        ("alice", "sign_in", None),
        ("alice", "view_claim", "C1"),
        ("bob", "decide", "C2"),
    ]
    assert events[0]["detail"] == {} and events[0]["id"] < events[1]["id"] < events[2]["id"]
    assert events[0]["at"] <= events[2]["at"]
    (one,) = audit.events("C1")
    assert one["detail"] == {"masked": True}
    assert audit.events("C9") == []

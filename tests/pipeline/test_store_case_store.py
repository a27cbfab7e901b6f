"""`CaseStore` and `open_store` on their own: the store opened for settings, one transaction per block,
and the flat methods reaching the repositories."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from pipeline.records import Claim
from pipeline.settings import Settings
from pipeline.store.audit import AuditRepository
from pipeline.store.case_store import CaseStore, open_store
from pipeline.store.claims import ClaimRepository
from pipeline.store.files import DocumentFiles

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(settings: Settings) -> Iterator[CaseStore]:
    s = open_store(settings)
    yield s
    s.engine.dispose()


def test_open_store_makes_the_data_dir_and_migrates(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "deep" / "data")
    store = open_store(settings)
    assert settings.data_dir.is_dir() and isinstance(store.files, DocumentFiles)
    assert "claims" in inspect(store.engine).get_table_names()
    assert isinstance(store.claims, ClaimRepository) and isinstance(store.audit_log, AuditRepository)
    store.engine.dispose()


def test_open_store_without_migrating_leaves_the_schema_alone(settings: Settings) -> None:
    store = open_store(settings, migrate_schema=False)
    assert inspect(store.engine).get_table_names() == []
    store.engine.dispose()


def test_a_block_commits_and_an_error_rolls_it_back(store: CaseStore) -> None:
    from pipeline.store import AuditEventRow

    with store.session() as s:
        s.add(AuditEventRow(actor="alice", action="kept", detail={}))
    with pytest.raises(RuntimeError), store.session() as s:
        s.add(AuditEventRow(actor="alice", action="lost", detail={}))
        s.flush()
        raise RuntimeError("crash mid-write")
    assert [e["action"] for e in store.audit_events()] == ["kept"]


def test_the_flat_methods_reach_the_repositories(store: CaseStore) -> None:
    store.start_batch("B1", "/in")
    claim = Claim(
        claim_id="C1", policy_number="P1", claimant="张三", incident_date=NOW.date(), submitted_at=NOW
    )
    store.save_claim(claim, batch_id="B1")
    store.set_claim_status("C1", "ocr_done")
    store.index_claim_keys("C1", claimant="张三", submitted_at=NOW, keys=[("invoice", "i-1", Decimal("3"))])
    store.finish_batch("B1", {"claims": 1})
    assert store.get_batch("B1")["summary"] == {"claims": 1}  # type: ignore[index]
    assert store.claims.status("C1") == store.claim_status("C1") == "ocr_done"
    assert store.list_claims(batch_id="B1") == store.claims.all(batch_id="B1") and store.count_claims() == 1
    assert [k["claim_id"] for k in store.claim_keys.find("invoice", "i-1")] == ["C1"]
    assert store.find_claim_keys("invoice", "i-1") == store.claim_keys.find("invoice", "i-1")
    assert list(store.claim_received_at(["C1"])) == ["C1"]


def test_whatever_wraps_the_stores_session_wraps_the_repositories(store: CaseStore) -> None:
    opened: list[str] = []
    real = store.session

    def counting() -> AbstractContextManager[Session]:
        opened.append("session")
        return real()

    store.session = counting  # type: ignore[method-assign]
    store.count_claims()
    store.audit("alice", "sign_in")
    assert opened == ["session", "session"]

"""The row classes on their own: they map the schema the migrations make, with their defaults."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect

from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store
from pipeline.store.tables import Base, BatchRow, ClaimRow, ReviewTaskRow, utcnow


@pytest.fixture
def store(db_settings: Settings) -> Iterator[CaseStore]:
    s = open_store(db_settings)
    yield s
    s.engine.dispose()


def test_utcnow_is_aware_and_in_utc() -> None:
    now = utcnow()
    assert now.tzinfo is not None and now.utcoffset() == dt.timedelta(0)


def test_every_mapped_column_is_in_the_migrated_schema(store: CaseStore) -> None:
    db = inspect(store.engine)
    tables = set(db.get_table_names())
    for table in Base.metadata.sorted_tables:
        assert table.name in tables, f"{table.name} is mapped but no migration makes it"
        have = {c["name"] for c in db.get_columns(table.name)}
        assert {c.name for c in table.columns} <= have, table.name


def test_a_new_claim_row_gets_its_defaults(store: CaseStore) -> None:
    with store.session() as s:
        s.add(BatchRow(batch_id="B1", source="/in"))
        s.add(ClaimRow(claim_id="C1", batch_id="B1", policy_number="P1", claimant="张三", record={}))
    with store.session() as s:
        row = s.get(ClaimRow, "C1")
        assert row is not None and row.status == "received" and row.version == 1
        assert row.created_at is not None and row.claimant_id_number is None
        batch = s.get(BatchRow, "B1")
        assert batch is not None and batch.summary == {} and batch.finished_at is None
    assert ReviewTaskRow.__tablename__ == "review_tasks"

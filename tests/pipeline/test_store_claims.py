"""The batch and claim repositories used on their own over a migrated store (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from decimal import Decimal

import pytest

from pipeline.records import Claim, DocStatus, DocType, Document
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store
from pipeline.store.claims import BatchRepository, ClaimRepository

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def store(db_settings: Settings) -> Iterator[CaseStore]:
    s = open_store(db_settings)
    yield s
    s.engine.dispose()


def _doc(claim_id: str, data: bytes, name: str) -> Document:
    return Document(
        id=hashlib.sha256(data).hexdigest(),
        claim_id=claim_id,
        filename=name,
        media_type="image/jpeg",
        size_bytes=len(data),
        page_count=1,
    )


def _claim(claim_id: str, *docs: Document) -> Claim:
    return Claim(
        claim_id=claim_id,
        policy_number="P-001",
        claimant="张三",
        incident_date=dt.date(2026, 2, 20),
        submitted_at=NOW,
        amount_claimed=Decimal("88.00"),
        documents=list(docs),
    )


def test_a_batch_starts_once_and_finishes_with_its_summary(store: CaseStore) -> None:
    batches = BatchRepository(store)
    assert batches.get("B1") is None
    batches.start("B1", "/in/B1")
    batches.start("B1", "/elsewhere")  # a re-run keeps the first start
    batches.finish("B1", {"claims": 2})
    got = batches.get("B1")
    assert got is not None and got["source"] == "/in/B1" and got["summary"] == {"claims": 2}
    assert got["finished_at"] is not None and got["finished_at"] >= got["started_at"]
    with pytest.raises(KeyError, match="no batch B9"):
        batches.finish("B9", {})


def test_claims_round_trip_by_batch_and_status(store: CaseStore) -> None:
    claims = ClaimRepository(store)
    a = _claim("C1", _doc("C1", b"a", "invoice.jpg"))
    claims.save(a, batch_id="B1")  # the batch row is made if the batch was never started
    claims.save(_claim("C2"), batch_id="B2")
    claims.save(a, batch_id="B1")  # saving again changes nothing
    assert claims.get("C1") == a and claims.get("nope") is None
    assert claims.count() == 2
    assert [c.claim_id for c in claims.all(batch_id="B1")] == ["C1"]
    assert claims.status("C1") == "received" and claims.status("nope") is None
    claims.set_status("C2", "decided:flash_pay")
    assert [c.claim_id for c in claims.all(status="decided:flash_pay")] == ["C2"]
    assert [c.claim_id for c in claims.all()] == ["C1", "C2"]
    with pytest.raises(KeyError, match="no claim nope"):
        claims.set_status("nope", "x")


def test_one_file_in_two_claims_keeps_each_claims_state(store: CaseStore) -> None:
    claims = ClaimRepository(store)
    doc = _doc("C1", b"same", "id.jpg")
    claims.save(_claim("C1", doc))
    claims.save(
        _claim(
            "C2",
            doc.model_copy(
                update={"claim_id": "C2", "status": DocStatus.QUARANTINED, "problem": "id.jpg: blurred"}
            ),
        )
    )
    claims.set_doc_type("C1", doc.id, DocType.ID_CARD.value)
    one, two = claims.get("C1"), claims.get("C2")
    assert one is not None and two is not None
    assert one.documents[0].doc_type is DocType.ID_CARD and two.documents[0].doc_type is None
    assert two.documents[0].status is DocStatus.QUARANTINED and two.documents[0].problem == "id.jpg: blurred"
    assert one.documents[0].status is DocStatus.STORED and one.documents[0].problem is None


def test_received_at_is_when_a_claim_was_first_stored(store: CaseStore) -> None:
    claims = ClaimRepository(store)
    before = dt.datetime.now(dt.UTC)
    claims.save(_claim("C1"))
    claims.save(_claim("C1"))
    at = claims.received_at(["C1", "nope"])
    assert list(at) == ["C1"] and at["C1"].tzinfo is not None
    assert before - dt.timedelta(seconds=5) <= at["C1"] <= dt.datetime.now(dt.UTC)

"""bench/load.py scaled down: the same people, clients and checks, a few seconds each, on PostgreSQL.

Each test serves `claims serve`'s app on a loopback port (in this process, to spare a second
interpreter's start-up) over a fresh database, runs the load, and asserts that the store shows none
of what must never happen: a claim decided twice, a decision accepted but not kept, an audit trail
that disagrees with what the clients saw, a second claim for one Idempotency-Key, a lost document,
a claim without an outcome, a payment made twice. The full-size runs are `python -m bench.load`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from pathlib import Path

import pytest

from bench import load
from pipeline.records import Claim, DocStatus, Document
from pipeline.settings import Settings
from pipeline.store import open_store

pytestmark = pytest.mark.postgres


def test_adjusters_racing_for_claims_never_decide_one_twice(pg_url: str, tmp_path: Path) -> None:
    report = load.run_review(pg_url, tmp_path, claims=24, adjusters=5, seniors=2, seconds=4, in_process=True)
    assert report["anomalies"] == dict.fromkeys(report["anomalies"], 0), report
    assert report["decisions_accepted"] > 0
    assert report["conflicts"].get("lock", 0) + report["conflicts"].get("decision", 0) > 0  # they raced


def test_concurrent_and_retried_uploads_make_one_claim_each_and_lose_no_document(
    pg_url: str, tmp_path: Path
) -> None:
    report = load.run_intake(
        pg_url, tmp_path, clients=10, per_client=2, size=(48, 32), keys=3, in_process=True
    )
    assert report["anomalies"] == dict.fromkeys(report["anomalies"], 0), report
    assert report["retried"] and report["latency"]["replay"]["n"] > 0  # retries were answered from the store


def test_a_batch_of_hospital_submissions_ends_with_one_outcome_each_and_nothing_paid_twice(
    pg_url: str, tmp_path: Path
) -> None:
    report = load.run_batch(pg_url, tmp_path, claims=16, clients=4, runner="steps", in_process=True)
    assert report["anomalies"] == dict.fromkeys(report["anomalies"], 0), report
    assert report["accepted"] == report["claims"] == sum(report["routes"].values())


def test_the_same_file_stored_for_claims_at_the_same_moment(pg_url: str, tmp_path: Path) -> None:
    """Two claims sending the same bytes at once (a family's ID card): before the fix, every claim but
    the first failed on the documents table's key and its upload answered 500."""
    store = open_store(Settings(data_dir=tmp_path / "data", database_url=pg_url))
    sha = hashlib.sha256(b"one ID card").hexdigest()
    start, errors = threading.Barrier(8), []

    def save(n: int) -> None:
        doc = Document(
            id=sha,
            claim_id=f"F{n}",
            filename="id_card.jpg",
            media_type="image/jpeg",
            size_bytes=11,
            page_count=1,
            status=DocStatus.STORED,
        )
        claim = Claim(
            claim_id=f"F{n}",
            policy_number="P1",
            claimant="张伟",
            incident_date=dt.date(2025, 6, 1),
            submitted_at=dt.datetime.now(dt.UTC),
            documents=[doc],
        )
        start.wait()
        try:
            store.save_claim(claim)
        except Exception as exc:  # any failure is the bug
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(store.get_claim(f"F{n}").documents[0].id == sha for n in range(8))  # type: ignore[union-attr]
    store.engine.dispose()

"""Load part (c)'s pieces, in this process: the hospitals' submissions the synthetic book makes, sent
through the intake app, taken to an outcome by the batch steps, and the checks that would find a
claim lost, made twice or paid twice."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bench.loadtest.hospital import POLICY_COLUMNS, check_batch, hospital_book, process_steps, submission
from intake.app import create_app
from intake.dispatch import QueueDispatcher
from intake.keys import create_key
from intake.schemas import HospitalSubmission
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store
from synth.book import make_book

CLAIMS = 4


@dataclass
class Hospitals:
    client: TestClient
    store: CaseStore
    settings: Settings
    keys: dict[str, str]
    work: list[tuple[str, str, dict[str, Any]]]


@pytest.fixture(scope="module")
def steps() -> None:
    """`process_steps` runs the flows' steps, whose module imports Prefect: once, not in a test's time."""
    import flows.steps  # noqa: F401


@pytest.fixture
def hospitals(tmp_path: Path, steps: None) -> Iterator[Hospitals]:
    """The book's policies as the API's extract, a key per hospital, the intake app: as `run_batch`."""
    policies = tmp_path / "policies.csv"
    work = hospital_book(CLAIMS, 23, policies)
    settings = Settings(data_dir=tmp_path / "data", intake_dispatch="queue", intake_policies=policies)
    store = open_store(settings)
    keys = {
        h: create_key(store, "hospital", h, rate_per_minute=1e6, burst=1_000_000)[0]
        for h in sorted({h for h, _, _ in work})
    }
    client = TestClient(create_app(settings, store=store, dispatcher=QueueDispatcher()))
    yield Hospitals(client, store, settings, keys, work)
    client.close()
    store.engine.dispose()


def test_the_book_gives_valid_submissions_and_writes_their_policies(tmp_path: Path) -> None:
    policies = tmp_path / "policies.csv"
    work = hospital_book(CLAIMS, 23, policies)
    assert len(work) == CLAIMS and len({key for _, key, _ in work}) == CLAIMS
    with policies.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == POLICY_COLUMNS
    assert {body["policy_number"] for _, _, body in work} <= {r["policy_number"] for r in rows}
    for hospital, _, body in work:  # each one the schema the API publishes, from its own hospital
        sub = HospitalSubmission.model_validate(body)
        assert sub.invoice.hospital == hospital
        # the book runs to the end of 2026: only what has happened by now is submitted (the API refuses
        # an incident in the future)
        assert sub.resolved_incident_date() <= dt.date.today(), sub.resolved_incident_date()


def test_a_submission_is_the_first_bill_with_its_fee_categories() -> None:
    truth = next(t for t in make_book(10, 23) if t.bills)
    body = submission(truth)
    bill = truth.bills[0]
    assert body["policy_number"] == truth.row.policy_number and body["claimant"] == truth.row.claimant
    assert body["invoice"]["invoice_number"] == bill.invoice_number
    fees = sum(float(f["amount"]) for f in body["invoice"]["fee_items"])
    assert fees == pytest.approx(float(bill.items_total))


def test_submitted_claims_reach_one_outcome_each_and_nothing_is_paid_twice(hospitals: Hospitals) -> None:
    claims = {}
    for hospital, key, body in hospitals.work:
        headers = {"X-API-Key": hospitals.keys[hospital], "Idempotency-Key": key}
        r = hospitals.client.post("/claims/hospital", headers=headers, json=body)
        assert r.status_code == 201, r.text
        claims[key] = r.json()["claim_id"]
    before, _ = check_batch(hospitals.store, claims)
    assert before["lost_claims"] == 2 * CLAIMS  # no outcome yet, and still queued

    process_steps(hospitals.store, hospitals.settings)
    anomalies, routes = check_batch(hospitals.store, claims)
    assert anomalies == dict.fromkeys(anomalies, 0)
    assert sum(routes.values()) == CLAIMS


def test_the_checks_count_a_claim_nobody_was_answered_for(hospitals: Hospitals) -> None:
    hospital, key, body = hospitals.work[0]
    r = hospitals.client.post(
        "/claims/hospital", headers={"X-API-Key": hospitals.keys[hospital], "Idempotency-Key": key}, json=body
    )
    assert r.status_code == 201, r.text
    process_steps(hospitals.store, hospitals.settings)
    anomalies, _ = check_batch(hospitals.store, {})  # the client never got its answer
    assert anomalies["duplicate_claims"] == 1

"""Claims saved in a store with nothing but what a row needs: for tests of what is kept beside them."""

from __future__ import annotations

import datetime as dt

from pipeline.records import Claim
from pipeline.store import CaseStore


def save_claims(store: CaseStore, *claim_ids: str, at: dt.datetime) -> None:
    """One claim per id on policy P1 by 张三, incident and submission at `at`."""
    for claim_id in claim_ids:
        store.save_claim(
            Claim(
                claim_id=claim_id,
                policy_number="P1",
                claimant="张三",
                incident_date=at.date(),
                submitted_at=at,
            )
        )

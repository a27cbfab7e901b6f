"""Batch KPIs: rates over the decided claims, documents read without a person, processing time."""

from __future__ import annotations

import datetime as dt

from pipeline.kpi import batch_kpis
from pipeline.records import Outcome, Route

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def test_rates() -> None:
    routes = [Route.FLASH_PAY] * 5 + [Route.AUTO_APPROVE] * 2 + [Route.DENY, Route.ADJUSTER, Route.ERROR]
    outs = [Outcome(claim_id=f"C{i}", route=r, decided_at=NOW) for i, r in enumerate(routes)]
    k = batch_kpis(outs, documents=40, documents_needing_person=4, seconds_per_claim=[1.0, 3.0, 2.0])
    assert k.claims == 10
    assert k.flash_pay_rate == 0.5
    assert k.straight_through_rate == 0.8
    assert k.denial_rate == 0.1 and k.referral_rate == 0.1 and k.errors == 1
    assert k.documents_read_without_person == 0.9
    assert k.median_seconds_per_claim == 2.0
    assert k.routes["flash_pay"] == 5 and k.routes["request_info"] == 0
    assert {"figure": "flash-pay rate (闪赔)", "value": "50.0%"} in k.rows()


def test_empty_batch() -> None:
    k = batch_kpis([], documents=0, documents_needing_person=0)
    assert k.claims == 0 and k.flash_pay_rate == 0.0 and k.median_seconds_per_claim is None

"""Batch KPIs: rates over the decided claims, documents read without a person, the claimants' times
(documents complete → decided, submitted → paid or notified) apart from the batch's wall time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pipeline.kpi import batch_kpis, duration, median, p90
from pipeline.records import ClaimTimes, Outcome, Route

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def test_rates() -> None:
    routes = [Route.FLASH_PAY] * 5 + [Route.AUTO_APPROVE] * 2 + [Route.DENY, Route.ADJUSTER, Route.ERROR]
    outs = [Outcome(claim_id=f"C{i}", route=r, decided_at=NOW) for i, r in enumerate(routes)]
    k = batch_kpis(outs, documents=40, documents_needing_person=4)
    assert k.claims == 10
    assert k.flash_pay_rate == 0.5
    assert k.straight_through_rate == 0.8
    assert k.denial_rate == 0.1 and k.referral_rate == 0.1 and k.errors == 1
    assert k.documents_read_without_person == 0.9
    assert k.routes["flash_pay"] == 5 and k.routes["request_info"] == 0
    assert {"figure": "flash-pay rate (闪赔)", "value": "50.0%"} in k.rows()


def _times(cid: str, *, submitted_h: float, complete_s: float, decided_s: float, **kw: object) -> ClaimTimes:
    """A claim submitted `submitted_h` hours before its documents were complete (at NOW + complete_s)."""
    complete = NOW + dt.timedelta(seconds=complete_s)
    decided = NOW + dt.timedelta(seconds=decided_s)
    return ClaimTimes(
        claim_id=cid,
        submitted_at=complete - dt.timedelta(hours=submitted_h),
        documents_complete_at=complete,
        decided_at=decided,
        **kw,  # type: ignore[arg-type]
    )


def test_claim_times_are_the_claimants_and_the_wall_time_is_the_batchs() -> None:
    paid = lambda s: NOW + dt.timedelta(seconds=s)  # noqa: E731
    times = [
        # paid 1 s after its decision: documents → decided 2 s; submitted 1 h before → 3603 s
        _times(
            "A",
            submitted_h=1,
            complete_s=0,
            decided_s=2,
            route=Route.FLASH_PAY,
            payable=Decimal("10"),
            paid_at=paid(3),
        ),
        # denied: the notice closes it; 4 s to decide, submitted 2 h before → 7204 s
        _times("B", submitted_h=2, complete_s=0, decided_s=4, route=Route.DENY, notice_at=paid(4)),
        # approved but its payment held: decided (6 s), not closed
        _times("C", submitted_h=3, complete_s=0, decided_s=6, route=Route.AUTO_APPROVE, payable=Decimal("5")),
        # waiting for an adjuster: neither
        ClaimTimes(claim_id="D", submitted_at=NOW, documents_complete_at=NOW, route=Route.ADJUSTER),
    ]
    k = batch_kpis([], documents=0, documents_needing_person=0, times=times, wall_seconds=339.99)
    assert (k.decided_claims, k.decide_seconds_median, k.decide_seconds_p90) == (3, 4.0, 6.0)
    assert (k.closed_claims, k.close_seconds_median, k.close_seconds_p90) == (2, (3603 + 7204) / 2, 7204.0)
    rows = {r["figure"]: r["value"] for r in k.rows()}
    assert rows["batch wall time"] == "5.7 min"
    assert rows["documents complete → decided, median / P90"] == "4.00 s / 6.00 s (3 claims)"
    assert rows["submitted → paid or notified, median / P90"] == "90.1 min / 2.0 h (2 claims)"
    assert "median processing time per claim" not in rows


def test_median_and_nearest_rank_p90() -> None:
    assert median([]) is None and p90([]) is None
    assert median([3.0, 1.0, 2.0, 10.0]) == 2.5
    assert p90([float(i) for i in range(1, 11)]) == 9.0  # 9 of 10 at or below 9
    assert p90([1.0, 2.0, 3.0, 4.0, 50.0]) == 50.0
    assert p90([float(i) for i in range(1, 21)]) == 18.0
    assert [duration(s) for s in (None, 1.5, 600, 36000, 3 * 86400)] == [
        "-",
        "1.50 s",
        "10.0 min",
        "10.0 h",
        "3.0 d",
    ]


def test_empty_batch() -> None:
    k = batch_kpis([], documents=0, documents_needing_person=0)
    assert k.claims == 0 and k.flash_pay_rate == 0.0 and k.decide_seconds_median is None
    assert {r["figure"]: r["value"] for r in k.rows()}["batch wall time"] == "-"

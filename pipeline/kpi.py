"""The figures claims operations steer by, for a batch or any set of decided claims.

The insurer's own targets (../shared/seed): 70% of eligible claims flash-paid, 50% auto-adjudicated,
20% of documents read without a person. `claims run` prints these and the batch flow publishes them
as a Prefect artifact, from the same function. Times are the claimant's, from each claim's clock
(`ClaimTimes`): documents complete → decided, and submitted → paid or notified; the batch's own wall
time is a figure of its own, never passed off as a claim's. `claims report` (`pipeline.indicators`)
gives the same over any period of the store.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from pipeline.records import ClaimTimes, Outcome, Route

STRAIGHT_THROUGH = {Route.FLASH_PAY, Route.AUTO_APPROVE, Route.DENY}
"""Decided with no person: paid at once, approved by rules and gate, or denied by a fatal rule."""


def median(values: Sequence[float]) -> float | None:
    """The middle value (the mean of the middle two for an even count); None for no values."""
    return statistics.median(values) if values else None


def p90(values: Sequence[float]) -> float | None:
    """The nearest-rank 90th percentile: the smallest value with at least 90% of the values at or
    below it (of 10 values the 9th smallest, of 5 the largest); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def duration(seconds: float | None) -> str:
    """Seconds in the unit a person reads them in: s, min, h or d."""
    if seconds is None:
        return "-"
    if abs(seconds) < 120:
        return f"{seconds:.2f} s"
    if abs(seconds) < 7200:
        return f"{seconds / 60:.1f} min"
    if abs(seconds) < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


class Kpis(BaseModel):
    claims: int
    routes: dict[str, int]
    flash_pay_rate: float
    straight_through_rate: float
    denial_rate: float
    referral_rate: float
    request_info_rate: float
    documents: int
    documents_read_without_person: float
    decided_claims: int = 0
    """Claims with a final decision (pay or deny) and known documents-complete time."""
    decide_seconds_median: float | None = None
    decide_seconds_p90: float | None = None
    """Documents complete → final decision, in seconds."""
    closed_claims: int = 0
    """Claims paid or notified of their final decision."""
    close_seconds_median: float | None = None
    close_seconds_p90: float | None = None
    """Submitted → paid (or notice of a denial), in seconds: what the claimant waited."""
    wall_seconds: float | None = None
    """The batch's wall time, start to end: the run's, not any claim's."""
    errors: int

    def rows(self) -> list[dict[str, str]]:
        """Label/value rows for a table artifact or a terminal table."""
        pct = lambda x: f"{x:.1%}"  # noqa: E731

        def times(med: float | None, p: float | None, n: int) -> str:
            return "-" if med is None else f"{duration(med)} / {duration(p)} ({n} claims)"

        decide = times(self.decide_seconds_median, self.decide_seconds_p90, self.decided_claims)
        close = times(self.close_seconds_median, self.close_seconds_p90, self.closed_claims)
        return [
            {"figure": "claims", "value": str(self.claims)},
            {"figure": "flash-pay rate (闪赔)", "value": pct(self.flash_pay_rate)},
            {"figure": "straight-through rate", "value": pct(self.straight_through_rate)},
            {"figure": "documents read without a person", "value": pct(self.documents_read_without_person)},
            {"figure": "denial rate", "value": pct(self.denial_rate)},
            {"figure": "referral rate (to adjusters)", "value": pct(self.referral_rate)},
            {"figure": "request-info rate (电子照会)", "value": pct(self.request_info_rate)},
            {"figure": "documents complete → decided, median / P90", "value": decide},
            {"figure": "submitted → paid or notified, median / P90", "value": close},
            {"figure": "batch wall time", "value": duration(self.wall_seconds)},
            {"figure": "errors", "value": str(self.errors)},
        ]


def batch_kpis(
    outcomes: Iterable[Outcome],
    *,
    documents: int,
    documents_needing_person: int,
    times: Iterable[ClaimTimes] = (),
    wall_seconds: float | None = None,
) -> Kpis:
    outs = list(outcomes)
    n = len(outs)
    routes = Counter(o.route for o in outs)
    share = lambda k: (k / n) if n else 0.0  # noqa: E731
    clocks = list(times)
    decide = [s for t in clocks if (s := t.seconds("documents_complete_at", "decided_at")) is not None]
    close = [s for t in clocks if (s := t.seconds("submitted_at", "closed_at")) is not None]
    return Kpis(
        claims=n,
        routes={r.value: routes.get(r, 0) for r in Route},
        flash_pay_rate=share(routes[Route.FLASH_PAY]),
        straight_through_rate=share(sum(routes[r] for r in STRAIGHT_THROUGH)),
        denial_rate=share(routes[Route.DENY]),
        referral_rate=share(routes[Route.ADJUSTER]),
        request_info_rate=share(routes[Route.REQUEST_INFO]),
        documents=documents,
        documents_read_without_person=(1 - documents_needing_person / documents) if documents else 0.0,
        decided_claims=len(decide),
        decide_seconds_median=median(decide),
        decide_seconds_p90=p90(decide),
        closed_claims=len(close),
        close_seconds_median=median(close),
        close_seconds_p90=p90(close),
        wall_seconds=wall_seconds,
        errors=routes[Route.ERROR],
    )

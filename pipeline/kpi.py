"""The figures claims operations steer by, for a batch or any set of decided claims.

The insurer's own targets (../shared/seed): 70% of eligible claims flash-paid, 50% auto-adjudicated,
20% of documents read without a person. `claims run` prints these and the batch flow publishes them
as a Prefect artifact, from the same function.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel

from pipeline.records import Outcome, Route

STRAIGHT_THROUGH = {Route.FLASH_PAY, Route.AUTO_APPROVE, Route.DENY}
"""Decided with no person: paid at once, approved by rules and gate, or denied by a fatal rule."""


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
    median_seconds_per_claim: float | None
    errors: int

    def rows(self) -> list[dict[str, str]]:
        """Label/value rows for a table artifact or a terminal table."""
        pct = lambda x: f"{x:.1%}"  # noqa: E731
        median = "-" if self.median_seconds_per_claim is None else f"{self.median_seconds_per_claim:.2f} s"
        return [
            {"figure": "claims", "value": str(self.claims)},
            {"figure": "flash-pay rate (闪赔)", "value": pct(self.flash_pay_rate)},
            {"figure": "straight-through rate", "value": pct(self.straight_through_rate)},
            {"figure": "documents read without a person", "value": pct(self.documents_read_without_person)},
            {"figure": "denial rate", "value": pct(self.denial_rate)},
            {"figure": "referral rate (to adjusters)", "value": pct(self.referral_rate)},
            {"figure": "request-info rate (电子照会)", "value": pct(self.request_info_rate)},
            {"figure": "median processing time per claim", "value": median},
            {"figure": "errors", "value": str(self.errors)},
        ]


def batch_kpis(
    outcomes: Iterable[Outcome],
    *,
    documents: int,
    documents_needing_person: int,
    seconds_per_claim: Iterable[float] = (),
) -> Kpis:
    outs = list(outcomes)
    n = len(outs)
    routes = Counter(o.route for o in outs)
    share = lambda k: (k / n) if n else 0.0  # noqa: E731
    secs = list(seconds_per_claim)
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
        median_seconds_per_claim=statistics.median(secs) if secs else None,
        errors=routes[Route.ERROR],
    )

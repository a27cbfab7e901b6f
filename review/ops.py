"""Claims operations' page: recent batches, outcome rates, and how the rates move over time.

Figures come from the decisions table (every outcome, batch and adjusters' alike), the batches'
KPI summaries the batch flow writes, and the review tasks. The plot is an inline SVG drawn here:
no plotting library in the request path, no image file, nothing for the browser to fetch. The
service indicators of the last 30 days are `claims report`'s own (`pipeline.indicators`), with a
link to its full page.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from pipeline.decisions import PROCESSING_ERROR
from pipeline.indicators import Report, from_store, last_days
from pipeline.reasons import read_reasons
from pipeline.records import Route
from pipeline.report_html import misses, target_text
from pipeline.settings import ServiceTargets
from pipeline.store import BatchRow, CaseStore, ClaimRow, DecisionRow, ReviewTaskRow, utcnow

TZ = ZoneInfo("Asia/Shanghai")
COLOURS = {
    Route.FLASH_PAY.value: "#1b9e77",
    Route.AUTO_APPROVE.value: "#66a61e",
    Route.DENY.value: "#d95f02",
    Route.REQUEST_INFO.value: "#7570b3",
    Route.ADJUSTER.value: "#e7298a",
    Route.ERROR.value: "#666666",
}


@dataclass
class BatchLine:
    batch_id: str
    source: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    claims: int | None
    kpis: dict[str, Any]


@dataclass
class Rate:
    route: str
    count: int
    share: float
    colour: str


def recent_batches(store: CaseStore, limit: int = 20) -> list[BatchLine]:
    with store.session() as s:
        rows = s.scalars(select(BatchRow).order_by(BatchRow.started_at.desc()).limit(limit)).all()
        counts = dict(
            s.execute(
                select(ClaimRow.batch_id, func.count())
                .where(ClaimRow.batch_id.in_([r.batch_id for r in rows]))
                .group_by(ClaimRow.batch_id)
            ).all()
        )
    return [
        BatchLine(
            batch_id=r.batch_id,
            source=Path(r.source).name if r.source else "",
            started_at=r.started_at,
            finished_at=r.finished_at,
            claims=counts.get(r.batch_id),
            kpis=(r.summary or {}).get("kpis") or {},
        )
        for r in rows
    ]


def _latest_outcomes(store: CaseStore) -> list[tuple[str, str, Decimal]]:
    """(claim, route, payable) of each claim's latest decision."""
    with store.session() as s:
        last = (
            select(DecisionRow.claim_id, func.max(DecisionRow.decision_version).label("v"))
            .group_by(DecisionRow.claim_id)
            .subquery()
        )
        return [
            (c, r, p)
            for c, r, p in s.execute(
                select(DecisionRow.claim_id, DecisionRow.route, DecisionRow.payable).join(
                    last,
                    (DecisionRow.claim_id == last.c.claim_id) & (DecisionRow.decision_version == last.c.v),
                )
            )
        ]


def outcome_rates(store: CaseStore) -> tuple[list[Rate], int, Decimal]:
    """Share of claims by where they stand now (latest decision), the number of claims, the sum payable."""
    rows = _latest_outcomes(store)
    counts = Counter(r for _, r, _ in rows)
    n = len(rows)
    rates = [
        Rate(
            route=r.value,
            count=counts.get(r.value, 0),
            share=counts.get(r.value, 0) / n if n else 0.0,
            colour=COLOURS[r.value],
        )
        for r in Route
    ]
    return rates, n, sum((p for _, _, p in rows), Decimal("0.00"))


def review_backlog(store: CaseStore, now: dt.datetime | None = None) -> dict[str, int]:
    """Open, awaiting a second approval, overdue, and decided review tasks, with the adjusters' actions;
    `processing_error`: waiting claims whose processing failed (fixed and re-run, they leave the queue)."""
    now = now or utcnow()
    out: dict[str, int] = Counter()
    with store.session() as s:
        for status, due, decision, reasons in s.execute(
            select(ReviewTaskRow.status, ReviewTaskRow.due_at, ReviewTaskRow.decision, ReviewTaskRow.reasons)
        ):
            out[status] += 1
            waiting = status in ("open", "awaiting_approval")
            if waiting and any(r.code == PROCESSING_ERROR for r in read_reasons(reasons)):
                out["processing_error"] += 1
            if waiting and due is not None and (due if due.tzinfo else due.replace(tzinfo=dt.UTC)) < now:
                out["overdue"] += 1
            if status == "done" and decision:
                out[f"decided_{decision.get('action')}"] += 1
    return dict(out)


def rates_over_time(store: CaseStore) -> tuple[str, list[tuple[dt.datetime, dict[str, float], int]]]:
    """Routing shares per period (the batch's first decision of each claim, by when it was made):
    by day, or by hour when everything happened within two days."""
    with store.session() as s:
        rows = s.execute(
            select(DecisionRow.decided_at, DecisionRow.route).where(DecisionRow.decision_version == 1)
        ).all()
    if not rows:
        return "day", []
    times = [(t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(TZ) for t, _ in rows]
    hourly = max(times) - min(times) < dt.timedelta(days=2)
    buckets: dict[dt.datetime, Counter[str]] = defaultdict(Counter)
    for t, (_, route) in zip(times, rows, strict=True):
        start = t.replace(minute=0, second=0, microsecond=0)
        if not hourly:
            start = start.replace(hour=0)
        buckets[start][route] += 1
    series = []
    for start in sorted(buckets):
        c = buckets[start]
        n = sum(c.values())
        series.append((start, {r.value: c.get(r.value, 0) / n for r in Route}, n))
    return ("hour" if hourly else "day"), series


def rates_svg(
    series: list[tuple[dt.datetime, dict[str, float], int]], unit: str, width: int = 760, height: int = 280
) -> str:
    """Lines of each route's share per period, 0-100 %, with a legend; an SVG element as text."""
    left, right, top, bottom = 48, 150, 14, 36
    pw, ph = width - left - right, height - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="outcome rates per {unit}">'
    ]
    for pct in (0, 25, 50, 75, 100):
        y = top + ph * (1 - pct / 100)
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{pct}%</text>')
    if not series:
        parts.append(
            f'<text x="{left + pw / 2}" y="{top + ph / 2}" text-anchor="middle">no decisions yet</text>'
        )
        return "".join(parts) + "</svg>"
    t0, t1 = series[0][0], series[-1][0]
    span = (t1 - t0).total_seconds() or 1.0

    def x(t: dt.datetime) -> float:
        return left + (pw / 2 if t0 == t1 else pw * (t - t0).total_seconds() / span)

    fmt = "%m-%d %H:00" if unit == "hour" else "%Y-%m-%d"
    for t in dict.fromkeys([series[0][0], series[len(series) // 2][0], series[-1][0]]):
        label = t.strftime(fmt)
        parts.append(
            f'<text x="{x(t):.1f}" y="{top + ph + 20}" text-anchor="middle" font-size="11">{label}</text>'
        )
    for i, route in enumerate(r.value for r in Route):
        colour = COLOURS[route]
        pts = [(x(t), top + ph * (1 - shares[route])) for t, shares, _ in series]
        if len(pts) > 1:
            d = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{d}"/>')
        for (a, b), (t, shares, n) in zip(pts, series, strict=True):
            tip = escape(f"{t.strftime(fmt)} {route}: {shares[route]:.0%} of {n}")
            parts.append(
                f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{colour}"><title>{tip}</title></circle>'
            )
        ly = top + 14 + i * 18
        parts.append(f'<rect x="{left + pw + 16}" y="{ly - 9}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{left + pw + 34}" y="{ly + 1}" font-size="12">{escape(route)}</text>')
    return "".join(parts) + "</svg>"


SERVICE_DAYS = 30


@dataclass
class ServiceRow:
    key: str
    name: str
    text: str
    target: str
    miss: bool
    definition: str


def service_last_days(
    store: CaseStore, targets: ServiceTargets, now: dt.datetime | None = None, days: int = SERVICE_DAYS
) -> tuple[Report, list[ServiceRow]]:
    """The service indicators over the claims decided in the last `days` Beijing calendar days, today
    included, as `claims report --from ... --to ...` gives them; and their rows for the page."""
    report, _ = from_store(store, *last_days(days, now), targets=targets)
    rows = [
        ServiceRow(
            key=ind.key,
            name=ind.name,
            text=report.groups[0].figure(ind.key).text,
            target=target_text(ind),
            miss=misses(ind, report.groups[0].figure(ind.key).value),
            definition=ind.definition,
        )
        for ind in report.indicators
    ]
    return report, rows

"""The regulator's and the insurer's service indicators over closed claims, each with its definition.

The regulator's service evaluation (服务评价体系, the insurer's plan quotes it: ../shared/seed) scores
理赔服务时效 (claim service time: 申请支付时效 and 出险支付时效) and 理赔获赔率 (the share of closed
claims paid); the insurer's plan sets its own targets for 闪付通过率 (70% of eligible claims
flash-paid), 理赔自核通过率 (50% closed with no person) and 单据智能识别率 (20% of documents read
with no person), and asks the claimant to rate the service (理赔服务打分). The Insurance Law adds two
clocks: a complex claim decided within 30 days (保险法 art. 23), a denial notified within 3 days of
the decision (art. 24).

Every figure is computed here from `ClaimLine`s (`pipeline.claim_lines`), pure and by hand
checkable: shares are counts over counts, times are the median and the nearest-rank P90
(`pipeline.kpi`) in days. `claims report` prints them, the review app's operations page shows the
last 30 days, and `pipeline.report_html` draws them over time against the plan's targets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from pipeline.claim_lines import ClaimLine, closed_between
from pipeline.kpi import median, p90
from pipeline.manifest import CHINA_TZ
from pipeline.records import Complexity, Route
from pipeline.settings import ServiceTargets
from pipeline.store import CaseStore

Unit = Literal["days", "share", "count", "rating"]
GROUPINGS = ("product", "channel", "month")
"""What `claims report --by` groups claims by."""
COMPLEX_DECISION_DAYS = 30
"""保险法 art. 23: a complex claim is decided within 30 days of its complete documents."""
DENIAL_NOTICE_DAYS = 3
"""保险法 art. 24: a denial is notified within 3 days of the decision."""
DAY = 86400.0


class Indicator(BaseModel):
    """What one figure is: its name, unit, definition and the target it is held against."""

    key: str
    name: str
    unit: Unit
    definition: str
    target: float | None = None
    target_source: str | None = None


class Figure(BaseModel):
    """One indicator's value over a set of claims: `value` None when no claim measures it."""

    key: str
    value: float | None
    count: int
    """The claims (or documents) the value counts: the numerator of a share, the sample of a time."""
    of: int
    """What it is counted among: the denominator of a share, the claims a time could be taken on."""
    text: str


class Group(BaseModel):
    """The figures of one group of claims (all of them, one product, one channel, one month)."""

    name: str
    claims: int
    figures: list[Figure]

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


class Report(BaseModel):
    """A period's indicators: every claim, then each group `by` asks for."""

    start: dt.date
    end: dt.date
    by: str | None
    indicators: list[Indicator]
    groups: list[Group]

    @property
    def empty(self) -> bool:
        return not self.groups or self.groups[0].claims == 0


Series = tuple[str, list[tuple[dt.date, Group]]]
"""A report's figures over time: the bucket (day, week, month) and each bucket's figures."""


PLAN = "the insurer's plan (2019)"
LAW = "the Insurance Law: none"
CLOSED = "claims closed in the period (latest final decision: paid or denied)"
ANSWER = "payment (claims paid) or the notice (denials, decisions paying nothing)"
DEFINITIONS: tuple[Indicator, ...] = (
    Indicator(
        key="service_days_median",
        name="理赔服务时效 claim service time, median (days)",
        unit="days",
        definition=f"median days from complete documents to {ANSWER}, over {CLOSED}",
    ),
    Indicator(
        key="service_days_p90",
        name="理赔服务时效 claim service time, P90 (days)",
        unit="days",
        definition="nearest-rank 90th percentile of the same days: 9 claims in 10 were answered sooner"
        " or as soon",
    ),
    Indicator(
        key="application_days_median",
        name="申请支付时效 submission to payment, median (days)",
        unit="days",
        definition=f"median days from the claimant's submission to {ANSWER}",
    ),
    Indicator(
        key="application_days_p90",
        name="申请支付时效 submission to payment, P90 (days)",
        unit="days",
        definition="nearest-rank 90th percentile of the same days",
    ),
    Indicator(
        key="incident_days_median",
        name="出险支付时效 incident to payment, median (days)",
        unit="days",
        definition=f"median days from the incident date (00:00 Beijing time) to {ANSWER}",
    ),
    Indicator(
        key="paid_share",
        name="获赔率 claims paid, by count",
        unit="share",
        definition=f"claims whose final decision pays more than 0 yuan ÷ {CLOSED}",
    ),
    Indicator(
        key="paid_amount_share",
        name="获赔率 claims paid, by amount",
        unit="share",
        definition="yuan paid ÷ yuan claimed (invoices read, else the amount on the claim) on the closed"
        " claims whose claimed amount is known",
    ),
    Indicator(
        key="flash_pay_share",
        name="闪付通过率 flash-pay share of eligible claims",
        unit="share",
        definition="claims flash-paid (闪赔闪付) ÷ closed claims triage found eligible (simple: small,"
        " outpatient, clean documents)",
    ),
    Indicator(
        key="straight_through_share",
        name="理赔自核通过率 straight-through share",
        unit="share",
        definition="closed claims no person decided nor was asked to (no adjuster, no processing"
        " error, no reopen) ÷ closed claims",
    ),
    Indicator(
        key="documents_without_person",
        name="单据智能识别率 documents read without a person",
        unit="share",
        definition="documents of closed claims read and not flagged for a person's review ÷ their documents",
    ),
    Indicator(
        key="request_info_share",
        name="电子照会率 request-for-information share",
        unit="share",
        definition="closed claims asked at least once for documents ÷ closed claims",
    ),
    Indicator(
        key="request_info_days_median",
        name="照会回复时效 request-for-information turnaround, median (days)",
        unit="days",
        definition="median days from a claim's first request for documents to its documents complete"
        " (the claimant's answer), over the closed claims asked",
    ),
    Indicator(
        key="denial_share",
        name="拒赔率 denial share",
        unit="share",
        definition="closed claims denied ÷ closed claims",
    ),
    Indicator(
        key="complex_clock_breaches",
        name="30-day decision clock breached (complex claims)",
        unit="count",
        definition=f"complex claims decided more than {COMPLEX_DECISION_DAYS} days after their documents"
        " were complete (保险法 art. 23), of the closed complex claims",
        target=0,
        target_source=LAW,
    ),
    Indicator(
        key="denial_notice_breaches",
        name="3-day denial notice clock breached",
        unit="count",
        definition=f"denials notified more than {DENIAL_NOTICE_DAYS} days after the decision (保险法"
        " art. 24), of the denials",
        target=0,
        target_source=LAW,
    ),
    Indicator(
        key="rating_average",
        name="理赔服务打分 service rating, average (1-5)",
        unit="rating",
        definition="mean of the ratings claimants gave closed claims through the app or an agent"
        " (POST /claims/{id}/rating), of the claims rated",
    ),
    Indicator(
        key="fraud_alerts",
        name="欺诈预警 fraud alerts",
        unit="count",
        definition="closed claims a decision flagged for fraud (FRAUD_SUSPECTED, or a high or medium"
        " fraud score), of the closed claims",
    ),
    Indicator(
        key="fraud_confirmed_share",
        name="欺诈预警确认率 fraud alerts confirmed",
        unit="share",
        definition="alerts whose claim ended denied ÷ alerts (the review app records no separate"
        " fraud finding: a denial is the confirmation)",
    ),
)
"""Every indicator, in the order a report prints them; the plan's targets come from the settings."""
PLAN_TARGETS = tuple(ServiceTargets.model_fields)
"""The indicators the insurer's plan sets a target for: `ServiceTargets`' fields, by key."""


def indicators(targets: ServiceTargets | None = None) -> list[Indicator]:
    """Every indicator with its definition, and the plan's targets as `targets` (the settings') set them."""
    t = targets or ServiceTargets()
    return [
        i.model_copy(update={"target": getattr(t, i.key), "target_source": PLAN})
        if i.key in PLAN_TARGETS
        else i
        for i in DEFINITIONS
    ]


# --- figures ---------------------------------------------------------------------------------------


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _share(key: str, count: int, of: int) -> Figure:
    value = count / of if of else None
    text = "-" if value is None else f"{value:.1%} ({count} of {of})"
    return Figure(key=key, value=value, count=count, of=of, text=text)


def days_text(days: float | None) -> str:
    """Days as a person reads them: hours under a day."""
    if days is None:
        return "-"
    return f"{days * 24:.1f} h" if abs(days) < 1 else f"{days:.1f} d"


def _days(
    key: str, values: Sequence[float], of: int, pick: Callable[[Sequence[float]], float | None]
) -> Figure:
    value = pick(values)
    text = "-" if value is None else f"{days_text(value)} ({_plural(len(values), 'claim')})"
    return Figure(key=key, value=value, count=len(values), of=of, text=text)


def _between(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds() / DAY


def _incident(line: ClaimLine) -> dt.datetime | None:
    if line.incident_date is None:
        return None
    return dt.datetime.combine(line.incident_date, dt.time(), tzinfo=CHINA_TZ)


def figures(lines: Sequence[ClaimLine]) -> list[Figure]:
    """Every indicator's figure over these claims, in `indicators()` order."""
    n = len(lines)
    service = [d for x in lines if (d := _between(x.documents_complete_at, x.closed_at)) is not None]
    application = [d for x in lines if (d := _between(x.submitted_at, x.closed_at)) is not None]
    incident = [d for x in lines if (d := _between(_incident(x), x.closed_at)) is not None]
    known = [x for x in lines if x.claimed is not None and x.claimed > 0]
    claimed = sum((x.claimed for x in known if x.claimed is not None), Decimal(0))
    paid_amount = sum((x.payable for x in known if x.paid), Decimal(0))
    eligible = [x for x in lines if x.flash_pay_eligible]
    documents = sum(x.documents for x in lines)
    asked = [x for x in lines if x.first_request_at is not None]
    answered = [
        d
        for x in asked
        if (d := _between(x.first_request_at, x.documents_complete_at)) is not None and d >= 0
    ]
    complex_ = [
        d
        for x in lines
        if x.complexity is Complexity.COMPLEX
        and (d := _between(x.documents_complete_at, x.decided_at)) is not None
    ]
    denials = [x for x in lines if x.route is Route.DENY]
    late = [
        x
        for x in denials
        if (d := _between(x.decided_at, x.notice_at)) is not None and d > DENIAL_NOTICE_DAYS
    ]
    ratings = [x.rating for x in lines if x.rating is not None]
    alerts = [x for x in lines if x.fraud_alert]
    amount = Figure(
        key="paid_amount_share",
        value=float(paid_amount / claimed) if claimed else None,
        count=len(known),
        of=n,
        text=f"{float(paid_amount / claimed):.1%} ({paid_amount:,.2f} of {claimed:,.2f} yuan)"
        if claimed
        else "-",
    )
    rating = Figure(
        key="rating_average",
        value=sum(ratings) / len(ratings) if ratings else None,
        count=len(ratings),
        of=n,
        text=f"{sum(ratings) / len(ratings):.2f} ({_plural(len(ratings), 'rating')})"
        if ratings
        else "no ratings recorded",
    )
    return [
        _days("service_days_median", service, n, median),
        _days("service_days_p90", service, n, p90),
        _days("application_days_median", application, n, median),
        _days("application_days_p90", application, n, p90),
        _days("incident_days_median", incident, n, median),
        _share("paid_share", sum(1 for x in lines if x.paid), n),
        amount,
        _share("flash_pay_share", sum(1 for x in eligible if x.route is Route.FLASH_PAY), len(eligible)),
        _share("straight_through_share", sum(1 for x in lines if not x.by_person), n),
        _share(
            "documents_without_person", documents - sum(x.documents_needing_person for x in lines), documents
        ),
        _share("request_info_share", len(asked), n),
        _days("request_info_days_median", answered, len(asked), median),
        _share("denial_share", len(denials), n),
        _count(
            "complex_clock_breaches", sum(1 for d in complex_ if d > COMPLEX_DECISION_DAYS), len(complex_)
        ),
        _count("denial_notice_breaches", len(late), len(denials)),
        rating,
        _count("fraud_alerts", len(alerts), n),
        _share("fraud_confirmed_share", sum(1 for x in alerts if x.route is Route.DENY), len(alerts)),
    ]


def _count(key: str, count: int, of: int) -> Figure:
    return Figure(key=key, value=float(count), count=count, of=of, text=f"{count} of {of}")


# --- groups and periods ----------------------------------------------------------------------------


def local_day(t: dt.datetime) -> dt.date:
    """The calendar day in Beijing time."""
    return t.astimezone(CHINA_TZ).date()


def group_key(by: str) -> Callable[[ClaimLine], str]:
    """How `--by` names a claim's group; a one-line error naming the choices for anything else."""
    if by == "product":
        return lambda x: x.product or "unknown product"
    if by == "channel":
        return lambda x: x.channel or "unknown channel"
    if by == "month":
        return lambda x: local_day(x.decided_at).strftime("%Y-%m")
    raise ValueError(f"--by {by!r}: not a grouping; choose one of {', '.join(GROUPINGS)}")


def report(
    lines: Iterable[ClaimLine],
    start: dt.date,
    end: dt.date,
    *,
    by: str | None = None,
    targets: ServiceTargets | None = None,
) -> Report:
    """The period's figures over every claim, then per group (sorted by name) when `by` is given."""
    key = group_key(by) if by is not None else None
    rows = list(lines)
    groups = [Group(name="all", claims=len(rows), figures=figures(rows))]
    if key is not None:
        grouped: dict[str, list[ClaimLine]] = {}
        for x in rows:
            grouped.setdefault(key(x), []).append(x)
        groups += [Group(name=g, claims=len(v), figures=figures(v)) for g, v in sorted(grouped.items())]
    return Report(start=start, end=end, by=by, indicators=indicators(targets), groups=groups)


def parse_day(value: str, name: str) -> dt.date:
    """A day as YYYY-MM-DD; a one-line error naming the argument otherwise."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r}: not a date; write it as YYYY-MM-DD") from None


def last_days(days: int, now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The last `days` Beijing calendar days, today included."""
    end = local_day(now or dt.datetime.now(dt.UTC))
    return end - dt.timedelta(days=days - 1), end


def period(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants a period of Beijing calendar days covers: [start 00:00, the day after end 00:00)."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    first = dt.datetime.combine(start, dt.time(), tzinfo=CHINA_TZ)
    return first, dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=CHINA_TZ)


def step_for(start: dt.date, end: dt.date) -> str:
    """The buckets a period is plotted in: days up to two months, weeks up to a year, else months."""
    days = (end - start).days + 1
    return "day" if days <= 62 else "week" if days <= 366 else "month"


def bucket(day: dt.date, step: str) -> dt.date:
    """The first day of the bucket `day` falls in."""
    if step == "week":
        return day - dt.timedelta(days=day.weekday())
    if step == "month":
        return day.replace(day=1)
    return day


def over_time(lines: Iterable[ClaimLine], start: dt.date, end: dt.date) -> Series:
    """The figures per day, week or month of the period (by decision day); buckets without claims are
    left out."""
    step = step_for(start, end)
    buckets: dict[dt.date, list[ClaimLine]] = {}
    for x in lines:
        buckets.setdefault(bucket(local_day(x.decided_at), step), []).append(x)
    return step, [
        (b, Group(name=b.isoformat(), claims=len(v), figures=figures(v))) for b, v in sorted(buckets.items())
    ]


def from_store(
    store: CaseStore,
    start: dt.date,
    end: dt.date,
    *,
    by: str | None = None,
    targets: ServiceTargets | None = None,
) -> tuple[Report, Series]:
    """The report over the claims the store closed in these Beijing calendar days, and its series."""
    if by is not None:
        group_key(by)  # a bad grouping fails before any query
    lines = closed_between(store, *period(start, end))
    return report(lines, start, end, by=by, targets=targets), over_time(lines, start, end)

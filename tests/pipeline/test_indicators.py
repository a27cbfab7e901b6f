"""The service indicators computed by hand on the small store of `helpers.service` (times known to the
minute: paid, denied, asked for documents, clocks breached) and compared, figure by figure, with what
`claims report` computes; grouping, periods and the one-line errors."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers.service import build_service_store

from pipeline.indicators import (
    GROUPINGS,
    days_text,
    figures,
    from_store,
    group_key,
    indicators,
    last_days,
    parse_day,
    period,
    step_for,
)
from pipeline.settings import ServiceTargets, Settings
from pipeline.store import CaseStore, open_store

MARCH, APRIL_END = dt.date(2026, 3, 1), dt.date(2026, 4, 30)
MIN, HOUR = 1 / 1440, 1 / 24


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> CaseStore:
    s = open_store(Settings(data_dir=tmp_path_factory.mktemp("service") / "data"))
    build_service_store(s)
    return s


def _values(group: object) -> dict[str, float | None]:
    return {f.key: f.value for f in group.figures}  # type: ignore[attr-defined]


def test_every_figure_by_hand(store: CaseStore) -> None:
    report, _ = from_store(store, MARCH, APRIL_END)
    (everything,) = report.groups
    assert everything.claims == 7  # X1 closed in February, O1 waits for an adjuster
    v = _values(everything)
    # documents complete → paid or notified, in days; H1's payment is held, so it is not answered yet
    service = sorted([10 * MIN, 1 + HOUR, 40 + 2 * HOUR, 5 * MIN, 15.0, 2 * HOUR])
    assert v["service_days_median"] == pytest.approx((service[2] + service[3]) / 2)  # 13.5 h
    assert v["service_days_p90"] == pytest.approx(40 + 2 * HOUR)  # nearest rank: the 6th of 6
    # submitted → paid or notified: P1 was submitted 2 h before its documents were complete, the
    # others a day before, and R1's documents were complete three days after receipt
    application = sorted([2 * HOUR + 10 * MIN, 2 + HOUR, 41 + 2 * HOUR, 1 + 5 * MIN, 16.0, 4 + 2 * HOUR])
    assert v["application_days_median"] == pytest.approx((application[2] + application[3]) / 2)
    assert v["application_days_p90"] == pytest.approx(41 + 2 * HOUR)
    # the incident, 2026-02-27 00:00 Beijing, is 3 d 9 h before T0; to each claim's answer
    before = 3 + 9 * HOUR
    incident = sorted(before + d for d in [10 * MIN, 1 + HOUR, 40 + 2 * HOUR, 5 * MIN, 15.0, 3 + 2 * HOUR])
    assert v["incident_days_median"] == pytest.approx((incident[2] + incident[3]) / 2)  # P2 and R1
    assert v["paid_share"] == pytest.approx(5 / 7)  # P1 P2 P3 R1 H1 pay; D1 D2 deny
    assert v["paid_amount_share"] == pytest.approx(21800 / 40450)  # P3 claimed 30,000 on its invoices
    assert v["flash_pay_share"] == pytest.approx(1 / 2)  # P1 of P1 and D1, the simple ones
    assert v["straight_through_share"] == pytest.approx(5 / 7)  # not P3 nor D2 (adjusters)
    assert v["documents_without_person"] == pytest.approx(10 / 13)  # P2, P3 flagged one; P3 one unread
    assert v["request_info_share"] == pytest.approx(1 / 7)
    assert v["request_info_days_median"] == pytest.approx(3 - HOUR)  # asked T0+1h, answered T0+3d
    assert v["denial_share"] == pytest.approx(2 / 7)
    assert v["complex_clock_breaches"] == 1  # P3 decided 40 d after; D2 10 d
    assert v["denial_notice_breaches"] == 1  # D2 notified 5 d after the adjuster denied it
    assert v["rating_average"] == pytest.approx(3.5)
    assert v["fraud_alerts"] == 2 and v["fraud_confirmed_share"] == pytest.approx(1 / 2)


def test_the_texts_say_what_was_counted(store: CaseStore) -> None:
    report, _ = from_store(store, MARCH, APRIL_END)
    text = {f.key: f.text for f in report.groups[0].figures}
    assert text["service_days_median"] == "13.5 h (6 claims)"
    assert text["paid_amount_share"] == "53.9% (21,800.00 of 40,450.00 yuan)"
    assert text["complex_clock_breaches"] == "1 of 2" and text["denial_notice_breaches"] == "1 of 2"
    assert text["request_info_days_median"] == "3.0 d (1 claim)"
    assert text["rating_average"] == "3.50 (2 ratings)"


def test_by_product_channel_and_month(store: CaseStore) -> None:
    by_product, _ = from_store(store, MARCH, APRIL_END, by="product")
    assert [(g.name, g.claims) for g in by_product.groups] == [("all", 7), ("IP-PLUS", 2), ("OP-BASIC", 5)]
    ip = _values(by_product.groups[1])
    assert ip["straight_through_share"] == 0.0 and ip["flash_pay_share"] is None  # none eligible
    assert ip["rating_average"] is None and by_product.groups[1].figure("rating_average").text == (
        "no ratings recorded"
    )
    by_channel, _ = from_store(store, MARCH, APRIL_END, by="channel")
    assert [(g.name, g.claims) for g in by_channel.groups][1:] == [("agent", 2), ("app", 3), ("batch", 2)]
    by_month, _ = from_store(store, MARCH, APRIL_END, by="month")
    assert [(g.name, g.claims) for g in by_month.groups][1:] == [("2026-03", 6), ("2026-04", 1)]


def test_the_period_is_by_decision_day_in_beijing(store: CaseStore) -> None:
    only_p3, _ = from_store(store, dt.date(2026, 4, 11), dt.date(2026, 4, 11))
    assert only_p3.groups[0].claims == 1
    february, _ = from_store(store, dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert february.groups[0].claims == 1 and february.groups[0].figure("flash_pay_share").value == 1.0
    nothing, series = from_store(store, dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert nothing.empty and series == ("day", [])
    start, end = period(dt.date(2026, 3, 1), dt.date(2026, 3, 1))
    assert (end - start) == dt.timedelta(days=1) and start.utcoffset() == dt.timedelta(hours=8)


def test_over_time_buckets_by_the_periods_length(store: CaseStore) -> None:
    _, (step, buckets) = from_store(store, MARCH, APRIL_END)
    assert step == "day"
    assert [(d.isoformat(), g.claims) for d, g in buckets] == [
        ("2026-03-02", 3),  # P1, D1, H1
        ("2026-03-03", 1),  # P2
        ("2026-03-05", 1),  # R1
        ("2026-03-12", 1),  # D2, denied by the adjuster 10 days on
        ("2026-04-11", 1),  # P3
    ]
    assert buckets[0][1].figure("flash_pay_share").value == 0.5
    assert (
        step_for(MARCH, dt.date(2026, 5, 1)) == "day"
        and step_for(MARCH, dt.date(2026, 5, 2)) == "week"
        and step_for(MARCH, dt.date(2026, 12, 31)) == "week"
    )
    assert step_for(dt.date(2024, 1, 1), dt.date(2026, 1, 1)) == "month"


def test_empty_figures_and_bad_input() -> None:
    empty = {f.key: f.text for f in figures([])}
    assert empty["paid_share"] == "-" and empty["rating_average"] == "no ratings recorded"
    with pytest.raises(
        ValueError, match="--by 'region': not a grouping; choose one of product, channel, month"
    ):
        group_key("region")
    assert GROUPINGS == ("product", "channel", "month")
    with pytest.raises(ValueError, match="--from '2026-02-30': not a date"):
        parse_day("2026-02-30", "--from")
    with pytest.raises(ValueError, match="is before"):
        period(dt.date(2026, 3, 2), dt.date(2026, 3, 1))
    first, last = last_days(30, dt.datetime(2026, 3, 31, 17, 0, tzinfo=dt.UTC))  # 01:00 on 1 April, Beijing
    assert (first, last) == (dt.date(2026, 3, 3), dt.date(2026, 4, 1))
    assert days_text(0.5) == "12.0 h" and days_text(2.25) == "2.2 d" and days_text(None) == "-"


def test_every_indicator_has_a_definition_and_the_plans_targets() -> None:
    inds = {i.key: i for i in indicators(ServiceTargets(flash_pay_share=0.8))}
    assert len(inds) == len(indicators()) and all(i.definition for i in inds.values())
    assert inds["flash_pay_share"].target == 0.8 and inds["straight_through_share"].target == 0.5
    assert inds["documents_without_person"].target == 0.2 and inds["service_days_median"].target is None
    assert {"理赔服务时效", "获赔率", "理赔服务打分"} <= {i.name.split()[0] for i in inds.values()}

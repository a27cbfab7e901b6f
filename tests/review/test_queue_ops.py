"""The queue's order and filters, the operations page's figures and plot, and masking by shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from review_fixtures import Built, Session, add_watch_list_referral
from sqlalchemy import delete

from pipeline import decisions
from pipeline.reasons import read_reasons
from pipeline.records import Outcome, Route
from pipeline.store import StageResultRow
from review.masking import mask_number, mask_text
from review.ops import outcome_rates, rates_over_time, rates_svg, recent_batches, review_backlog
from review.queue import QueueFilters, build_queue, urgency

SignIn = Callable[[str | None], Session]
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def test_urgency_follows_the_legal_clock() -> None:
    assert urgency(NOW - dt.timedelta(minutes=1), NOW) == 3
    assert urgency(NOW + dt.timedelta(hours=23), NOW) == 2
    assert urgency(NOW + dt.timedelta(hours=71), NOW) == 1
    assert urgency(NOW + dt.timedelta(days=4), NOW) == 0
    assert urgency(None, NOW) == 0


def test_reason_codes() -> None:
    stored = ["FRAUD_SCORE_HIGH: score 0.81", "  claims_90d: 3 claims", "MISSING_DOCUMENT: expense_list"]
    assert [r.code for r in read_reasons(stored)] == ["FRAUD_SCORE_HIGH", None, "MISSING_DOCUMENT"]


def test_queue_order_clock_then_vip_then_deadline(built: Built) -> None:
    items, codes = build_queue(built.store)
    assert [i.claim_id for i in items] == ["C100", "C200"]  # due within 24 h beats due in 4 days
    assert items[0].star_tier == 3 and items[0].urgency == 2 and items[0].fraud_band == "high"
    assert items[1].amount == Decimal("25000.00")
    assert set(codes) == {"GATE_NOT_CONFIDENT", "FRAUD_SCORE_HIGH", "FRAUD_SCORE_LOW"}
    # once both clocks are far, VIP stars decide
    later = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    items, _ = build_queue(built.store, now=later)
    assert [i.claim_id for i in items] == ["C100", "C200"] and {i.urgency for i in items} == {0}
    # when the ordinary claim is overdue and the VIP one is not, the clock wins
    items, _ = build_queue(built.store, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=5))
    assert {i.urgency for i in items} == {3}
    assert [i.claim_id for i in items] == ["C100", "C200"]  # both overdue: stars again


def test_the_fraud_column_keeps_the_models_band_apart_from_a_rules_referral(built: Built) -> None:
    add_watch_list_referral(built.store, "C300")
    items = {i.claim_id: i for i in build_queue(built.store)[0]}
    watched, flagged = items["C300"], items["C100"]
    assert (watched.fraud_band, watched.fraud_model) == ("low", "model low 0.00")
    assert watched.fraud_raised_by == ["rule: provider on watch list"]
    assert watched.fraud_text == "model low 0.00 · raised by rule: provider on watch list"
    assert ("FRAUD_SUSPECTED", "rule: provider on watch list") in watched.why
    assert flagged.fraud_text == "model high 0.55" and flagged.fraud_raised_by == []
    with built.store.session() as s:  # not scored at all: the referral still says who raised it
        s.execute(
            delete(StageResultRow).where(StageResultRow.claim_id == "C300", StageResultRow.stage == "fraud")
        )
    [unscored] = [i for i in build_queue(built.store)[0] if i.claim_id == "C300"]
    assert unscored.fraud_text == "model: not scored · raised by rule: provider on watch list"
    assert [i.claim_id for i in build_queue(built.store, QueueFilters(reason="FRAUD_SUSPECTED"))[0]] == [
        "C300"
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["C100", "C200"]),
        ({"reason": "FRAUD_SCORE_HIGH"}, ["C100"]),
        ({"reason": "GATE_NOT_CONFIDENT"}, ["C100", "C200"]),
        ({"fraud_band": "low"}, ["C200"]),
        ({"fraud_band": "none"}, []),
        ({"min_amount": "1000"}, ["C200"]),
        ({"max_amount": "1000"}, ["C100"]),
        ({"min_amount": "900", "max_amount": "30000", "fraud_band": "high"}, []),
        ({"min_amount": "not a number"}, ["C100", "C200"]),
        ({"status": "awaiting_approval"}, []),
        ({"fraud_band": "<script>"}, ["C100", "C200"]),
    ],
)
def test_queue_filters(built: Built, query: dict[str, str], expected: list[str]) -> None:
    items, _ = build_queue(built.store, QueueFilters.from_query(query))
    assert [i.claim_id for i in items] == expected


def test_queue_page_filters_and_audits_the_view(sign_in: SignIn, built: Built) -> None:
    s = sign_in("adj1")
    page = s.get("/queue?fraud_band=high").text
    assert "C100" in page and "C200" not in page
    event = [e for e in built.store.audit_events() if e["action"] == "view_queue"][-1]
    assert event["detail"] == {"claims": ["C100"], "filters": {"fraud_band": "high"}}


def test_operations_figures(built: Built) -> None:
    rates, n, payable = outcome_rates(built.store)
    by_route = {r.route: r for r in rates}
    assert n == 3 and by_route["adjuster"].count == 2 and by_route["flash_pay"].count == 1
    assert by_route["adjuster"].share == pytest.approx(2 / 3)
    assert payable == Decimal("230.00")
    assert review_backlog(built.store) == {"open": 2}
    [batch] = recent_batches(built.store)
    assert batch.claims == 3 and batch.kpis["flash_pay_rate"] == pytest.approx(1 / 3)
    # a later decision moves the claim's current route, not its batch routing
    decisions.record_review_decision(
        built.store,
        Outcome(claim_id="C100", route=Route.DENY, decided_at=dt.datetime.now(dt.UTC), reasons=["x"]),
        reviewer="adj1",
        routed_version=1,
    )
    rates, _, _ = outcome_rates(built.store)
    assert {r.route: r.count for r in rates}["deny"] == 1


def test_rates_over_time_plot(built: Built) -> None:
    unit, series = rates_over_time(built.store)
    assert unit == "day" and len(series) == 2  # the earlier claim 90 days ago, the batch yesterday
    (_, first, n1), (_, second, n2) = series
    assert n1 == 1 and first["flash_pay"] == 1.0
    assert n2 == 2 and second["adjuster"] == 1.0
    svg = rates_svg(series, unit)
    assert svg.startswith("<svg") and svg.count("<polyline") == 6 and "flash_pay: 100% of 1" in svg
    assert "no decisions yet" in rates_svg([], "day")


def test_operations_page(sign_in: SignIn) -> None:
    page = sign_in("ops1").get("/ops").text
    assert 'data-testid="plot"' in page and "<polyline" in page and "batch-test" in page


def test_masking_by_shape() -> None:
    assert mask_number("110101199003074514") == "1101**********4514"
    assert (
        mask_text("身份证号：11010119900307451X，电话 13812345678")
        == "身份证号：1101**********451X，电话 13812345678"
    )
    assert mask_text("卡号 6222 0212 3456 7890 128") == "卡号 6222***********0128"
    assert (
        mask_text("合计 812.40 发票号码 03141592 代码 144031900111")
        == "合计 812.40 发票号码 03141592 代码 144031900111"
    )

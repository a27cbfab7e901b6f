"""Rendering on its own: the templates' filters, and the notice a redirect's `?note=` asks for."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pipeline.reasons import rule_source
from review.render import NOTES, TZ, templates


def test_filters_show_china_time_money_and_limits() -> None:
    f = templates().env.filters
    assert str(TZ) == "Asia/Shanghai"
    assert f["local"](dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC)) == "2026-03-02 00:30"
    assert f["local"](dt.datetime(2026, 3, 1, 16, 30)) == "2026-03-02 00:30"  # naive is UTC
    assert f["local"](None) == ""
    assert f["money"](Decimal("1234567.5")) == "1,234,567.50" and f["money"]("12") == "12.00"
    assert f["money"](None) == "" and f["money"]("") == ""
    assert f["pct"](0.125) == "12.5%" and f["pct"](None) == ""
    assert f["limit"](None) == "no limit" and f["limit"](Decimal("5000")) == "5,000.00 yuan"
    assert (
        f["source"](rule_source("watched_provider", "provider on watch list"))
        == "rule: provider on watch list"
    )


def test_the_templates_know_the_actions_and_routes() -> None:
    g = templates().env.globals
    assert "approve" in [a.value for a in g["ReviewAction"]]
    assert "outpatient_invoice" in g["DOC_TYPES"] and g["FINAL_ROUTES"]


def test_a_page_shows_the_notice_its_url_names(sign_in) -> None:  # type: ignore[no-untyped-def]
    s = sign_in("adj1")
    assert NOTES["released"] in s.get("/queue?note=released").text
    shown = s.get("/queue?note=nonsense").text
    assert not any(note in shown for note in NOTES.values())

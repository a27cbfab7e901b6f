"""The HTML report: one self-contained page (no script, nothing fetched, its style allowed by hash), the
figures with their definitions, one plot per indicator with the plan's target drawn as a line."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from html import escape

import pytest
from helpers.service import build_service_store

from pipeline.indicators import from_store, indicators
from pipeline.report_html import csp, misses, plot, render, style, value_text
from pipeline.settings import Settings
from pipeline.store import open_store


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    store = open_store(Settings(data_dir=tmp_path_factory.mktemp("html") / "data"))
    build_service_store(store)
    report, series = from_store(store, dt.date(2026, 3, 1), dt.date(2026, 4, 30), by="channel")
    return render(report, series, generated_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))


def test_the_page_is_self_contained(page: str) -> None:
    assert "<script" not in page and not re.search(r'(src|href)="(?!data:)', page)
    assert "url(data:font/otf;base64," in page  # the glyphs it prints travel with it
    (css,) = re.findall(r"<style>(.*?)</style>", page, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp() and css == style()
    assert "frame-ancestors" in csp(header=True) and "frame-ancestors" not in csp()


def test_the_figures_with_their_definitions_and_targets(page: str) -> None:
    assert "Claims service report 理赔服务指标 2026-03-01 – 2026-04-30" in page
    for ind in indicators():
        assert f'<td class="def">{escape(ind.definition)}</td>' in page
    assert '<td class="num" data-key="paid_share">71.4% (5 of 7)</td>' in page
    assert '<td class="num miss" data-key="flash_pay_share">50.0% (1 of 2)</td>' in page  # below 70%
    assert "70.0% (the insurer&#x27;s plan (2019))" in page
    assert "no ratings recorded" in page  # the agent and batch channels


def test_one_plot_per_indicator_with_the_targets_drawn(page: str) -> None:
    plots = re.findall(r'<svg [^>]*data-key="([a-z_0-9]+)"', page)
    assert plots == [i.key for i in indicators()]
    targets = re.findall(r'data-key="([a-z_0-9]+)">.*?</svg>', page, flags=re.S)
    assert len(targets) == len(plots)
    drawn = {
        k for k in plots if re.search(rf'data-key="{k}">(?:(?!</svg>).)*class="target"', page, flags=re.S)
    }
    assert drawn == {i.key for i in indicators() if i.target is not None}
    assert "target 70.0%" in page and "target 50.0%" in page and "target 20.0%" in page


def test_a_plot_without_values_and_the_value_texts() -> None:
    ind = {i.key: i for i in indicators()}
    empty = plot(ind["flash_pay_share"], [(dt.date(2026, 3, 1), None)])
    assert "nothing measured" in empty and 'class="target"' in empty and "<polyline" not in empty
    one = plot(ind["service_days_median"], [(dt.date(2026, 3, 1), 2.0)])
    assert one.count("<circle") == 1 and "2026-03-01" in one
    assert (
        value_text(ind["paid_share"], 0.5) == "50.0%" and value_text(ind["rating_average"], 3.456) == "3.46"
    )
    assert (
        value_text(ind["fraud_alerts"], 2.0) == "2" and value_text(ind["service_days_p90"], 0.25) == "6.0 h"
    )
    assert misses(ind["complex_clock_breaches"], 1.0) and not misses(ind["complex_clock_breaches"], 0.0)
    assert not misses(ind["paid_share"], 0.1)  # no target: never missed


def test_an_empty_period(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = open_store(Settings(data_dir=tmp_path / "data"))
    report, series = from_store(store, dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    html = render(report, series)
    assert "no claims decided between 2026-01-01 and 2026-01-31" in html and "<svg" not in html

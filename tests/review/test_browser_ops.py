"""The operations page's service indicators and the HTML report in a real browser (Debian's Chromium
under Playwright): the last 30 days' figures with their targets, the link to the full report, the report
drawing every indicator with the plan's targets as lines, fetching nothing and breaking no rule of
its content security policy. Screenshots under `test-output/report/` (or `$REPORT_SCREENSHOTS`).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.service import build_service_store
from review_fixtures import PASSWORD, Built, copy_built, running

from pipeline.indicators import indicators

SHOTS = Path(
    os.environ.get("REPORT_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-output" / "report")
)


@pytest.fixture(scope="module")
def server(template: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a copy of the test store with the service claims, decided over the last 12 days."""
    from review.app import create_app

    built = copy_built(template, tmp_path_factory.mktemp("browser-ops"))
    build_service_store(built.store, dt.datetime.now(dt.UTC) - dt.timedelta(days=12))
    with running(create_app(built.settings, built.store)) as base:
        yield base


@pytest.fixture(scope="module")
def shots() -> Path:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


def test_operations_page_and_the_report(server: str, browser, shots: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(server + "/")
    page.fill("input[name=username]", "ops1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(server + "/ops")
    table = page.locator("[data-testid=service]")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(len(indicators()))
    expect(table.locator("tr[data-key=paid_share]")).to_contain_text("71.4% (5 of 7)")
    expect(table.locator("tr[data-key=flash_pay_share] td.alert")).to_contain_text("66.7% (2 of 3)")  # X1 too
    expect(table.locator("tr[data-key=rating_average]")).to_contain_text("3.50 (2 ratings)")
    expect(table.locator("tr[data-key=denial_notice_breaches]")).to_contain_text("1 of 2")
    table.scroll_into_view_if_needed()
    page.screenshot(path=shots / "01-ops-service.png", full_page=True)

    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    page.click("[data-testid=service-report]")
    page.wait_for_load_state()
    assert "/ops/report?from=" in page.url
    assert fetched == [page.url]  # the page alone: no style sheet, font, image or script fetched
    expect(page.locator("h1")).to_contain_text("理赔服务指标")
    expect(page.locator("table.figures td[data-key=paid_share]")).to_have_text("71.4% (5 of 7)")
    expect(page.locator("figure svg")).to_have_count(len(indicators()))
    expect(page.locator("svg line.target")).to_have_count(
        sum(1 for i in indicators() if i.target is not None)
    )
    expect(page.locator("svg[data-key=flash_pay_share]")).to_contain_text("target 70.0%")
    assert page.evaluate("() => document.fonts.check('14px \"Noto Sans SC\"', '理赔服务时效')")
    assert (
        page.evaluate("() => getComputedStyle(document.querySelector('td.def')).color") == "rgb(85, 85, 85)"
    )
    page.screenshot(path=shots / "02-report.png", full_page=True)

    page.goto(server + "/ops/report?by=channel")
    expect(page.locator("table.figures thead th")).to_have_count(1 + 4 + 2)  # all, agent, app, batch
    page.screenshot(path=shots / "03-report-by-channel.png", full_page=True)
    assert errors == []  # nothing the content security policy refused, no script error
    context.close()

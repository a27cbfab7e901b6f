"""The review app in a real browser: Debian's Chromium driven by Playwright against uvicorn.

One adjuster's day in miniature: sign in, open a claim from the queue, click a field and see its box
light up on the page image, correct the field, decide above the authority limit, and a senior's
second approval, with the audit entry on the claim. Every page is saved as a screenshot under
`test-output/review/` (or `$REVIEW_SCREENSHOTS`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_fixtures import PASSWORD, Built, copy_built, running

SHOTS = Path(
    os.environ.get("REVIEW_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-output" / "review")
)


@pytest.fixture(scope="module")
def server(template: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Built]]:
    """The app on uvicorn, on a free loopback port, over its own copy of the test store."""
    from review.app import create_app

    built = copy_built(template, tmp_path_factory.mktemp("browser"))
    with running(create_app(built.settings, built.store)) as base:
        yield base, built


@pytest.fixture(scope="module")
def shots() -> Path:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


def _sign_in(page, base: str, user: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_adjuster_and_senior_in_the_browser(server, browser, shots: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    base, built = server
    errors: list[str] = []
    adj = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = adj.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))

    # sign in, the queue: the VIP claim due within 24 hours comes first
    _sign_in(page, base, "adj1")
    expect(page).to_have_url(base + "/queue")
    rows = page.locator("[data-testid=queue] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("C100")
    expect(rows.nth(0)).to_contain_text("due within 24 h")
    page.screenshot(path=shots / "01-queue.png", full_page=True)

    # open the big claim from the queue
    page.click("[data-testid=open-C200]")
    expect(page).to_have_url(base + "/claims/C200")
    expect(page.locator("[data-testid=held]")).to_be_visible()
    image = page.locator("svg.page image")
    expect(image).to_have_count(1)
    assert page.evaluate("() => document.querySelector('svg.page image').getBBox().width") == 1000
    page.screenshot(path=shots / "02-claim.png", full_page=True)

    # click the total field: its box on the page lights up, in view
    box = page.locator("#box-f-0-3")
    assert "hl" not in (box.get_attribute("class") or "")
    page.click("[data-testid=field-0-total] td:first-child")
    expect(box).to_have_class("field failed hl")
    expect(page.locator("[data-testid=field-0-total]")).to_have_class("field-row failed low hl")
    assert box.bounding_box()["width"] > 100  # type: ignore[index]
    page.wait_for_timeout(600)  # the smooth scroll
    assert box.is_visible()
    page.screenshot(path=shots / "03-field-highlighted.png")
    # and the other way: clicking a box selects its row
    page.locator("#box-f-0-0").click(force=True)
    expect(page.locator("[data-testid=field-0-patient_name]")).to_have_class("field-row hl")

    # correct the total
    page.locator("[data-testid=field-0-total] summary").click()
    page.fill("[data-testid=fix-0-total]", "24990.00")
    page.click("[data-testid=save-0-total]")
    expect(page.locator("[data-testid=value-0-total]")).to_contain_text("24990.00")
    expect(page.locator("[data-testid=value-0-total]")).to_contain_text("✎ adj1")
    page.screenshot(path=shots / "04-corrected.png", full_page=True)

    # decide: approve above the adjusters' authority, which the form warns about as it is typed
    page.check("[data-testid=action-approve]")
    expect(page.locator("[data-testid=own-limit]")).to_have_text("10,000.00 yuan")
    page.fill("[data-testid=amount]", "9000.00")
    expect(page.locator("[data-testid=four-eyes-hint]")).to_be_hidden()
    page.fill("[data-testid=amount]", "24500.00")
    expect(page.locator("[data-testid=four-eyes-hint]")).to_be_visible()
    expect(page.locator("[data-testid=four-eyes-hint]")).to_contain_text("needs a second approval")
    page.screenshot(path=shots / "05-decide.png")
    page.click("[data-testid=decide]")
    expect(page.locator("[data-testid=awaiting]")).to_contain_text("24,500.00")
    expect(page.locator("[data-testid=who-approves]")).to_contain_text(
        "a senior adjuster or a claims manager"
    )
    expect(page.locator("[data-testid=task-state]")).to_have_text("awaiting_approval")
    page.screenshot(path=shots / "06-awaiting-senior.png", full_page=True)

    # deny the other claim: the reason is required by the form itself
    page.goto(base + "/claims/C100")
    page.check("[data-testid=action-deny]")
    expect(page.locator("[data-testid=amount]")).to_be_hidden()
    page.fill("[data-testid=reason]", "就诊医院不在约定范围内")
    page.click("[data-testid=decide]")
    expect(page.locator("[data-testid=decided]")).to_contain_text("deny")
    page.click("text=Sign out")
    expect(page).to_have_url(base + "/login")
    adj.close()

    # the senior approves it (four-eyes)
    senior = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = senior.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, base, "senior1")
    page.select_option("select[name=status]", "awaiting_approval")
    page.click("text=Filter")
    expect(page.locator("[data-testid=queue] tbody tr")).to_have_count(1)
    page.screenshot(path=shots / "07-senior-queue.png", full_page=True)
    page.click("[data-testid=open-C200]")
    page.click("[data-testid=approve]")
    expect(page.locator("[data-testid=decided]")).to_contain_text("approved by senior1")
    expect(page.locator("[data-testid=pending-apply]")).to_be_visible()
    audit = page.locator("[data-testid=audit]")
    expect(audit).to_contain_text("approve_decision")
    expect(audit).to_contain_text("propose_decision")
    expect(audit).to_contain_text("correct_field")
    page.screenshot(path=shots / "08-approved-with-audit.png", full_page=True)
    senior.close()

    # an auditor sees the same claim with identifiers masked, on the page image too
    auditor = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = auditor.new_page()
    _sign_in(page, base, "aud1")
    page.goto(base + "/claims/C200")
    expect(page.locator("[data-testid=claimant-id]")).to_have_text("1101**********4514")
    expect(page.locator("[data-testid=decide-form]")).to_have_count(0)
    page.screenshot(path=shots / "09-auditor-masked.png", full_page=True)
    page.goto(base + "/ops")
    expect(page.locator("[data-testid=plot] svg")).to_be_visible()
    page.screenshot(path=shots / "10-operations.png", full_page=True)
    auditor.close()

    assert errors == []
    decided = {t["claim_id"]: t["decision"] for t in built.store.review_tasks(status="done")}
    assert decided["C200"]["approved_by"] == "senior1" and decided["C200"]["amount"] == "24500.00"
    assert decided["C100"]["action"] == "deny"
    assert (
        sorted(p.name for p in shots.glob("*.png"))[0] == "01-queue.png"
        and len(list(shots.glob("*.png"))) == 10
    )

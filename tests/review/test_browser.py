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
from review_fixtures import PASSWORD, Built, add_watch_list_referral, copy_built, running

SHOTS = Path(
    os.environ.get("REVIEW_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-output" / "review")
)
REASON_SHOTS = SHOTS.with_name(SHOTS.name + "-reasons")
"""The fraud-referral check's screenshots (`test-output/review-reasons/`), apart from the day's ten."""


def _serve(built: Built) -> Iterator[str]:
    """The app on uvicorn, on a free loopback port, over `built`; yields its base URL."""
    from review.app import create_app

    with running(create_app(built.settings, built.store)) as base:
        yield base


@pytest.fixture(scope="module")
def server(template: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Built]]:
    """The app over its own copy of the test store."""
    built = copy_built(template, tmp_path_factory.mktemp("browser"))
    for base in _serve(built):
        yield base, built


@pytest.fixture(scope="module")
def referrals(template: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a copy of the test store with two watch-list referrals the fraud model scored low
    0.00: C300 decided now, C301 as stored before reasons had sources."""
    built = copy_built(template, tmp_path_factory.mktemp("referrals"))
    add_watch_list_referral(built.store, "C300")
    add_watch_list_referral(built.store, "C301", recorded_before_sources=True)
    yield from _serve(built)


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


def test_a_watch_list_referral_reads_as_the_rules_in_the_browser(referrals: str, browser) -> None:  # type: ignore[no-untyped-def]
    """Issue 23: FRAUD_SUSPECTED beside a fraud column reading 'low 0.00' says the watch list raised it,
    in the queue and on the claim page, for a claim decided now and one stored before sources."""
    from playwright.sync_api import expect

    base = referrals
    shutil.rmtree(REASON_SHOTS, ignore_errors=True)
    REASON_SHOTS.mkdir(parents=True)
    errors: list[str] = []
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, base, "adj1")

    # the queue: the model's band, and what raised the referral, side by side
    expect(page.locator("[data-testid=queue] tbody tr")).to_have_count(4)
    for claim in ("C300", "C301"):
        expect(page.locator(f"[data-testid=fraud-{claim}]")).to_have_text(
            "model low 0.00 · raised by rule: provider on watch list"
        )
        why = page.locator(f"[data-testid=why-{claim}]")
        expect(why).to_contain_text("FRAUD_SUSPECTED rule: provider on watch list")
        expect(why).to_contain_text("PROVIDER_WATCHLIST rule: provider on watch list")
    expect(page.locator("[data-testid=fraud-C100]")).to_have_text("model high 0.55")
    expect(page.locator("[data-testid=why-C100]")).to_contain_text(
        "FRAUD_SCORE_HIGH model: fraud band high 0.55"
    )
    page.screenshot(path=REASON_SHOTS / "01-queue-fraud-sources.png", full_page=True)
    page.select_option("select[name=reason]", "FRAUD_SUSPECTED")
    page.click("text=Filter")
    expect(page.locator("[data-testid=queue] tbody tr")).to_have_count(2)
    page.screenshot(path=REASON_SHOTS / "02-queue-fraud-suspected.png", full_page=True)

    # the claim page: the referral's source above the model's own verdict, each reason with its source
    for n, claim in ((3, "C300"), (4, "C301")):
        page.click(f"[data-testid=open-{claim}]")
        expect(page).to_have_url(f"{base}/claims/{claim}")
        expect(page.locator("[data-testid=fraud-raised-by]")).to_have_text(
            "Referred for fraud (FRAUD_SUSPECTED), raised by rule: provider on watch list;"
            " not by the model, whose band is low."
        )
        expect(page.locator("[data-testid=fraud-model]")).to_contain_text("low score 0.000")
        expect(page.locator("[data-testid=why] li").first).to_contain_text("rule: provider on watch list")
        expect(page.locator("[data-testid=reason-codes]")).to_contain_text(
            "FRAUD_SUSPECTED rule: provider on watch list"
        )
        page.screenshot(path=REASON_SHOTS / f"0{n}-claim-{claim}.png", full_page=True)
        page.go_back()
    page.goto(base + "/claims/C300")
    page.locator("aside.side").screenshot(path=REASON_SHOTS / "05-claim-why-and-fraud-panels.png")

    # a claim the model flagged: its band, no referral by a rule
    page.goto(base + "/claims/C100")
    expect(page.locator("[data-testid=fraud-raised-by]")).to_have_count(0)
    expect(page.locator("[data-testid=why]")).to_contain_text("model: fraud band high 0.55")
    page.screenshot(path=REASON_SHOTS / "06-claim-model-flagged.png", full_page=True)
    ctx.close()

    assert errors == []
    assert len(list(REASON_SHOTS.glob("*.png"))) == 6

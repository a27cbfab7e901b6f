"""The claim router through the review app: a claim opened, taken, held against another adjuster, and
released; an unknown claim; a masked view for the auditor."""

from __future__ import annotations

import pytest
from review_fixtures import ID_NUMBER, Built, add_watch_list_referral, text_of

from review.routes.claims import claim_page, router


def _held(built: Built) -> dict[str, str | None]:
    return {t["claim_id"]: t["locked_by"] for t in built.store.review_tasks()}


def test_the_router_serves_a_claim_and_its_actions() -> None:
    paths = {r.path for r in router.routes}  # type: ignore[attr-defined]
    assert "/claims/{claim_id}" in paths and callable(claim_page)
    for action in ("lock", "release", "fields", "decision", "approve", "send-back", "reopen"):
        assert f"/claims/{{claim_id}}/{action}" in paths


def test_an_unknown_claim_is_a_404_page(sign_in) -> None:  # type: ignore[no-untyped-def]
    r = sign_in("adj1").get("/claims/NOPE")
    assert r.status_code == 404 and "No claim NOPE." in r.text


def test_opening_a_claim_takes_it_and_another_adjuster_is_refused(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    first = sign_in("adj1")
    page = first.get(f"/claims/{built.claim_id}")
    assert page.status_code == 200 and ID_NUMBER in page.text  # an adjuster sees identifiers
    assert _held(built)[built.claim_id] == "adj1"
    other = sign_in("adj2").post(f"/claims/{built.claim_id}/lock")
    assert other.status_code == 409 and f"claim {built.claim_id} is held by adj1" in other.text
    released = first.post(f"/claims/{built.claim_id}/release")
    assert released.status_code == 303 and released.headers["location"] == "/queue?note=released"
    assert _held(built)[built.claim_id] is None
    taken = sign_in("adj2").post(f"/claims/{built.claim_id}/lock")
    assert taken.headers["location"] == f"/claims/{built.claim_id}?note=locked"


def test_an_auditor_reads_the_claim_masked_and_takes_nothing(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    page = sign_in("aud1").get(f"/claims/{built.claim_id}")
    assert page.status_code == 200 and ID_NUMBER not in page.text
    assert _held(built)[built.claim_id] is None
    (view,) = [e for e in built.store.audit_events(built.claim_id) if e["action"] == "view_claim"]
    assert view["actor"] == "aud1" and view["detail"]["masked"] is True
    assert sign_in("aud1").post(f"/claims/{built.claim_id}/lock").status_code == 403


@pytest.mark.parametrize("old", [False, True], ids=["recorded-now", "recorded-before-sources"])
def test_the_claim_page_names_what_raised_a_fraud_referral(sign_in, built: Built, old: bool) -> None:  # type: ignore[no-untyped-def]
    add_watch_list_referral(built.store, "C300", recorded_before_sources=old)
    page = sign_in("adj1").get("/claims/C300").text
    assert text_of(page, "fraud-raised-by") == (
        "Referred for fraud (FRAUD_SUSPECTED), raised by rule: provider on watch list;"
        " not by the model, whose band is low."
    )
    assert text_of(page, "fraud-model") == "Model fraud-test: low score 0.000"
    why = text_of(page, "why")
    assert "FRAUD_SUSPECTED: 存在欺诈疑点，需人工调查 rule: provider on watch list" in why
    assert "PROVIDER_WATCHLIST: 就诊机构康泰综合门诊部在重点监控名单中" in why
    codes = text_of(page, "reason-codes")
    assert codes == (
        "Reason codes: FRAUD_SUSPECTED rule: provider on watch list;"
        " PROVIDER_WATCHLIST rule: provider on watch list"
    )


def test_a_claim_the_model_flagged_shows_no_referral_by_a_rule(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    page = sign_in("adj1").get(f"/claims/{built.claim_id}").text
    assert 'data-testid="fraud-raised-by"' not in page
    assert text_of(page, "fraud-model") == "Model fraud-test: high score 0.550"
    assert "FRAUD_SCORE_HIGH: score 0.55 model: fraud band high 0.55" in text_of(page, "why")

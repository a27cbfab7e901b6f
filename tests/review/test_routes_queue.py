"""The queue router through the review app: the routed claims, filtered as asked, the view audited."""

from __future__ import annotations

import pytest
from review_fixtures import Built, add_watch_list_referral, text_of

from review.routes.queue import queue, router


def test_the_router_serves_the_queue() -> None:
    (route,) = router.routes
    assert route.path == "/queue" and route.endpoint is queue  # type: ignore[attr-defined]


def test_an_adjuster_sees_the_routed_claims_and_the_view_is_audited(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    page = sign_in("adj1").get("/queue")
    assert page.status_code == 200
    assert built.claim_id in page.text and built.big_claim_id in page.text
    assert built.earlier_id not in page.text  # paid, not waiting for anyone
    seen = [e for e in built.store.audit_events() if e["action"] == "view_queue"][-1]  # signing in saw it too
    assert seen["actor"] == "adj1" and set(seen["detail"]["claims"]) == {built.claim_id, built.big_claim_id}


def test_a_filter_keeps_only_the_claims_that_match(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    page = sign_in("adj1").get("/queue?fraud_band=high")
    assert built.claim_id in page.text and built.big_claim_id not in page.text
    seen = [e for e in built.store.audit_events() if e["action"] == "view_queue"][-1]
    assert seen["detail"] == {"claims": [built.claim_id], "filters": {"fraud_band": "high"}}


def test_operations_may_not_see_the_queue(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    r = sign_in("ops1").get("/queue")
    assert r.status_code == 403 and built.claim_id not in r.text


@pytest.mark.parametrize("old", [False, True], ids=["recorded-now", "recorded-before-sources"])
def test_a_watch_list_referral_says_a_rule_raised_it_beside_the_models_low_band(  # type: ignore[no-untyped-def]
    sign_in, built: Built, old: bool
) -> None:
    add_watch_list_referral(built.store, "C300", recorded_before_sources=old)
    page = sign_in("adj1").get("/queue").text
    assert text_of(page, "fraud-C300") == "model low 0.00 · raised by rule: provider on watch list"
    why = text_of(page, "why-C300")
    assert "FRAUD_SUSPECTED rule: provider on watch list" in why
    assert "PROVIDER_WATCHLIST rule: provider on watch list" in why
    # a claim the model itself flagged: its band, and no referral by anything else
    assert text_of(page, "fraud-C100") == "model high 0.55"
    assert (
        text_of(page, "why-C100")
        == "GATE_NOT_CONFIDENT model: gate P(safe) 0.410 FRAUD_SCORE_HIGH model: fraud band high 0.55"
    )

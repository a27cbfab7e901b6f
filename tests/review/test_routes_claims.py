"""The claim router through the review app: a claim opened, taken, held against another adjuster, and
released; an unknown claim; a masked view for the auditor."""

from __future__ import annotations

from review_fixtures import ID_NUMBER, Built

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

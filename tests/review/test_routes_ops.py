"""The operations router through the review app: batches and rates for operations, the audit trail
for auditors, identifiers masked for whoever may not see them."""

from __future__ import annotations

from review_fixtures import ID_NUMBER, Built

from review.routes.ops import audit, operations, router


def test_the_router_serves_operations_and_the_audit_trail() -> None:
    assert {r.path: r.endpoint for r in router.routes} == {"/ops": operations, "/audit": audit}  # type: ignore[attr-defined]


def test_operations_sees_the_batches(sign_in) -> None:  # type: ignore[no-untyped-def]
    page = sign_in("ops1").get("/ops")
    assert page.status_code == 200 and "batch-test" in page.text


def test_only_an_auditor_reads_the_audit_trail(sign_in) -> None:  # type: ignore[no-untyped-def]
    assert sign_in("ops1").get("/audit").status_code == 403
    assert sign_in("adj1").get("/audit").status_code == 403


def test_the_audit_trail_filtered_by_actor_with_identifiers_masked(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    built.store.audit("adj2", "corrected_field", built.claim_id, {"value": ID_NUMBER})
    built.store.audit("adj1", "looked_at", built.claim_id, {"note": "zzz-adj1-only"})
    s = sign_in("aud1")
    page = s.get("/audit?actor=adj2")
    assert page.status_code == 200 and "corrected_field" in page.text
    assert ID_NUMBER not in page.text and ID_NUMBER[-4:] in page.text  # masked, not dropped
    assert "zzz-adj1-only" not in page.text
    assert "zzz-adj1-only" in s.get(f"/audit?claim={built.claim_id}&actor=adj1").text

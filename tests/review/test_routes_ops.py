"""The operations router through the review app: batches and rates for operations, the audit trail
for auditors, identifiers masked for whoever may not see them."""

from __future__ import annotations

import datetime as dt
import re

from helpers.service import build_service_store
from review_fixtures import ID_NUMBER, Built

from review.routes.ops import audit, operations, router, service_report


def test_the_router_serves_operations_and_the_audit_trail() -> None:
    assert {r.path: r.endpoint for r in router.routes} == {  # type: ignore[attr-defined]
        "/ops": operations,
        "/ops/report": service_report,
        "/audit": audit,
    }


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


def test_operations_sees_the_service_indicators_of_the_last_30_days(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    s = sign_in("ops1")
    empty = s.get("/ops")  # the template store's only closed claim was paid 90 days ago
    assert 'data-testid="service-empty"' in empty.text and "no claims decided between" in empty.text
    build_service_store(built.store, dt.datetime.now(dt.UTC) - dt.timedelta(days=12))
    page = s.get("/ops")
    assert page.status_code == 200 and 'data-testid="service"' in page.text
    row = re.search(r'<tr data-key="paid_share">(.*?)</tr>', page.text, flags=re.S)
    # X1 (22 days ago) is in; P3 is decided 28 days from now: not yet
    assert row is not None and "71.4% (5 of 7)" in row.group(1)
    assert "claims whose final decision pays more than 0 yuan" in row.group(1)
    flash = re.search(r'<tr data-key="flash_pay_share">(.*?)</tr>', page.text, flags=re.S)
    assert flash is not None and 'class="num alert"' in flash.group(1) and "70.0%" in flash.group(1)
    link = re.search(r'href="(/ops/report\?from=[0-9-]+&amp;to=[0-9-]+)"', page.text)
    assert link is not None
    report = s.get(link.group(1).replace("&amp;", "&"))
    assert report.status_code == 200 and "71.4% (5 of 7)" in report.text and "<svg" in report.text
    assert "style-src 'sha256-" in report.headers["content-security-policy"]
    assert "script-src" not in report.headers["content-security-policy"]


def test_the_report_page_takes_a_period_and_a_grouping(sign_in, built: Built) -> None:  # type: ignore[no-untyped-def]
    build_service_store(built.store)
    s = sign_in("ops1")
    page = s.get("/ops/report?from=2026-03-01&to=2026-04-30&by=channel")
    assert (
        page.status_code == 200
        and "71.4% (5 of 7)" in page.text
        and "agent <small>(2 claims)</small>" in page.text
    )
    bad = s.get("/ops/report?from=2026-02-30")
    assert bad.status_code == 400 and "from &#39;2026-02-30&#39;: not a date" in bad.text
    assert s.get("/ops/report?by=region").status_code == 400
    assert sign_in("adj1").get("/ops/report").status_code == 403

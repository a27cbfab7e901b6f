"""A claim's status as its claimant sees it, read from the case store as the flows left it: queued,
then the route's status in plain Chinese; a request for documents opened once and answered once."""

from __future__ import annotations

import datetime as dt

from helpers import money
from helpers.files import image_bytes
from intake_api import Api
from intake_files import OUTPATIENT_POLICY, PATIENT

from intake.notice import (
    DOC_NEEDS_ZH,
    STATUS_ZH,
    claim_status,
    document_requests,
    mark_answered,
    notice_and_requests,
    open_request,
    request_id,
    stage_record,
)
from pipeline.intake_tables import IntakeClaimRow
from pipeline.records import Claim, DirectSettlement, DocType, Outcome, Route
from pipeline.stages import Stage

BASE = "http://test/api/"


def submitted(api: Api, idem: str = "n-1") -> str:
    r = api.client.post(
        "/claims",
        headers=api.headers("app", idem),
        data={"policy_number": OUTPATIENT_POLICY, "claimant": PATIENT, "incident_date": "2025-06-01"},
        files=[("documents", ("invoice.jpg", image_bytes("JPEG", seed=1), "image/jpeg"))],
    )
    assert r.status_code == 201, r.text
    return r.json()["claim_id"]


def decide(api: Api, claim_id: str, route: Route, reasons: list[str]) -> Outcome:
    """As if the intake flow had decided the claim (no decision bundle: no notice text)."""
    outcome = Outcome(claim_id=claim_id, route=route, reasons=reasons, decided_at=dt.datetime.now(dt.UTC))
    money.record(api.store, outcome)
    with api.store.session() as s:
        row = s.get(IntakeClaimRow, claim_id)
        assert row is not None
        row.status = "done"
    return outcome


def loaded(api: Api, claim_id: str) -> tuple[Claim, IntakeClaimRow]:
    claim = api.store.get_claim(claim_id)
    with api.store.session() as s:
        row = s.get(IntakeClaimRow, claim_id)
        assert row is not None and claim is not None
        s.expunge(row)
    return claim, row


def test_a_queued_claim_shows_its_documents_and_no_notice(api: Api) -> None:
    claim_id = submitted(api)
    status = claim_status(api.store, *loaded(api, claim_id), BASE)
    assert (status.status, status.status_zh, status.route) == ("queued", STATUS_ZH["queued"], None)
    assert status.notice is None and status.document_requests == [] and status.payments == []
    assert [d.filename for d in status.documents] == ["invoice.jpg"]
    assert not status.direct_settlement


def test_a_request_for_documents_is_opened_once_and_closed_when_answered(api: Api) -> None:
    claim_id = submitted(api)
    assert open_request(api.store, claim_id) is None  # nothing decided yet
    outcome = decide(api, claim_id, Route.REQUEST_INFO, ["MISSING_DOCUMENT: id_card"])
    version = api.store.latest_decision_version(claim_id)
    assert version is not None

    notice, missing = notice_and_requests(api.store, claim_id, outcome, version)
    assert notice is None and missing == [DocType.ID_CARD]  # asked for by the reasons, no notice text
    status = claim_status(api.store, *loaded(api, claim_id), BASE)
    assert (status.status, status.route) == ("documents_requested", "request_info")
    (request,) = status.document_requests
    assert request.request_id == request_id(claim_id, version) == f"{claim_id}-R{version}"
    assert request.status == "open" and request.answer_url == f"{BASE}claims/{claim_id}/documents"
    assert [(d.doc_type, d.name, d.what) for d in request.documents] == [
        (DocType.ID_CARD, "身份证", DOC_NEEDS_ZH[DocType.ID_CARD])
    ]

    row = open_request(api.store, claim_id)
    assert row is not None and row.decision_version == version
    assert open_request(api.store, claim_id).id == row.id  # type: ignore[union-attr]  # the same, not a second
    mark_answered(api.store, row.id, [{"filename": "id.jpg", "document_id": "abc"}])
    assert open_request(api.store, claim_id) is None
    (answered,) = document_requests(api.store, claim_id, BASE)
    assert answered.status == "answered" and answered.answered_at is not None


def test_each_route_is_a_status_the_claimant_can_read(api: Api) -> None:
    expected = {
        Route.AUTO_APPROVE: "approved",
        Route.DENY: "denied",
        Route.ADJUSTER: "under_review",
        Route.ERROR: "error",
    }
    for n, (route, status) in enumerate(expected.items()):
        claim_id = submitted(api, f"route-{n}")
        decide(api, claim_id, route, ["WHY: test"])
        got = claim_status(api.store, *loaded(api, claim_id), BASE)
        assert (got.status, got.status_zh, got.decided_at is not None) == (status, STATUS_ZH[status], True)
        assert got.document_requests == []


def test_a_recorded_direct_settlement_shows_on_the_status(api: Api) -> None:
    claim_id = submitted(api)
    assert stage_record(api.store, claim_id, Stage.DIRECT_SETTLEMENT) is None
    settlement = DirectSettlement(
        hospital="安康医院", account_name="安康医院", bank="工行", account="0200001234567890123"
    )
    api.store.put_result(claim_id, Stage.DIRECT_SETTLEMENT, settlement)
    assert stage_record(api.store, claim_id, Stage.DIRECT_SETTLEMENT) == settlement.model_dump(mode="json")
    assert claim_status(api.store, *loaded(api, claim_id), BASE).direct_settlement

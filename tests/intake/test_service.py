"""The intake service without HTTP: a claim accepted once per idempotency key, stored as a batch row is
and handed to the dispatcher; refusals store nothing; each caller sees only its own claims."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.files import image_bytes
from intake_api import Api
from intake_files import OUTPATIENT_POLICY, PATIENT, hospital_submission

from intake.errors import IntakeError
from intake.keys import Caller, KeyRing
from intake.schemas import HospitalSubmission, RatingIn
from intake.service import IntakeService, Upload
from pipeline.intake_tables import IntakeClaimRow
from pipeline.records import Extraction
from pipeline.stages import Stage

FORM: dict[str, str | None] = {
    "policy_number": OUTPATIENT_POLICY,
    "claimant": PATIENT,
    "incident_date": "2025-06-01",
}
BASE = "http://test/api/"


class Recorder:
    """A dispatcher that remembers what it was handed."""

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, claim_ids: list[str]) -> None:
        self.submitted += claim_ids

    def close(self) -> None:
        pass


@pytest.fixture
def service(api: Api) -> IntakeService:
    """The service over the `api` fixture's store (its policies and keys), dispatching to a recorder."""
    return IntakeService(api.settings, api.store, Recorder())


def caller(api: Api, who: str) -> Caller:
    found = KeyRing(api.store).authenticate(api.keys[who])
    assert found is not None
    return found


def uploads(tmp_path: Path, *names: str) -> list[Upload]:
    out = []
    for n, name in enumerate(names, 1):
        path = tmp_path / f"spool-{n}"
        path.write_bytes(image_bytes("JPEG", seed=n))
        out.append(Upload(filename=name, path=path))
    return out


def test_a_claim_is_stored_queued_and_dispatched_once_per_key(
    api: Api, service: IntakeService, tmp_path: Path
) -> None:
    app = caller(api, "app")
    reply = service.submit_upload(app, "k-1", FORM, uploads(tmp_path, "invoice.jpg", "list.jpg"), BASE)
    claim_id = IntakeService.claim_id_for(app, "k-1")
    assert (reply.status, reply.claim_id, reply.replayed) == (201, claim_id, False)
    assert claim_id.startswith("APP-") and claim_id == IntakeService.claim_id_for(app, "k-1")
    assert reply.body["status_url"] == f"{BASE}claims/{claim_id}" == reply.headers["Location"]
    assert reply.body["notes"] == []  # the policy is in the extract
    assert service.dispatcher.submitted == [claim_id]  # type: ignore[attr-defined]
    claim = api.store.get_claim(claim_id)
    assert claim is not None and [d.filename for d in claim.documents] == ["invoice.jpg", "list.jpg"]
    with api.store.session() as s:
        row = s.get(IntakeClaimRow, claim_id)
        assert row is not None and (row.status, row.owner, row.structured) == ("queued", app.owner, False)

    again = service.submit_upload(app, "k-1", FORM, uploads(tmp_path, "invoice.jpg", "list.jpg"), BASE)
    assert again.replayed and again.body == reply.body
    assert service.dispatcher.submitted == [claim_id]  # type: ignore[attr-defined]


def test_a_refused_request_stores_nothing_and_leaves_its_key_unused(
    api: Api, service: IntakeService, tmp_path: Path
) -> None:
    app = caller(api, "app")
    with pytest.raises(IntakeError) as caught:
        service.submit_upload(app, "k-2", {**FORM, "incident_date": "soon"}, uploads(tmp_path, "a.jpg"), BASE)
    assert caught.value.field == "incident_date"
    with pytest.raises(IntakeError) as caught:
        service.submit_upload(app, None, FORM, uploads(tmp_path, "a.jpg"), BASE)
    assert caught.value.error == "idempotency_key_missing"
    assert api.store.get_claim(IntakeService.claim_id_for(app, "k-2")) is None
    reply = service.submit_upload(app, "k-2", FORM, uploads(tmp_path, "a.jpg"), BASE)
    assert reply.status == 201 and not reply.replayed


def test_an_unknown_policy_is_accepted_with_a_note_for_the_handler(
    api: Api, service: IntakeService, tmp_path: Path
) -> None:
    reply = service.submit_upload(
        caller(api, "agent"), "k-3", {**FORM, "policy_number": "PNOWHERE01"}, uploads(tmp_path, "a.jpg"), BASE
    )
    assert reply.claim_id and reply.claim_id.startswith("AGT-")
    assert any("POLICY_NOT_FOUND" in n for n in reply.body["notes"])


def test_a_hospitals_structured_claim_is_stored_with_its_extraction_and_nothing_to_ocr(
    api: Api, service: IntakeService
) -> None:
    sub = HospitalSubmission.model_validate(hospital_submission())
    with pytest.raises(IntakeError) as caught:
        service.submit_structured(caller(api, "app"), "h-1", sub, BASE)
    assert (caught.value.error, caught.value.status) == ("wrong_channel", 403)
    with pytest.raises(IntakeError) as caught:
        service.submit_structured(caller(api, "other_hospital"), "h-1", sub, BASE)
    assert caught.value.error == "hospital_mismatch"

    hospital = caller(api, "hospital")
    reply = service.submit_structured(hospital, "h-1", sub, BASE)
    assert reply.status == 201 and reply.claim_id and reply.claim_id.startswith("HSP-")
    claim = api.store.get_claim(reply.claim_id)
    assert claim is not None and claim.documents
    for doc in claim.documents:  # what OCR and extraction would have produced is there already
        found = api.store.get_result(reply.claim_id, Stage.EXTRACT, Extraction, key=doc.id)
        assert found is not None and found.document_id == doc.id
    with api.store.session() as s:
        row = s.get(IntakeClaimRow, reply.claim_id)
        assert row is not None and row.structured


def test_status_rating_and_documents_are_for_the_owner_and_wait_for_a_decision(
    api: Api, service: IntakeService, tmp_path: Path
) -> None:
    app = caller(api, "app")
    claim_id = service.submit_upload(app, "k-4", FORM, uploads(tmp_path, "a.jpg"), BASE).claim_id
    assert claim_id is not None
    status = service.status(app, claim_id, BASE)
    assert (status.claim_id, status.status, status.notice) == (claim_id, "queued", None)
    with pytest.raises(IntakeError) as caught:
        service.status(caller(api, "agent"), claim_id, BASE)
    assert caught.value.status == 404  # never a 403: a stranger is not told the claim exists
    with pytest.raises(IntakeError) as caught:
        service.rate(app, claim_id, RatingIn(score=5))
    assert (caught.value.error, caught.value.status) == ("not_decided", 409)
    with pytest.raises(IntakeError) as caught:
        service.add_documents(app, claim_id, uploads(tmp_path, "b.jpg"), BASE)
    assert (caught.value.error, caught.value.status) == ("no_open_request", 409)

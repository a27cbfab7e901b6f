"""End to end, on SQLite and on PostgreSQL: a claim uploaded over HTTP runs through the intake-batch
flow (real OCR of a rendered claim), gets its request for documents (电子照会) with the notice, is
answered and decided anew; a hospital's structured claim runs the same flow without OCR and is
settled with the hospital (医疗直付)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from intake_api import Api, linked_settings, make_api
from intake_files import HOSPITAL, OUTPATIENT_POLICY, hospital_submission
from sqlalchemy import func, select

from flows.dispatch import FlowDispatcher
from pipeline.records import ClaimFacts, DocType, FraudScore
from pipeline.store import PageRow

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

FLOW_TIMEOUT = 300
MEDIA = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp", ".pdf": "application/pdf"}


@pytest.fixture(scope="session")
def corpus(shared_dir: Path) -> Path:
    """A rendered synthetic outpatient claim (claims.csv, policies.csv, files), made once per session."""
    from synth.documents import generate_corpus

    out = shared_dir / "corpus"
    generate_corpus(out, 1, 11, render=True)
    return out


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def flow_api(
    request: pytest.FixtureRequest, tmp_path: Path, models_dir: Path, ocr_cache: Path, corpus: Path
) -> Iterator[Api]:
    """The app with the intake flow running in its process (CLAIMS_INTAKE_DISPATCH=flow)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    settings = linked_settings(tmp_path / "data", models_dir, ocr_cache, url)
    dispatcher = FlowDispatcher(settings)
    api = make_api(settings, dispatcher, more_policies=corpus / "policies.csv")
    yield api
    dispatcher.close()
    api.client.close()
    api.store.engine.dispose()


def settle(api: Api) -> None:
    assert api.dispatcher.wait_idle(FLOW_TIMEOUT), "the intake flow did not finish"


def status(api: Api, claim_id: str, who: str = "app") -> dict[str, Any]:
    r = api.client.get(f"/claims/{claim_id}", headers=api.headers(who))
    assert r.status_code == 200, r.text
    return r.json()


def upload(folder: Path, names: list[str]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("documents", (n, (folder / n).read_bytes(), MEDIA[Path(n).suffix])) for n in names]


def test_upload_runs_the_flow_requests_documents_and_decides_when_answered(
    flow_api: Api, corpus: Path
) -> None:
    api = flow_api
    with (corpus / "claims.csv").open(encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["claim_type"] == "outpatient")
    names = [d.split("/", 1)[1] for d in row["documents"].split(";")]
    held_back = [n for n in names if n.startswith(("id_card", "bank_card"))]
    first = [n for n in names if n not in held_back]
    folder = corpus / row["claim_id"]
    form = {
        k: row[k] for k in ("policy_number", "claimant", "claimant_id_number", "incident_date", "claim_type")
    }

    r = api.client.post(
        "/claims", headers=api.headers("app", "e2e-1"), data=form, files=upload(folder, first)
    )
    assert r.status_code == 201, r.text
    claim_id = r.json()["claim_id"]
    settle(api)

    asked = status(api, claim_id)
    assert asked["status"] == "documents_requested", asked
    notice = asked["notice"]
    assert notice["kind"] == "documents_requested" and notice["decision_version"] == 1
    assert f"案件号{claim_id}" in notice["text"] and "请通过原申请渠道上传补充" in notice["text"]
    (req,) = asked["document_requests"]
    wanted = {d["doc_type"] for d in req["documents"]}
    assert {DocType.ID_CARD.value, DocType.BANK_CARD.value} <= wanted, req
    assert all(d["what"] for d in req["documents"])
    assert all(d["doc_type"] for d in asked["documents"])  # every file read and classified

    r = api.client.post(
        f"/claims/{claim_id}/documents", headers=api.headers("app", "e2e-2"), files=upload(folder, held_back)
    )
    assert r.status_code == 202, r.text
    settle(api)

    decided = status(api, claim_id)
    assert decided["status"] not in ("queued", "processing"), decided
    assert decided["document_requests"][0]["status"] == "answered"
    assert len(decided["documents"]) == len(names)
    versions = api.store.latest_decision_version(claim_id)
    assert versions is not None and versions >= 2  # decided anew with every document
    if decided["status"] in ("approved", "paid", "denied", "documents_requested"):
        assert decided["notice"]["text"].startswith(f"尊敬的{row['claimant']}")
    assert (
        api.client.post(f"/claims/{claim_id}/rating", headers=api.headers(), json={"score": 5}).status_code
        == 200
    )

    actions = [e["action"] for e in api.store.audit_events(claim_id)]
    for action in ("claim_received", "documents_added", "service_rated", "api_call"):
        assert action in actions


def test_a_hospitals_structured_claim_is_decided_without_ocr_and_settled_with_the_hospital(
    flow_api: Api,
) -> None:
    api = flow_api
    r = api.client.post(
        "/claims/hospital", headers=api.headers("hospital", "his-1"), json=hospital_submission()
    )
    assert r.status_code == 201, r.text
    assert r.json()["direct_settlement"] is True
    claim_id = r.json()["claim_id"]
    settle(api)

    st = status(api, claim_id, "hospital")
    assert st["status"] not in ("queued", "processing", "error"), st
    assert st["direct_settlement"] is True and st["channel"] == "hospital"
    doc_ids = [d["document_id"] for d in st["documents"]]
    with api.store.session() as s:  # nothing was OCR'd
        assert (
            s.scalar(select(func.count()).select_from(PageRow).where(PageRow.document_id.in_(doc_ids))) == 0
        )
    facts = api.store.get_result(claim_id, "facts", ClaimFacts)
    assert facts is not None and facts.direct_settlement and facts.payee_name == HOSPITAL
    assert facts.claim.policy_number == OUTPATIENT_POLICY and facts.diagnoses == ["J06.9"]
    assert api.store.get_result(claim_id, "fraud", FraudScore) is not None  # scored like any claim
    if st["status"] in ("approved", "paid"):
        assert st["notice"]["kind"] == "payment" and "医疗直付" in st["notice"]["text"]
        assert st["notice"]["covered"] and st["notice"]["payable"] == st["payments"][0]["amount"]
        assert st["payments"][0]["payee"] == HOSPITAL
    else:  # a person looks first (the gate or the fraud score): the reasons say why
        assert st["status"] == "under_review", st
        assert api.store.review_tasks()

    # the same e-invoice sent again under another key is a duplicate, not a second payment
    again = api.client.post(
        "/claims/hospital", headers=api.headers("hospital", "his-2"), json=hospital_submission()
    )
    assert again.status_code == 201 and again.json()["claim_id"] != claim_id
    settle(api)
    dup = status(api, again.json()["claim_id"], "hospital")
    assert dup["status"] == "denied" and dup["notice"]["kind"] == "denial", dup
    assert claim_id in dup["notice"]["text"] and "不能重复报销" in dup["notice"]["text"]
    assert dup["payments"] == []


def test_a_photo_too_poor_to_read_is_asked_for_again_and_its_retake_is_used(
    flow_api: Api, corpus: Path
) -> None:
    """The claim's ID card is a hard photo (low resolution, turned, blurred: its truth says so). It is
    not guessed from: the claimant is asked for a clearer photo (电子照会 with the retake notice), and
    once the retake comes the claim is decided on it, the blur set aside."""
    from synth.documents import retake
    from synth.facts import read_truth

    api = flow_api
    truth = next(c for c in read_truth(corpus) if c.row.claim_type.value == "outpatient")
    first = next(d for d in truth.documents if d.doc_type is DocType.ID_CARD)
    # the claimant's photo of the card: a hard one, too small and blurred to read (the first such draw)
    hard = (retake(truth, first.file, corpus, seed=11, attempt=n, severity="hard") for n in range(20, 40))
    card = next(d for d in hard if "low_resolution" in d.degradations)
    folder = corpus / truth.claim_id
    names = [(card if d.file == first.file else d).file.split("/", 1)[1] for d in truth.documents]
    form = {
        "policy_number": truth.row.policy_number,
        "claimant": truth.row.claimant,
        "claimant_id_number": truth.row.claimant_id_number,
        "incident_date": truth.row.incident_date.isoformat(),
        "claim_type": "outpatient",
    }
    files = upload(folder, names)
    r = api.client.post("/claims", headers=api.headers("app", "retake-1"), data=form, files=files)
    assert r.status_code == 201, r.text
    claim_id = r.json()["claim_id"]
    settle(api)

    asked = status(api, claim_id)
    assert asked["status"] == "documents_requested", asked
    (req,) = asked["document_requests"]
    assert DocType.ID_CARD.value in {d["doc_type"] for d in req["documents"]}
    assert "重新拍摄" in asked["notice"]["text"]  # the notice says why: the photo could not be read
    assert f"另：您上传的照片{card.file.split('/')[1]}无法看清" in asked["notice"]["text"]  # and which
    facts = api.store.get_result(claim_id, "facts", ClaimFacts)
    assert facts is not None and card.file.split("/")[1] in facts.illegible_files  # its type is a guess

    # the claimant's second photo: the same card photographed again (the first fair one of a few)
    tries = (retake(truth, first.file, corpus, seed=11, attempt=n) for n in range(1, 10))
    again = next(a for a in tries if a.severity == "mild")
    r = api.client.post(
        f"/claims/{claim_id}/documents",
        headers=api.headers("app", "retake-2"),
        files=upload(corpus, [again.file]),
    )
    assert r.status_code == 202, r.text
    settle(api)
    decided = status(api, claim_id)
    assert decided["document_requests"][0]["status"] == "answered"
    facts = api.store.get_result(claim_id, "facts", ClaimFacts)
    assert facts is not None and DocType.ID_CARD in facts.documents_present
    assert DocType.ID_CARD not in facts.illegible_documents
    assert all(
        d["doc_type"] != DocType.ID_CARD.value
        for q in decided["document_requests"]
        if q["status"] == "open"
        for d in q["documents"]
    )

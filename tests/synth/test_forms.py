"""The hospital's and the insurer's papers: discharge summary, diagnosis certificate and the hand-filled
claim form each draw the claim's own facts as truth fields on the page."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from pipeline.records import DocType
from synth.book import make_book
from synth.forms import INSURER, claim_form, cn_date, diagnosis_certificate, discharge_summary
from synth.render import Canvas
from synth.truth import ClaimTruth, DocumentTruth


@pytest.fixture(scope="module")
def book() -> list[ClaimTruth]:
    return make_book(30, 11, 0.0)


@pytest.fixture(scope="module")
def inpatient(book: list[ClaimTruth]) -> ClaimTruth:
    return next(c for c in book if c.incident.admission_date and c.incident.discharge_date)


def doc(kind: DocType, layout: str) -> DocumentTruth:
    return DocumentTruth(
        file=f"C0001/{kind.value}_1.jpg", doc_type=kind, media_type="image/jpeg", layout=layout,
        page_number=1, page_count=1, group=f"{kind.value}_1",
    )  # fmt: skip


def fields(canvas: Canvas) -> dict[str, str]:
    assert all(
        0 <= x <= canvas.width and 0 <= y <= canvas.height for f in canvas.fields for x, y in f.box or []
    )
    return {f.name: f.value for f in canvas.fields}


def test_cn_date_is_the_chinese_long_date() -> None:
    assert cn_date(dt.date(2026, 3, 1)) == "2026年03月01日"


def test_the_discharge_summary_draws_the_stay(inpatient: ClaimTruth) -> None:
    canvas, items, tampered = discharge_summary(
        inpatient, doc(DocType.DISCHARGE_SUMMARY, "discharge_summary"), random.Random(1)
    )
    got = fields(canvas)
    inc = inpatient.incident
    assert inc.admission_date and inc.discharge_date
    assert got["hospital"] == inc.hospital and got["patient_name"] == inpatient.insured.name
    assert (got["admission_date"], got["discharge_date"]) == (
        inc.admission_date.isoformat(),
        inc.discharge_date.isoformat(),
    )
    assert got["days_in_hospital"] == str((inc.discharge_date - inc.admission_date).days)
    assert got["age"] == str(inpatient.insured.age_on(inc.admission_date))
    assert (items, tampered) == ([], [])


def test_the_diagnosis_certificate_names_the_diagnosis_and_its_code(inpatient: ClaimTruth) -> None:
    canvas, _, _ = diagnosis_certificate(
        inpatient, doc(DocType.DIAGNOSIS_CERTIFICATE, "diagnosis_certificate"), random.Random(1)
    )
    got = fields(canvas)
    assert got["title"] == "诊 断 证 明 书"
    assert got["patient_name"] == inpatient.insured.name and got["id_number"] == inpatient.insured.id_number
    assert got["doctor"] == inpatient.incident.doctor
    assert {"diagnosis", "diagnosis_code", "issue_date"} <= got.keys()


def test_the_claim_form_is_filled_in_with_the_claim(book: list[ClaimTruth]) -> None:
    for claim in book[:5]:
        canvas, items, _ = claim_form(claim, doc(DocType.CLAIM_FORM, "claim_form"), random.Random(1))
        got = fields(canvas)
        assert any(r.text == INSURER for r in canvas.runs)
        assert got["policy_number"] == claim.policy.policy_number
        assert got["signature"] == claim.claimant.name
        assert got["application_date"] == claim.row.submitted_at.date().isoformat()
        assert got["claim_type"] == claim.incident.claim_type.value  # the one box ticked
        assert items == []

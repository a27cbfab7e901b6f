"""Per-type extractors, checks and facts on pages re-drawn from the synthetic truth, and on real OCR."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from classifiers.doc_type import DocTypeModel
from ocr.elements import Page
from pipeline.extract.documents import extract, extract_document
from pipeline.extract.facts import assemble_facts
from pipeline.records import Claim, DocType, Extraction, Field, Policy
from synth.doc_samples import render_documents

SAMPLE = Path(__file__).resolve().parents[2] / "sample_docs"
SKIP = {"title", "signature", "page_label", "address_2", "address_3", "claim_type"}
"""Not read from text (claim_type is a tick drawn over a box: only OCR of the pixels shows which)."""


@cache
def _sample_truth() -> dict[str, dict[str, Any]]:
    lines = (SAMPLE / ".truth" / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["claim_id"]: row for row in map(json.loads, lines)}


def claim_json(claim_id: str) -> dict[str, Any]:
    return _sample_truth()[claim_id]


@cache
def rendered(claim_id: str) -> list[tuple[list[Page], str, list[Any]]]:
    return render_documents(claim_json(claim_id))


def norm(v: object) -> str:
    if isinstance(v, dt.date):
        return v.isoformat()
    s = re.sub(r"\s", "", unicodedata.normalize("NFKC", str(v)))
    return re.sub(r"^\d+\.", "", s)


def score(claim_ids: list[str]) -> tuple[dict[str, list[int]], list[str]]:
    per_type: dict[str, list[int]] = {}
    misses = []
    for cid in claim_ids:
        for pages, label, truth in rendered(cid):
            ex = extract_document(pages, DocType(label))
            got = {f.name: f for f in ex.fields}
            address = "".join(f.value for f in truth if f.name.startswith("address"))
            for tf in truth:
                if tf.name in SKIP:
                    continue
                want = norm(address if tf.name == "address" else tf.value)
                have = norm(got[tf.name].value) if tf.name in got else ""
                counts = per_type.setdefault(label, [0, 0])
                counts[1] += 1
                if want == have:
                    counts[0] += 1
                else:
                    misses.append(f"{cid} {label}.{tf.name}: {want!r} != {have!r}")
    return per_type, misses


def test_every_extractor_reads_the_truth_back() -> None:
    ids = [f"C{k:04d}" for k in range(1, 13)]
    per_type, misses = score(ids)
    # pharmacy invoices are not in sample_docs: tests/pipeline/test_extract_pharmacy.py reads them
    absent = (DocType.OTHER, DocType.INPATIENT_INVOICE, DocType.PHARMACY_INVOICE)
    assert set(per_type) >= {t.value for t in DocType if t not in absent}
    total = sum(n for _, n in per_type.values())
    exact = sum(k for k, _ in per_type.values())
    assert exact / total >= 0.98, misses
    for label, (k, n) in per_type.items():
        assert k / n >= 0.95, (label, [m for m in misses if label in m])


def test_fields_carry_page_box_and_confidence() -> None:
    pages, _, truth = next(d for d in rendered("C0002") if d[1] == "outpatient_invoice")
    ex = extract_document(pages, DocType.OUTPATIENT_INVOICE)
    inv_no = ex.field("invoice_number")
    want = next(f for f in truth if f.name == "invoice_number")
    assert inv_no is not None and inv_no.page == 1 and 0.9 <= inv_no.confidence <= 1.0
    cx = np.mean([p[0] for p in inv_no.box])
    tx0, tx1 = min(p[0] for p in want.box), max(p[0] for p in want.box)
    assert tx0 - 5 <= cx <= tx1 + 5  # the box points at the number, not at its label
    assert {i.name for i in ex.line_items} and sum(i.amount for i in ex.line_items) == ex.field(
        "total_amount"
    ).value


def test_expense_list_items_match_the_truth() -> None:
    claim = claim_json("C0002")
    pages, _, _ = next(d for d in rendered("C0002") if d[1] == "expense_list")
    ex = extract_document(pages, DocType.EXPENSE_LIST)
    want = [
        (i["name"], i["insurance_class"], Decimal(i["quantity"]), Decimal(i["amount"]))
        for i in claim["bills"][0]["items"]
    ]
    got = [(i.name, i.insurance_class, i.quantity, i.amount) for i in ex.line_items]
    assert got == want
    assert all(c.passed for c in ex.checks), ex.checks


def _tamper(pages: list[Page], old: str, new: str) -> list[Page]:
    lines = [ln.model_copy(update={"text": ln.text.replace(old, new)}) for ln in pages[0].lines]
    return [pages[0].model_copy(update={"lines": lines})]


def test_checks_are_wired_and_named() -> None:
    docs = {label: pages for pages, label, _ in rendered("C0007")}  # a paper invoice the fund paid part of
    inv = extract_document(docs["outpatient_invoice"], DocType.OUTPATIENT_INVOICE)
    assert not inv.failed_checks
    total = str(inv.field("total_amount").raw_text).lstrip("¥")
    bumped = f"{Decimal(total) + 100:.2f}"
    bad = extract_document(_tamper(docs["outpatient_invoice"], total, bumped), DocType.OUTPATIENT_INVOICE)
    assert {"words_vs_figures", "payer_split", "items_sum_to_total"} <= {c.name for c in bad.failed_checks}
    idc = extract_document(docs["id_card"], DocType.ID_CARD)
    number = str(idc.field("id_number").value)
    broken = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert [
        c.name
        for c in extract_document(_tamper(docs["id_card"], number, broken), DocType.ID_CARD).failed_checks
    ] == ["id_checksum"]
    card = extract_document(docs["bank_card"], DocType.BANK_CARD)
    assert not card.failed_checks and card.field("card_number").value


def _claim(cid: str) -> tuple[Claim, Policy]:
    c = claim_json(cid)
    row = c["row"]
    claim = Claim(
        claim_id=cid,
        policy_number=row["policy_number"],
        claimant=row["claimant"],
        claimant_id_number=row["claimant_id_number"],
        insured=row["insured"],
        claim_type=row["claim_type"],
        incident_date=row["incident_date"],
        submitted_at=row["submitted_at"],
        amount_claimed=row["amount_claimed"],
    )
    p = c["policy"]
    policy = Policy(**{k: p[k] for k in Policy.model_fields if k in p})
    return claim, policy


def _inpatient_claim() -> str:
    for k in range(1, 31):
        cid = f"C{k:04d}"
        labels = [d["doc_type"] for d in claim_json(cid)["documents"]]
        if "inpatient_invoice" in labels and "expense_list" in labels and "discharge_summary" in labels:
            return cid
    pytest.skip("sample_docs has no inpatient claim with an expense list")


def test_assemble_facts_joins_the_expense_list_to_its_invoice() -> None:
    cid = _inpatient_claim()
    truth = claim_json(cid)
    exs = [
        extract_document(pages, DocType(label), document_id=f"{k:064x}")
        for k, (pages, label, _) in enumerate(rendered(cid))
    ]
    claim, policy = _claim(cid)
    facts = assemble_facts(claim, exs, policy)
    items = truth["bills"][0]["items"]
    inv = facts.invoices[0]
    assert [(i.name, str(i.amount)) for i in inv.line_items] == [(i["name"], i["amount"]) for i in items]
    assert facts.diagnoses == [code for code, _ in truth["incident"]["diagnoses"]]
    assert facts.admission_date == dt.date.fromisoformat(truth["incident"]["admission_date"])
    assert facts.payee_account == truth["bank_card"]["number"]
    assert DocType.EXPENSE_LIST in facts.documents_present
    assert not [c for c in facts.failed_checks if c.severity == "error"], facts.failed_checks
    # someone else's discharge summary in the claim
    other = [
        ex.model_copy(
            update={
                "fields": [
                    f.model_copy(update={"value": "王小二"}) if f.name == "patient_name" else f
                    for f in ex.fields
                ]
            }
        )
        if ex.doc_type is DocType.DISCHARGE_SUMMARY
        else ex
        for ex in exs
    ]
    assert "same_person" in {c.name for c in assemble_facts(claim, other, policy).failed_checks}


class _Unsure:
    """A classifier that cannot decide: every class equally likely."""

    classes_ = np.array([t.value for t in DocType])

    def predict_proba(self, X: list[Any]) -> np.ndarray:
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))

    def __sklearn_is_fitted__(self) -> bool:
        return True


def test_low_confidence_goes_to_a_person() -> None:
    pages, _, _ = rendered("C0002")[0]
    ex = extract(pages, DocTypeModel(_Unsure()), min_confidence=0.8)
    assert isinstance(ex, Extraction) and ex.needs_review
    assert ex.doc_type_confidence < 0.8 and ex.checks[0].name == "doc_type_confidence"


@pytest.mark.parametrize(
    ("file", "doc_type", "fields"),
    [
        (
            "C0002/outpatient_invoice_1.webp",
            DocType.OUTPATIENT_INVOICE,
            ("invoice_number", "total_amount", "payer_name"),
        ),
        (
            "C0002/diagnosis_certificate_1.webp",
            DocType.DIAGNOSIS_CERTIFICATE,
            ("patient_name", "id_number", "diagnosis"),
        ),
    ],
)
def test_real_ocr_documents(file: str, doc_type: DocType, fields: tuple[str, ...], tmp_path: Path) -> None:
    from ocr.reader import read_document

    doc = next(d for d in claim_json(file.split("/")[0])["documents"] if d["file"] == file)
    pages = read_document(SAMPLE / file)
    ex = extract_document(pages, doc_type)
    truth = {f["name"]: f["value"] for f in doc["fields"]}
    for name in fields:
        assert ex.field(name) is not None and norm(ex.field(name).value) == norm(truth[name]), name
        assert ex.field(name).box is not None


def _blurred(pages: list[Page], share: float) -> list[Page]:
    """The same page as if photographed badly: `share` of its lines read with low confidence."""
    lines = pages[0].lines
    k = round(share * len(lines))
    worse = [ln.model_copy(update={"score": 0.6}) if i < k else ln for i, ln in enumerate(lines)]
    return [pages[0].model_copy(update={"lines": worse})]


def test_an_illegible_photo_is_asked_for_again_not_guessed() -> None:
    cid = _inpatient_claim()
    docs = rendered(cid)
    claim, policy = _claim(cid)
    sharp = [extract_document(pages, DocType(label)) for pages, label, _ in docs]
    assert all(c.passed for ex in sharp for c in ex.checks if c.name == "legible")
    assert not any(ex.needs_review for ex in sharp)

    blurred = [
        extract_document(_blurred(pages, 0.5) if label == "discharge_summary" else pages, DocType(label))
        for pages, label, _ in docs
    ]
    summary = next(ex for ex in blurred if ex.doc_type is DocType.DISCHARGE_SUMMARY)
    check = next(c for c in summary.checks if c.name == "legible")
    assert summary.needs_review and summary.illegible and "clearer photo" in check.message
    assert check.severity == "warning"  # a poor photo is not a fraud signal
    facts = assemble_facts(claim, blurred, policy)
    assert DocType.DISCHARGE_SUMMARY not in facts.documents_present
    assert facts.illegible_documents == [DocType.DISCHARGE_SUMMARY]

    # one uncertain line in ten is an ordinary page (a logo, a faint stamp)
    one_off = extract_document(_blurred(docs[0][0], 0.1), DocType(docs[0][1]))
    assert all(c.passed for c in one_off.checks if c.name == "legible")


def test_the_retake_replaces_the_blur_it_was_asked_for() -> None:
    """A poor photo of the invoice, then the retake the claimant sent: one invoice, nothing of the blur."""
    cid = _inpatient_claim()
    docs = rendered(cid)
    claim, policy = _claim(cid)
    sharp = [extract_document(pages, DocType(label)) for pages, label, _ in docs]
    invoice = next(i for i, (_, label, _) in enumerate(docs) if label == "inpatient_invoice")
    pages, label, _ = docs[invoice]
    blur = extract_document(_blurred(pages, 0.5), DocType(label))
    garbled = blur.model_copy(update={"fields": [f.model_copy(update={"value": "0.01"}) if f.kind == "money"
                                                 else f for f in blur.fields]})  # fmt: skip
    assert garbled.illegible
    before = assemble_facts(claim, [ex for i, ex in enumerate(sharp) if i != invoice] + [garbled], policy)
    assert before.illegible_documents == [DocType.INPATIENT_INVOICE] and not before.invoices
    assert len(before.illegible_files) == 1  # named in the request for documents
    after = assemble_facts(claim, [*sharp, garbled], policy)  # the retake arrived beside the blur
    alone = assemble_facts(claim, sharp, policy)
    assert after.illegible_documents == after.illegible_files == []
    assert DocType.INPATIENT_INVOICE in after.documents_present
    assert after.invoices == alone.invoices and len(after.invoices) == 1
    assert [c.name for c in after.failed_checks] == [c.name for c in alone.failed_checks]


def test_a_bill_without_what_it_is_paid_on_goes_to_a_person() -> None:
    from helpers.pages import page_of

    from pipeline.extract.documents import DECISIVE_FIELDS, decisive_missing

    page = page_of(
        ("上海市医疗门诊收费票据", 465, 85),
        ("合计（小写）", 100, 500),
        ("120.00", 400, 500),
        ("2024年03月05日", 100, 700),
    )
    ex = extract_document([page], DocType.OUTPATIENT_INVOICE)
    failed = {c.name: c for c in ex.failed_checks}
    assert ex.needs_review and failed["decisive_fields"].fields == ["hospital"]
    assert failed["decisive_fields"].severity == "error"
    # a stay's dates are the discharge record's to give: an inpatient bill may print none
    inpatient = DECISIVE_FIELDS[DocType.INPATIENT_INVOICE]
    read = {n: Field(name=n) for n in ("hospital", "total_amount", "issue_date")}
    assert decisive_missing(DocType.INPATIENT_INVOICE, read) is None
    unread = decisive_missing(DocType.INPATIENT_INVOICE, {})
    assert unread is not None and unread.fields == list(inpatient)

"""A hospital's structured submission as the extractions OCR would have produced from its papers.

The e-invoice becomes an invoice extraction (医疗门诊/住院收费票据) with the same field names the
invoice extractor gives (`total_amount`, `fund_paid`, `copay`, `stay_period`, ...) and its fee
categories as line items; the expense list becomes an expense-list extraction with its items; the
visit becomes a discharge summary (住院) or diagnosis certificate (门诊) with its ICD-10 diagnoses.
Each then passes the same per-document checks (`document_checks`: words vs figures, payer split,
items vs total, dates in order, ID checksums) and the claim's facts are assembled from them by the
same `assemble_facts`, so triage, adjudication and fraud see no difference but the absent pixels.

Each part is kept as a document too: its canonical JSON, content-addressed like any file, so an
adjuster can open what the hospital sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intake.schemas import EInvoice, ExpenseList, HospitalSubmission, Visit
from pipeline.extract import icd10
from pipeline.extract.documents import document_checks
from pipeline.files import FileCheck
from pipeline.ingest import Received
from pipeline.records import Check, Claim, DocType, Extraction, Field, FieldKind, LineItem

JSON_MEDIA_TYPE = "application/json"


@dataclass
class StructuredPart:
    """One part of a submission: its JSON bytes (stored as a document) and what it says."""

    filename: str
    data: bytes
    extraction: Extraction

    @property
    def sha256(self) -> str:
        return self.extraction.document_id


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same content always gives the same bytes (and hash)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _field(name: str, value: object, kind: FieldKind = FieldKind.TEXT) -> Field | None:
    if value is None or value == "":
        return None
    raw = value.isoformat() if isinstance(value, dt.date) else str(value)
    return Field(name=name, kind=kind, value=value, raw_text=raw, confidence=1.0, page=1)  # type: ignore[arg-type]


def _extraction(
    doc_type: DocType, data: bytes, fields: list[Field | None], items: list[LineItem]
) -> Extraction:
    ex = Extraction(
        document_id=hashlib.sha256(data).hexdigest(),
        doc_type=doc_type,
        doc_type_confidence=1.0,
        fields=[f for f in fields if f is not None],
        line_items=items,
    )
    ex.checks.extend(document_checks(ex))
    return ex


def _date8(d: dt.date) -> str:
    return d.strftime("%Y%m%d")


def invoice_part(inv: EInvoice) -> StructuredPart:
    M, D = FieldKind.MONEY, FieldKind.DATE
    data = canonical_json({"type": "medical_einvoice", **inv.model_dump(mode="json")})
    doc_type = DocType.INPATIENT_INVOICE if inv.kind == "inpatient" else DocType.OUTPATIENT_INVOICE
    stay = (
        f"{_date8(inv.admission_date)}-{_date8(inv.discharge_date)}"
        if inv.admission_date and inv.discharge_date
        else None
    )
    fields = [
        _field("invoice_code", inv.invoice_code),
        _field("invoice_number", inv.invoice_number),
        _field("check_code", inv.check_code),
        _field("payer_name", inv.patient_name),
        _field("payer_id_number", inv.patient_id_number.upper() if inv.patient_id_number else None),
        _field("sex", inv.sex),
        _field("insurance_type", inv.insurance_type),
        _field("hospital_number", inv.hospital_number),
        _field("visit_date", inv.visit_date, D),
        _field("stay_period", stay),
        _field("total_amount", inv.total, M),
        _field("total_in_words", inv.total_in_words),
        _field("fund_paid", inv.fund_paid, M),
        _field("account_paid", inv.account_paid, M),
        _field("cash_paid", inv.cash_paid, M),
        _field("copay", inv.copay, M),  # 个人自付
        _field("self_pay", inv.self_pay, M),  # 个人自费 (the extractor's name for it)
        _field("hospital", inv.hospital),
        _field("issue_date", inv.issue_date, D),
    ]
    items = [LineItem(name=f.category, category=f.category, amount=f.amount) for f in inv.fee_items]
    name = f"einvoice_{inv.invoice_code}_{inv.invoice_number}.json"
    return StructuredPart(name, data, _extraction(doc_type, data, fields, items))


def expense_list_part(lst: ExpenseList) -> StructuredPart:
    M, D = FieldKind.MONEY, FieldKind.DATE
    data = canonical_json({"type": "expense_list", **lst.model_dump(mode="json")})
    fields = [
        _field("patient_name", lst.patient_name),
        _field("hospital_number", lst.hospital_number),
        _field("department", lst.department),
        _field("admission_date", lst.admission_date, D),
        _field("discharge_date", lst.discharge_date, D),
        _field("visit_date", lst.visit_date, D),
        _field("page_total", lst.total, M),  # one "page": its subtotal is the list's total
        _field("total_amount", lst.total, M),
    ]
    items = [
        LineItem(
            name=i.name,
            category=i.category,
            insurance_class=i.insurance_class,
            quantity=i.quantity,
            unit_price=i.unit_price,
            amount=i.amount,
        )
        for i in lst.items
    ]
    name = f"expense_list_{lst.hospital_number}.json"
    return StructuredPart(name, data, _extraction(DocType.EXPENSE_LIST, data, fields, items))


def visit_part(sub: HospitalSubmission) -> StructuredPart:
    """The visit as a discharge summary (住院) or a diagnosis certificate (门诊)."""
    visit: Visit = sub.visit
    inv = sub.invoice
    inpatient = inv.kind == "inpatient"
    doc_type = DocType.DISCHARGE_SUMMARY if inpatient else DocType.DIAGNOSIS_CERTIFICATE
    D, INT = FieldKind.DATE, FieldKind.INT
    data = canonical_json(
        {
            "type": "visit",
            "hospital": inv.hospital,
            "hospital_number": inv.hospital_number,
            "patient_name": inv.patient_name,
            **visit.model_dump(mode="json"),
        }
    )
    fields: list[Field | None] = [
        _field("patient_name", inv.patient_name),
        _field("sex", inv.sex),
        _field("department", visit.department),
        _field("hospital_number", inv.hospital_number),
        _field("doctor", visit.doctor),
        _field("hospital", inv.hospital),
    ]
    if inpatient:
        fields += [
            _field("admission_date", visit.admission_date or inv.admission_date, D),
            _field("discharge_date", visit.discharge_date or inv.discharge_date, D),
            _field("days_in_hospital", visit.days_in_hospital, INT),
        ]
    else:
        fields += [
            _field("visit_date", visit.visit_date or inv.visit_date, D),
            _field("id_number", inv.patient_id_number.upper() if inv.patient_id_number else None),
        ]
    checks: list[Check] = []
    for k, diagnosis in enumerate(visit.diagnoses):
        suffix = "" if k == 0 else f"_{k + 1}"
        fields.append(_field(f"diagnosis{suffix}", diagnosis.name))
        fields.append(_field(f"diagnosis_code{suffix}", diagnosis.code))
        known = icd10.code_for(diagnosis.name)
        if known and known[1] >= 0.9 and known[0] != diagnosis.code:  # as for a printed code
            checks.append(
                Check(
                    name="icd10_mismatch",
                    passed=False,
                    fields=[f"diagnosis{suffix}", f"diagnosis_code{suffix}"],
                    message=f"{diagnosis.name} is {known[0]} in the ICD-10 dictionary, the hospital sent"
                    f" {diagnosis.code}",
                    severity="warning",
                )
            )
    ex = _extraction(doc_type, data, fields, [])
    ex.checks[:0] = checks
    name = f"{'discharge_summary' if inpatient else 'diagnosis'}_{inv.hospital_number}.json"
    return StructuredPart(name, data, ex)


def submission_parts(sub: HospitalSubmission) -> list[StructuredPart]:
    """The submission's parts, each a document with its extraction: invoice, expense list, visit."""
    return [invoice_part(sub.invoice), expense_list_part(sub.expense_list), visit_part(sub)]


def submission_claim(
    sub: HospitalSubmission, claim_id: str, channel: str, submitted_at: dt.datetime
) -> Claim:
    """The claim a submission makes, its documents still to be registered."""
    return Claim(
        claim_id=claim_id,
        policy_number=sub.policy_number,
        claimant=sub.claimant,
        claimant_id_number=sub.claimant_id_number.upper() if sub.claimant_id_number else None,
        insured=sub.insured,
        claim_type=sub.resolved_claim_type(),
        incident_date=sub.resolved_incident_date(),
        submitted_at=submitted_at,
        channel=channel,
        amount_claimed=sub.amount_claimed,
    )


def received_parts(parts: list[StructuredPart], folder: Path) -> list[Received]:
    """The parts written to `folder` as files the spine registers like any other: JSON, no pages."""
    out = []
    for part in parts:
        path = folder / part.sha256
        path.write_bytes(part.data)
        check = FileCheck(media_type=JSON_MEDIA_TYPE, size=len(part.data), sha256=part.sha256, page_count=0)
        out.append(Received(part.filename, path, check, doc_type=part.extraction.doc_type))
    return out

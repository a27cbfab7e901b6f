"""The extraction stage's entry points: pages of OCR lines in, a checked `Extraction` out.

`extract_document(pages, doc_type)` routes to the extractor of a known type (as
`unstructured`'s partition routes by file type) and runs that type's checks; `extract(pages,
classify)` first asks the doc-type classifier (any callable giving a type and its probability, e.g.
`classifiers.doc_type.DocTypeModel`), and sends a document it is unsure of to a person
(`needs_review`) instead of trusting a guess.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from ocr.elements import Page
from pipeline.extract import checks as ck
from pipeline.extract.expense_list import extract_expense_list
from pipeline.extract.forms import extract_bank_card, extract_claim_form, extract_id_card
from pipeline.extract.invoice import read_invoice
from pipeline.extract.medical import extract_certificate, extract_discharge
from pipeline.extract.pairing import repair_geometry
from pipeline.extract.pharmacy import non_medical_purchase, read_pharmacy_invoice
from pipeline.extract.plausible import review_fields
from pipeline.extract.settlement import funds_in_doubt, other_amounts
from pipeline.extract.sheets import multiple_documents_check, split_sheet
from pipeline.records import Check, DocType, Extraction, Field, LineItem

log = logging.getLogger(__name__)

FIELD_MIN_CONFIDENCE = 0.8
"""Fields read with less confidence send their document to a person (`plausible.review_fields`)
and are listed for the adjuster (ClaimFacts.low_confidence_fields)."""

CORE_FIELDS: dict[DocType, tuple[str, ...]] = {
    DocType.OUTPATIENT_INVOICE: ("invoice_number", "payer_name", "total_amount", "issue_date"),
    DocType.INPATIENT_INVOICE: ("invoice_number", "payer_name", "total_amount", "issue_date"),
    DocType.PHARMACY_INVOICE: ("invoice_number", "seller", "total_amount", "issue_date"),
    DocType.EXPENSE_LIST: ("patient_name", "hospital_number"),
    DocType.DISCHARGE_SUMMARY: ("patient_name", "admission_date", "discharge_date", "diagnosis"),
    DocType.DIAGNOSIS_CERTIFICATE: ("patient_name", "hospital", "diagnosis"),
    DocType.CLAIM_FORM: ("policy_number", "claimant_name", "insured_name", "account_number"),
    DocType.ID_CARD: ("name", "id_number", "birth_date"),
    DocType.BANK_CARD: ("card_number",),
}
"""Fields every document of the type carries; a photo on which half of them cannot be found, and
little text was read, is asked for again (see `checks.check_legibility`)."""

DECISIVE_FIELDS: dict[DocType, tuple[str, ...]] = {
    DocType.OUTPATIENT_INVOICE: ("hospital", "total_amount", "issue_date"),
    DocType.INPATIENT_INVOICE: ("hospital", "total_amount", "issue_date"),
    DocType.PHARMACY_INVOICE: ("seller", "total_amount", "issue_date"),
}
"""What a bill's payment rests on: who issued it (the watch list, duplicate keys and 医疗直付's payee
name it), how much and when (the policy's cover on that day). A bill read without one of them goes
to a person, who reads it off the page, never paid on what is left. The dates of a stay are no
bill's to give alone: many print none, and the discharge record gives them."""

BILLS = (DocType.OUTPATIENT_INVOICE, DocType.INPATIENT_INVOICE)
"""Documents a claimant may glue several of onto one sheet (`sheets.split_sheet`)."""

Extractor = Callable[[Sequence[Page]], tuple[dict[str, Field], list[LineItem], list[Check]]]


def _no_items(fn: Callable[[Sequence[Page]], dict[str, Field]]) -> Extractor:
    return lambda pages: (fn(pages), [], [])


def _with_checks(fn: Callable[[Sequence[Page]], tuple[dict[str, Field], list[Check]]]) -> Extractor:
    def run(pages: Sequence[Page]) -> tuple[dict[str, Field], list[LineItem], list[Check]]:
        fields, found = fn(pages)
        return fields, [], found

    return run


def _with_items(fn: Callable[[Sequence[Page]], tuple[dict[str, Field], list[LineItem]]]) -> Extractor:
    def run(pages: Sequence[Page]) -> tuple[dict[str, Field], list[LineItem], list[Check]]:
        fields, items = fn(pages)
        return fields, items, []

    return run


EXTRACTORS: dict[DocType, Extractor] = {
    DocType.OUTPATIENT_INVOICE: read_invoice,
    DocType.INPATIENT_INVOICE: read_invoice,
    DocType.PHARMACY_INVOICE: read_pharmacy_invoice,
    DocType.EXPENSE_LIST: _with_items(extract_expense_list),
    DocType.DISCHARGE_SUMMARY: _with_checks(extract_discharge),
    DocType.DIAGNOSIS_CERTIFICATE: _with_checks(extract_certificate),
    DocType.CLAIM_FORM: _no_items(extract_claim_form),
    DocType.ID_CARD: _no_items(extract_id_card),
    DocType.BANK_CARD: _no_items(extract_bank_card),
}


def extract_document(
    pages: Sequence[Page],
    doc_type: DocType,
    *,
    document_id: str = "",
    doc_type_confidence: float = 1.0,
) -> Extraction:
    """Typed fields, line items and checks of one document whose type is known."""
    extractor = EXTRACTORS.get(doc_type)
    if doc_type is DocType.OTHER:  # set aside with its reason, never read as a guessed invoice
        return Extraction(
            document_id=document_id,
            doc_type=doc_type,
            doc_type_confidence=doc_type_confidence,
            needs_review=True,
            checks=[ck.check_not_claim_document(pages)],
        )
    if extractor is None:
        return Extraction(
            document_id=document_id,
            doc_type=doc_type,
            doc_type_confidence=doc_type_confidence,
            needs_review=True,
            checks=[
                Check(
                    name="doc_type_unknown",
                    passed=False,
                    message="not a document type the pipeline reads; a person must look at it",
                    severity="warning",
                )
            ],
        )
    pages = [repair_geometry(p) for p in pages]
    if doc_type in BILLS and len(bills := split_sheet(pages)) > 1:
        return _several_bills(bills, doc_type, document_id, doc_type_confidence)
    fields, items, found = extractor(pages)
    doubt = review_fields(fields, FIELD_MIN_CONFIDENCE)  # caps implausible values' confidence
    ex = Extraction(
        document_id=document_id,
        doc_type=doc_type,
        doc_type_confidence=doc_type_confidence,
        fields=sorted(fields.values(), key=lambda f: (f.page, _top(f), f.name)),
        line_items=items,
        checks=found,
    )
    ex.checks.extend(document_checks(ex, pages))
    core = CORE_FIELDS.get(doc_type, ())
    blank = {n for c in found if c.name == "blank_labels" for n in c.fields}  # printed empty, not unread
    legible = ck.check_legibility(pages, core, [n for n in core if fields.get(n) is None and n not in blank])
    if legible is not None:
        ex.checks.append(legible)
        ex.needs_review = ex.needs_review or not legible.passed
    if doubt is not None:  # a value the reader is unsure of, or one that cannot be right
        ex.checks.append(doubt)
    if (unread := decisive_missing(doc_type, fields)) is not None:
        ex.checks.append(unread)
    # what adjudication refers to a person (`extraction_checks`) is a document a person sees
    ex.needs_review = ex.needs_review or any(c.severity == "error" for c in ex.failed_checks)
    return ex


def decisive_missing(doc_type: DocType, fields: dict[str, Field]) -> Check | None:
    """A failed check naming the `DECISIVE_FIELDS` not read, or None when the bill carries all
    it is paid on."""
    missing = [n for n in DECISIVE_FIELDS.get(doc_type, ()) if n not in fields]
    if not missing:
        return None
    return Check(
        name="decisive_fields",
        passed=False,
        message="a person reads what the payment rests on and was not found: " + ", ".join(missing),
        fields=missing,
        severity="error",
    )


def _several_bills(
    bills: list[list[Page]], doc_type: DocType, document_id: str, doc_type_confidence: float
) -> Extraction:
    """A page of several bills: each read as a document of its own (`parts`, ids `<id>#1` …); the
    page carries the first bill's reading and goes to a person with a `multiple_documents` check."""
    parts = [
        extract_document(
            p, doc_type, document_id=f"{document_id}#{k}", doc_type_confidence=doc_type_confidence
        )
        for k, p in enumerate(bills, 1)
    ]
    first = parts[0]
    return first.model_copy(
        update={
            "document_id": document_id,
            "parts": parts,
            "needs_review": True,
            "checks": [multiple_documents_check(len(parts)), *first.checks],
        }
    )


def _top(f: Field) -> float:
    return min(p[1] for p in f.box) if f.box else 0.0


def document_checks(ex: Extraction, pages: Sequence[Page] = ()) -> list[Check]:
    """The validations one document allows on its own (cross-document ones live in facts.py);
    `pages`, when there are any, say what the bill prints beyond the fields read."""
    f = {x.name: x for x in ex.fields}
    v = {x.name: x.value for x in ex.fields}
    out: list[Check | None] = []
    t = ex.doc_type
    if t in (DocType.OUTPATIENT_INVOICE, DocType.INPATIENT_INVOICE):
        out.append(ck.check_words_vs_figures(f))
        out.append(ck.check_payer_split(f, other_amounts(f), funds_in_doubt=funds_in_doubt(pages, f)))
        out.append(ck.check_items_sum(ex.line_items, _money(v.get("total_amount"))))
        start, end = stay_dates(str(v["stay_period"])) if v.get("stay_period") else (None, None)
        start, end = _date(v.get("admission_date")) or start, _date(v.get("discharge_date")) or end
        out.append(
            ck.check_date_order(
                [
                    ("admission_date", start),
                    ("discharge_date", end),
                    ("visit_date", _date(v.get("visit_date"))),
                    ("issue_date", _date(v.get("issue_date"))),
                ]
            )
        )
        if v.get("social_security_number") and len(str(v["social_security_number"])) == 18:
            out.append(ck.check_id_number(f, "social_security_number", sex="sex"))
        if v.get("payer_id_number"):
            out.append(ck.check_id_number(f, "payer_id_number", sex="sex"))
    elif t is DocType.PHARMACY_INVOICE:
        out.append(ck.check_words_vs_figures(f))
        out.append(ck.check_items_sum(ex.line_items, _money(v.get("total_amount"))))
    elif t is DocType.EXPENSE_LIST:
        out.append(ck.check_words_vs_figures(f))
        out.append(
            ck.check_items_sum(
                ex.line_items, _money(v.get("page_total")), name="page_items_sum", field="page_total"
            )
        )
        out.append(
            ck.check_date_order(
                [
                    ("admission_date", _date(v.get("admission_date"))),
                    ("discharge_date", _date(v.get("discharge_date"))),
                ]
            )
        )
    elif t is DocType.DISCHARGE_SUMMARY:
        adm, dis = _date(v.get("admission_date")), _date(v.get("discharge_date"))
        out.append(
            ck.check_date_order(
                [
                    ("admission_date", adm),
                    ("discharge_date", dis),
                    ("signed_date", _date(v.get("signed_date"))),
                ]
            )
        )
        days = v.get("days_in_hospital")
        if adm and dis and isinstance(days, int):
            ok = (dis - adm).days == days
            out.append(
                Check(
                    name="days_in_hospital",
                    passed=ok,
                    fields=["admission_date", "discharge_date", "days_in_hospital"],
                    message="" if ok else f"{days} days printed, the dates give {(dis - adm).days}",
                )
            )
    elif t is DocType.DIAGNOSIS_CERTIFICATE:
        out.append(ck.check_id_number(f, "id_number", sex="sex"))
        out.append(
            ck.check_date_order(
                [("visit_date", _date(v.get("visit_date"))), ("issue_date", _date(v.get("issue_date")))]
            )
        )
    elif t is DocType.CLAIM_FORM:
        out.append(ck.check_id_number(f, "claimant_id_number", birth="-", sex="-"))
        out.append(ck.check_id_number(f, "insured_id_number", birth="insured_birth_date", sex="insured_sex"))
        out.append(ck.check_luhn(f, "account_number"))
        out.append(
            ck.check_date_order(
                [
                    ("incident_date", _date(v.get("incident_date"))),
                    ("application_date", _date(v.get("application_date"))),
                ]
            )
        )
    elif t is DocType.ID_CARD:
        out.append(ck.check_id_number(f, "id_number"))
    elif t is DocType.BANK_CARD:
        out.append(ck.check_luhn(f, "card_number"))
    return [c for c in out if c is not None]


def stay_dates(text: str) -> tuple[dt.date | None, dt.date | None]:
    """The two dates of an inpatient invoice's 住院时间 `20250101-20250105`."""
    parts = [ck.parse_date(p) for p in text.replace("至", "-").replace("~", "-").split("-")]
    if len(parts) == 2:
        return parts[0], parts[1]
    return None, None


def _date(v: object) -> dt.date | None:
    return v if isinstance(v, dt.date) else None


def _money(v: object) -> Any:
    from decimal import Decimal

    return v if isinstance(v, Decimal) else None


# --- with the classifier ---------------------------------------------------------------------------


def extract(
    pages: Sequence[Page],
    classify: Callable[[Sequence[Page]], tuple[DocType, float]],
    *,
    document_id: str = "",
    min_confidence: float | None = None,
) -> Extraction:
    """Classify the document, then extract it; below the confidence threshold a person decides.

    A document classified with less than `settings.doc_type_min_confidence` keeps the classifier's
    best guess as `doc_type` and its (low) confidence, is extracted as that type so the adjuster
    sees what could be read, and is marked `needs_review=True` with a failed `doc_type_confidence`
    check: the guess is never used silently. A document classified `other` is not extracted.
    """
    if min_confidence is None:
        from pipeline.settings import get_settings

        min_confidence = get_settings().doc_type_min_confidence
    doc_type, conf = classify(pages)
    ex = extract_document(pages, doc_type, document_id=document_id, doc_type_confidence=round(conf, 4))
    if doc_type is DocType.PHARMACY_INVOICE and (other := non_medical_purchase(ex.line_items)):
        return _not_a_purchase_of_drugs(ex, other)
    if conf < min_confidence:
        ex.needs_review = True
        ex.checks.insert(
            0,
            Check(
                name="doc_type_confidence",
                passed=False,
                message=f"document type {doc_type.value} guessed with confidence {conf:.2f}"
                f" (< {min_confidence:.2f}); a person must confirm it",
                severity="warning",
            ),
        )
    elif doc_type is DocType.OTHER:
        ex.needs_review = True
    return ex


def _not_a_purchase_of_drugs(ex: Extraction, categories: Sequence[str]) -> Extraction:
    """A VAT invoice whose every line is taxed as something no drug is (住宿服务, 运输服务): `other`,
    set aside with its reason, whatever the classifier thought of its layout."""
    what = "、".join(dict.fromkeys(categories))
    check = Check(
        name="not_a_claim_document",
        passed=False,
        message=f"a non-medical invoice ({what}) is not a claim document; set aside, not read as one",
        severity="warning",
    )
    return Extraction(
        document_id=ex.document_id,
        doc_type=DocType.OTHER,
        doc_type_confidence=ex.doc_type_confidence,
        needs_review=True,
        checks=[check],
    )


def extraction_json(ex: Extraction) -> dict[str, Any]:
    """What `claims extract FILE --json` prints: type, confidence, fields with boxes, items, checks."""
    return ex.model_dump(mode="json")


def low_confidence(ex: Extraction, threshold: float = FIELD_MIN_CONFIDENCE) -> list[str]:
    return [f"{ex.doc_type.value}.{f.name}" for f in ex.fields if f.confidence < threshold]

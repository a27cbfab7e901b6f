"""A claim's extractions consolidated into the `ClaimFacts` triage, adjudication and fraud decide on.

Invoices come with their items: an expense list's (费用清单) rows belong to the invoice of the same
stay (matched by 住院号/门诊号, else by total, else by kind), replacing the invoice's fee-category
summary. Diagnoses are ICD-10 codes, the discharge summary's principal first. The payee is the claim
form's account, completed from the bank card. Checks that need several documents (one patient,
one claimant, the ID card against the form, the card against the account, dates in order across
papers, list items against the invoice) are added to the documents' own failed checks.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from pipeline.extract import checks as ck
from pipeline.extract.documents import FIELD_MIN_CONFIDENCE, stay_dates
from pipeline.extract.icd10 import code_for
from pipeline.extract.sheets import MULTIPLE_DOCUMENTS
from pipeline.records import (
    Check,
    Claim,
    ClaimFacts,
    ClaimType,
    DocType,
    Extraction,
    Invoice,
    LineItem,
    Policy,
    money,
)

log = logging.getLogger(__name__)

INVOICE_TYPES = (DocType.OUTPATIENT_INVOICE, DocType.INPATIENT_INVOICE, DocType.PHARMACY_INVOICE)
"""Expense documents: medical bills first, then pharmacy purchases (购药发票), which print no payer
split (the buyer paid it all) and never take an expense list's items."""
MEDICAL_INVOICE_TYPES = INVOICE_TYPES[:2]


def _v(ex: Extraction | None, name: str) -> object:
    if ex is None:
        return None
    f = ex.field(name)
    return None if f is None else f.value


def _first(exs: Sequence[Extraction], name: str) -> object:
    for ex in exs:
        v = _v(ex, name)
        if v not in (None, ""):
            return v
    return None


def _money(v: object) -> Decimal | None:
    return money(v) if isinstance(v, Decimal | int) else None


def _date(v: object) -> dt.date | None:
    return v if isinstance(v, dt.date) else None


def assemble_facts(
    claim: Claim,
    extractions: Sequence[Extraction],
    policy: Policy | None = None,
    *,
    min_confidence: float = FIELD_MIN_CONFIDENCE,
) -> ClaimFacts:
    """Everything the deciding stages need about one claim, from the extractions of its documents.

    A photo too poor to read counts as not received: none of its fields or findings is used, its
    type is listed under `illegible_documents` until a legible one of that type (the retake the
    claimant was asked for) is among the documents, and from then on the blur is simply ignored.
    """
    blurred = [ex for ex in extractions if ex.illegible]
    extractions = [ex for ex in extractions if not ex.illegible]
    # several bills on one page: each is an invoice of its own, and the page's finding stays
    pasted = [c for ex in extractions if ex.parts for c in ex.failed_checks if c.name == MULTIPLE_DOCUMENTS]
    extractions = [part for ex in extractions for part in (ex.parts or [ex])]
    by_type: dict[DocType, list[Extraction]] = defaultdict(list)
    for ex in extractions:
        by_type[ex.doc_type].append(ex)
    discharge = by_type[DocType.DISCHARGE_SUMMARY]
    certificate = by_type[DocType.DIAGNOSIS_CERTIFICATE]
    form = by_type[DocType.CLAIM_FORM][0] if by_type[DocType.CLAIM_FORM] else None
    bank = by_type[DocType.BANK_CARD][0] if by_type[DocType.BANK_CARD] else None
    lists = by_type[DocType.EXPENSE_LIST]
    invoice_exs = [ex for t in INVOICE_TYPES for ex in by_type[t]]
    checks: list[Check] = []

    invoices, list_checks = _invoices(invoice_exs, lists)
    checks.extend([*pasted, *list_checks])

    diagnoses: list[str] = []
    for ex in [*discharge, *certificate]:
        for f in sorted(
            (f for f in ex.fields if f.name.startswith("diagnosis_code")),
            key=lambda f: int(f.name.rsplit("_", 1)[1]) if f.name[-1].isdigit() else 1,
        ):
            if f.value and str(f.value) not in diagnoses:
                diagnoses.append(str(f.value))
    if not diagnoses:  # an outpatient claim's only diagnosis may be the one written on the claim form
        for ex in by_type[DocType.CLAIM_FORM]:
            name = ex.field("diagnosis")
            found = code_for(str(name.value)) if name is not None and name.value else None
            if found is not None and found[0] not in diagnoses:
                diagnoses.append(found[0])

    admission = _date(_first(discharge, "admission_date")) or _date(_first(lists, "admission_date"))
    discharged = _date(_first(discharge, "discharge_date")) or _date(_first(lists, "discharge_date"))
    if admission is None or discharged is None:
        for ex in by_type[DocType.INPATIENT_INVOICE]:
            a, d = _date(_v(ex, "admission_date")), _date(_v(ex, "discharge_date"))
            if _v(ex, "stay_period"):
                a0, d0 = stay_dates(str(_v(ex, "stay_period")))
                a, d = a or a0, d or d0
            admission, discharged = admission or a, discharged or d
    hospital = (
        _first(discharge, "hospital")
        or _first(certificate, "hospital")
        or _first(invoice_exs, "hospital")
        or _v(form, "hospital")
    )

    claim_type = claim.claim_type
    if claim_type is None and form is not None and _v(form, "claim_type"):
        claim_type = ClaimType(str(_v(form, "claim_type")))
    if claim_type is None:
        inpatient = by_type[DocType.INPATIENT_INVOICE] or discharge
        claim_type = ClaimType.INPATIENT if inpatient else ClaimType.OUTPATIENT

    checks.extend(cross_document_checks(claim, extractions, policy, admission, discharged))
    failed = [c for ex in extractions for c in ex.failed_checks] + [c for c in checks if not c.passed]
    present = {ex.doc_type for ex in extractions}
    order = list(DocType)
    unread = [ex for ex in blurred if ex.doc_type not in present]  # no retake of that type yet
    names = {d.id: d.filename for d in claim.documents}

    payee_account = _v(form, "account_number") or _v(bank, "card_number")
    return ClaimFacts(
        claim=claim,
        policy=policy,
        claim_type=claim_type,
        diagnoses=diagnoses,
        hospital=str(hospital) if hospital else None,
        admission_date=admission,
        discharge_date=discharged,
        invoices=invoices,
        documents_present=sorted(present, key=order.index),
        illegible_documents=sorted({ex.doc_type for ex in unread}, key=order.index),
        illegible_files=list(dict.fromkeys(names.get(ex.document_id, ex.document_id) for ex in unread)),
        failed_checks=failed,
        payee_name=str(_v(form, "account_holder") or claim.claimant),
        payee_bank=str(_v(form, "bank_name") or _v(bank, "bank_name") or "") or None,
        payee_account=str(payee_account) if payee_account else None,
        low_confidence_fields=[
            f"{ex.doc_type.value}.{f.name}"
            for ex in extractions
            for f in ex.fields
            if f.confidence < min_confidence
        ],
    )


def _invoices(
    invoice_exs: Sequence[Extraction], lists: Sequence[Extraction]
) -> tuple[list[Invoice], list[Check]]:
    """Invoices with their items; each expense list (all its pages) joins the invoice of its stay."""
    groups: dict[str, list[Extraction]] = defaultdict(list)
    for ex in lists:
        groups[str(_v(ex, "hospital_number") or ex.document_id)].append(ex)
    items_for: dict[int, list[LineItem]] = {}
    list_total: dict[int, Decimal | None] = {}
    checks: list[Check] = []
    for number, pages in groups.items():
        total = next(
            (_money(_v(p, "total_amount")) for p in pages if _v(p, "total_amount") is not None), None
        )
        medical = [ex for ex in invoice_exs if ex.doc_type in MEDICAL_INVOICE_TYPES]  # first in order
        target = _match_invoice(medical, number, total)
        if target is None:
            continue
        items_for.setdefault(target, []).extend(i for p in pages for i in p.line_items)
        list_total[target] = total
    out = []
    for k, ex in enumerate(invoice_exs):
        total = _money(_v(ex, "total_amount"))
        items = items_for.get(k) or list(ex.line_items)
        if total is None:
            total = money(sum((i.amount for i in items), Decimal(0)))
            checks.append(
                Check(
                    name="invoice_total_unread",
                    passed=False,
                    fields=["total_amount"],
                    message=f"invoice {_v(ex, 'invoice_number')}: total not read; items add up to {total}",
                )
            )
        if k in items_for:
            c = ck.check_items_sum(items_for[k], total, name="list_items_sum_to_invoice")
            if c is not None:
                checks.append(c)
        visit = _date(_v(ex, "visit_date")) or _date(_v(ex, "admission_date"))
        if visit is None and _v(ex, "stay_period"):
            visit = stay_dates(str(_v(ex, "stay_period")))[0]
        pharmacy = ex.doc_type is DocType.PHARMACY_INVOICE
        out.append(
            Invoice(
                document_id=ex.document_id or None,
                invoice_code=_s(_v(ex, "invoice_code")),
                invoice_number=_s(_v(ex, "invoice_number")),
                hospital=_s(_v(ex, "hospital")) or _s(_v(ex, "seller")),
                electronic=bool(_v(ex, "check_code")),
                issue_date=_date(_v(ex, "issue_date")),
                visit_date=visit,
                total=total,
                total_in_words=_s(_v(ex, "total_in_words")),
                fund_paid=_money(_v(ex, "fund_paid")) or Decimal("0.00"),
                account_paid=_money(_v(ex, "account_paid")) or Decimal("0.00"),
                cash_paid=_money(_v(ex, "cash_paid")) or (total if pharmacy else Decimal("0.00")),
                self_pay=_money(_v(ex, "copay")) or Decimal("0.00"),  # 个人自付
                self_expense=_money(_v(ex, "self_pay")) or Decimal("0.00"),  # 个人自费 (truth name self_pay)
                insurance_type=_s(_v(ex, "insurance_type")),  # 医保类型: settled through social insurance?
                line_items=items,
            )
        )
    return out, checks


def _match_invoice(invoice_exs: Sequence[Extraction], number: str, total: Decimal | None) -> int | None:
    same_no = [k for k, ex in enumerate(invoice_exs) if _s(_v(ex, "hospital_number")) == number]
    if len(same_no) == 1:
        return same_no[0]
    candidates = same_no or list(range(len(invoice_exs)))
    same_total = [
        k for k in candidates if total is not None and _money(_v(invoice_exs[k], "total_amount")) == total
    ]
    if len(same_total) == 1:
        return same_total[0]
    inpatient = [k for k in candidates if invoice_exs[k].doc_type is DocType.INPATIENT_INVOICE]
    if len(inpatient) == 1:
        return inpatient[0]
    return candidates[0] if len(candidates) == 1 else None


def _s(v: object) -> str | None:
    return None if v in (None, "") else str(v)


def cross_document_checks(
    claim: Claim,
    extractions: Sequence[Extraction],
    policy: Policy | None = None,
    admission: dt.date | None = None,
    discharged: dt.date | None = None,
) -> list[Check]:
    """Checks across a claim's documents: people, numbers and dates that must agree."""
    out: list[Check | None] = []
    insured = claim.insured or (policy.insured if policy else None)
    out.append(ck.check_same_person(extractions, insured))
    out.append(
        ck.check_same_person(
            extractions,
            claim.claimant,
            fields=ck.CLAIMANT_FIELDS,
            check_name="same_claimant",
            source="claim.claimant",
        )
    )
    by_type = {ex.doc_type: ex for ex in extractions}
    idc, form, bank = (
        by_type.get(DocType.ID_CARD),
        by_type.get(DocType.CLAIM_FORM),
        by_type.get(DocType.BANK_CARD),
    )
    ids = {
        "id_card.id_number": _v(idc, "id_number"),
        "claim_form.claimant_id_number": _v(form, "claimant_id_number"),
        "claim.claimant_id_number": claim.claimant_id_number,
    }
    out.append(_agree("same_claimant_id", ids))
    insured_ids = {
        "claim_form.insured_id_number": _v(form, "insured_id_number"),
        "diagnosis_certificate.id_number": _v(by_type.get(DocType.DIAGNOSIS_CERTIFICATE), "id_number"),
        "policy.insured_id_number": policy.insured_id_number if policy else None,
    }
    out.append(_agree("same_insured_id", insured_ids))
    out.append(
        _agree(
            "same_account",
            {
                "claim_form.account_number": _v(form, "account_number"),
                "bank_card.card_number": _v(bank, "card_number"),
            },
        )
    )
    issue = max(
        (
            d
            for ex in extractions
            if ex.doc_type is DocType.INPATIENT_INVOICE
            for d in [_date(_v(ex, "issue_date"))]
            if d
        ),
        default=None,
    )
    out.append(
        ck.check_date_order(
            [("admission_date", admission), ("discharge_date", discharged), ("invoice_issue_date", issue)]
        )
    )
    numbers = [
        str(_v(ex, "invoice_number"))
        for ex in extractions
        if ex.doc_type in INVOICE_TYPES and _v(ex, "invoice_number")
    ]
    dup = sorted({n for n in numbers if numbers.count(n) > 1})
    if dup:
        out.append(
            Check(
                name="duplicate_invoice",
                passed=False,
                fields=["invoice_number"],
                message=f"invoice {', '.join(dup)} submitted twice",
            )
        )
    return [c for c in out if c is not None]


def _agree(name: str, values: dict[str, object]) -> Check | None:
    known = {k: ck.normalise_id(str(v)) for k, v in values.items() if v}
    if len(known) < 2:
        return None
    ok = len(set(known.values())) == 1
    return Check(
        name=name,
        passed=ok,
        fields=list(known),
        message="" if ok else "; ".join(f"{k}={v}" for k, v in known.items()),
    )

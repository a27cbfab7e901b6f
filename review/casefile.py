"""A claim's file as an adjuster reads it: documents with their boxes, checks, rules, benefit, fraud.

Everything comes from the case store the batch flow filled: stage results (`facts`, `extract` per
document, `fraud`, `decision`), OCR pages with their lines, the review task, corrections (rows of
`fields` with `corrected_by`), the claimant's other claims, and the audit trail. Masking for roles
that must not see ID and bank numbers happens here, once, so no template can forget it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, select

from pipeline.reasons import describe_source, fraud_raised_by, read_reasons, sourced_codes
from pipeline.records import (
    Adjudication,
    Check,
    Claim,
    ClaimFacts,
    Decision,
    DocStatus,
    Extraction,
    FraudScore,
    Outcome,
    Reason,
    ReviewDecision,
    TriageResult,
)
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore, ClaimRow, DecisionRow, FieldRow, PageRow, ReviewTaskRow, StageResultRow
from review.masking import is_sensitive_field, mask_number, mask_text

DOC_TYPE_FIELD = "doc_type"
"""A corrected document type is a `fields` row of this name: the doc-type retraining's label."""


def stage_records(
    store: CaseStore, claim_ids: list[str], stages: tuple[str, ...]
) -> dict[tuple[str, str], Any]:
    """{(claim_id, stage): record} for key-less stage results, in one query."""
    if not claim_ids:
        return {}
    with store.session() as s:
        rows = s.execute(
            select(StageResultRow.claim_id, StageResultRow.stage, StageResultRow.record).where(
                StageResultRow.claim_id.in_(claim_ids),
                StageResultRow.stage.in_(stages),
                StageResultRow.key == "",
            )
        )
        return {(c, st): rec for c, st, rec in rows}


@dataclass
class Line:
    """An OCR line as drawn over its page (and written out where no page image was kept)."""

    text: str
    points: str
    score: float
    sensitive: bool
    x: float = 0.0
    baseline: float = 0.0
    size: float = 10.0


@dataclass
class PageView:
    number: int
    width: int
    height: int
    has_image: bool
    lines: list[Line]


@dataclass
class FieldView:
    key: str
    """Unique on the page (`f-<doc>-<n>`): ties the table row to its box."""
    name: str
    kind: str
    value: str
    raw_text: str
    confidence: float
    page: int
    points: str | None
    sensitive: bool
    corrected_by: str | None = None
    corrected_at: dt.datetime | None = None
    read_as: str | None = None
    """The value as extracted, when a person has corrected it."""
    failed: bool = False


@dataclass
class DocumentView:
    index: int
    id: str
    filename: str
    status: str
    problem: str | None
    doc_type: str | None
    doc_type_confidence: float | None
    doc_type_corrected_by: str | None
    needs_review: bool
    ocr_key: str | None
    pages: list[PageView]
    fields: list[FieldView]
    line_items: list[dict[str, Any]]
    failed_checks: list[Check]


@dataclass
class EarlierClaim:
    claim_id: str
    submitted_at: dt.datetime
    incident_date: dt.date
    claim_type: str | None
    amount_claimed: Decimal | None
    route: str | None
    payable: Decimal | None
    status: str


@dataclass
class CaseFile:
    claim: Claim
    claimant_id: str | None
    masked: bool
    status: str
    task: dict[str, Any] | None
    proposal: ReviewDecision | None
    facts: ClaimFacts | None
    adjudication: Adjudication | None
    triage: TriageResult | None
    latest_outcome: Outcome | None
    fraud: FraudScore | None
    documents: list[DocumentView]
    failed_checks: list[Check]
    earlier: list[EarlierClaim]
    applied: dict[str, Any] | None
    payee_account: str | None
    total_claimed: Decimal | None
    cap: Decimal | None = None
    """The most a person may approve (`payable_cap`), and what says so: benefit, claimed or none."""
    cap_basis: str = "none"
    product_id: str | None = None
    """The policy's product, whose row of the authority table applies."""
    sensitive_shown: list[str] = field(default_factory=list)
    """Which personal identifiers this view showed in clear (for the audit event)."""
    task_reasons: list[Reason] = field(default_factory=list)
    """Why the claim waits for a person, each reason with its source."""
    code_sources: dict[str, list[str]] = field(default_factory=dict)
    """Each reason code of the machine's decision and what raised it ('rule: provider on watch list')."""
    fraud_raised_by: list[str] = field(default_factory=list)
    """What referred the claim for fraud other than the model (a rule, a check): shown beside its band."""


def _points(box: Any) -> str | None:
    if not box:
        return None
    return " ".join(f"{float(x):.1f},{float(y):.1f}" for x, y in box)


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def latest_pages_key(store: CaseStore, document_id: str) -> str | None:
    """The OCR reading (engine, models, clean-up version) a document's extraction was made from:
    the latest one stored."""
    with store.session() as s:
        return s.scalar(
            select(PageRow.ocr_key)
            .where(PageRow.document_id == document_id)
            .order_by(PageRow.id.desc())
            .limit(1)
        )


def page_image_path(settings: Settings, document_id: str, ocr_key: str, number: int) -> Path:
    return settings.page_images(document_id, ocr_key) / f"{number}.jpg"


def corrections(store: CaseStore, claim_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The latest correction of each (document, field) on a claim."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    with store.session() as s:
        for r in s.scalars(
            select(FieldRow)
            .where(FieldRow.claim_id == claim_id, FieldRow.corrected_by.is_not(None))
            .order_by(FieldRow.id)
        ):
            out[(r.document_id, r.name)] = {
                "value": r.value,
                "by": r.corrected_by,
                "at": r.created_at,
                "record": r.record,
            }
    return out


def review_task(store: CaseStore, claim_id: str) -> dict[str, Any] | None:
    with store.session() as s:
        row = s.scalar(select(ReviewTaskRow).where(ReviewTaskRow.claim_id == claim_id))
        return (
            None if row is None else {c.name: getattr(row, c.name) for c in ReviewTaskRow.__table__.columns}
        )


def earlier_claims(store: CaseStore, claim: Claim) -> list[EarlierClaim]:
    """The claimant's claims submitted before this one: same ID number (or, without one, the same
    name on the same policy), newest first, each with its latest outcome."""
    same = (
        ClaimRow.claimant_id_number == claim.claimant_id_number
        if claim.claimant_id_number
        else and_(ClaimRow.claimant == claim.claimant, ClaimRow.policy_number == claim.policy_number)
    )
    out = []
    with store.session() as s:
        for r in s.scalars(select(ClaimRow).where(ClaimRow.claim_id != claim.claim_id, same)):
            other = Claim.model_validate({**r.record, "documents": []})
            if other.submitted_at >= claim.submitted_at:
                continue
            last = s.execute(
                select(DecisionRow.route, DecisionRow.payable)
                .where(DecisionRow.claim_id == r.claim_id)
                .order_by(DecisionRow.decision_version.desc())
                .limit(1)
            ).first()
            out.append(
                EarlierClaim(
                    claim_id=r.claim_id,
                    submitted_at=other.submitted_at,
                    incident_date=other.incident_date,
                    claim_type=other.claim_type.value if other.claim_type else None,
                    amount_claimed=other.amount_claimed,
                    route=last[0] if last else None,
                    payable=last[1] if last else None,
                    status=r.status,
                )
            )
    return sorted(out, key=lambda e: e.submitted_at, reverse=True)


def _document_view(
    store: CaseStore,
    settings: Settings,
    index: int,
    doc: Any,
    ex: Extraction | None,
    fixes: dict[tuple[str, str], dict[str, Any]],
    masked: bool,
    shown: list[str],
) -> DocumentView:
    key = latest_pages_key(store, doc.id) if doc.status is DocStatus.STORED else None
    pages = store.get_pages(doc.id, key) if key else None
    failed_fields = {n for c in (ex.failed_checks if ex else []) for n in c.fields}
    fields: list[FieldView] = []
    for n, f in enumerate(ex.fields if ex else []):
        sensitive = is_sensitive_field(f.name)
        fix = fixes.get((doc.id, f.name))
        value = fix["value"] if fix else _display(f.value)
        view = FieldView(
            key=f"f-{index}-{n}",
            name=f.name,
            kind=f.kind.value,
            value=value or "",
            raw_text=f.raw_text,
            confidence=f.confidence,
            page=f.page,
            points=_points(f.box),
            sensitive=sensitive,
            corrected_by=fix["by"] if fix else None,
            corrected_at=fix["at"] if fix else None,
            read_as=_display(f.value) if fix else None,
            failed=f.name in failed_fields,
        )
        if sensitive and masked:
            view.value = mask_number(view.value) if view.value else ""
            view.raw_text = mask_text(view.raw_text)
            view.read_as = mask_number(view.read_as) if view.read_as else view.read_as
        elif sensitive and view.value:
            shown.append(f"{doc.filename}:{f.name}")
        elif masked:
            view.value, view.raw_text = mask_text(view.value), mask_text(view.raw_text)
        fields.append(view)
    page_views = []
    for p in pages or []:
        lines = []
        for ln in p.lines:
            text = mask_text(ln.text) if masked else ln.text
            x0, y0, _, y1 = ln.bbox
            lines.append(
                Line(
                    text=text,
                    points=_points(ln.box) or "",
                    score=ln.score,
                    sensitive=text != ln.text,
                    x=round(x0, 1),
                    baseline=round(y1 - 0.2 * (y1 - y0), 1),
                    size=round(max(6.0, 0.75 * (y1 - y0)), 1),
                )
            )
        image = page_image_path(settings, doc.id, key, p.number) if key else None
        has_image = bool(image and image.is_file()) or (p.source == "pdf_text")
        page_views.append(PageView(p.number, p.width, p.height, has_image, lines))
    checks = list(ex.failed_checks) if ex else []
    if masked:
        checks = [c.model_copy(update={"message": mask_text(c.message)}) for c in checks]
    items = [
        {
            "name": it.name,
            "category": it.category,
            "insurance_class": it.insurance_class,
            "quantity": it.quantity,
            "amount": it.amount,
            "page": it.page,
            "points": _points(it.box),
        }
        for it in (ex.line_items if ex else [])
    ]
    type_fix = fixes.get((doc.id, DOC_TYPE_FIELD))
    return DocumentView(
        index=index,
        id=doc.id,
        filename=doc.filename,
        status=doc.status.value,
        problem=doc.problem,
        doc_type=type_fix["value"]
        if type_fix
        else (ex.doc_type.value if ex else (doc.doc_type.value if doc.doc_type else None)),
        doc_type_confidence=ex.doc_type_confidence if ex else None,
        doc_type_corrected_by=type_fix["by"] if type_fix else None,
        needs_review=bool(ex and ex.needs_review),
        ocr_key=key,
        pages=page_views,
        fields=fields,
        line_items=items,
        failed_checks=checks,
    )


def _claimed(facts: ClaimFacts) -> Decimal | None:
    """What the claim asks for: its invoices' total as read, else the amount on the claim."""
    return facts.total_claimed if facts.invoices else facts.claim.amount_claimed


def assessed(adjudication: Adjudication | None) -> bool:
    """Whether the benefit calculation priced this claim line by line. A claim the rules could not
    assess (no policy or terms: NOT_ASSESSABLE) or refused whole carries one refusal line, not a
    calculation, and must not cap a person's decision at zero."""
    return (
        adjudication is not None
        and bool(adjudication.benefit_lines)
        and adjudication.decision in (Decision.APPROVE, Decision.PARTIAL, Decision.REFER)
        and "NOT_ASSESSABLE" not in adjudication.reason_codes
    )


def _cap(adjudication: Adjudication | None, claimed_amount: Decimal | None) -> tuple[Decimal | None, str]:
    if adjudication is not None and assessed(adjudication):
        return adjudication.payable, "benefit"
    if claimed_amount is not None and claimed_amount > 0:
        return claimed_amount, "claimed"
    return None, "none"


def payable_cap(store: CaseStore, claim_id: str) -> tuple[Decimal | None, str]:
    """The most a person may approve on a claim, and what says so: the amount the benefit
    calculation allows ("benefit"), else what was claimed ("claimed"), else nothing in figures
    ("none": no cap to check against, so only a senior adjuster or above pays it, within their limit)."""
    recs = stage_records(store, [claim_id], (Stage.FACTS, Stage.DECISION))
    bundle = recs.get((claim_id, Stage.DECISION)) or {}
    adjudication = Adjudication.model_validate(bundle["adjudication"]) if bundle.get("adjudication") else None
    if (claim_id, Stage.FACTS) in recs:
        amount = _claimed(ClaimFacts.model_validate(recs[(claim_id, Stage.FACTS)]))
    else:
        claim = store.get_claim(claim_id)
        amount = claim.amount_claimed if claim else None
    return _cap(adjudication, amount)


def claim_product(store: CaseStore, claim_id: str) -> str | None:
    """The product of the claim's policy (the authority table's row for it), if a policy was found."""
    recs = stage_records(store, [claim_id], (Stage.FACTS,))
    facts = recs.get((claim_id, Stage.FACTS)) or {}
    return (facts.get("policy") or {}).get("product_id")


def load_case(store: CaseStore, settings: Settings, claim_id: str, *, masked: bool) -> CaseFile | None:
    """Everything the claim page shows, masked for roles without the identifiers capability."""
    claim = store.get_claim(claim_id)
    if claim is None:
        return None
    recs = stage_records(store, [claim_id], (Stage.FACTS, Stage.FRAUD, Stage.DECISION))
    facts = (
        ClaimFacts.model_validate(recs[(claim_id, Stage.FACTS)]) if (claim_id, Stage.FACTS) in recs else None
    )
    fraud = (
        FraudScore.model_validate(recs[(claim_id, Stage.FRAUD)]) if (claim_id, Stage.FRAUD) in recs else None
    )
    bundle = recs.get((claim_id, Stage.DECISION)) or {}
    adjudication = Adjudication.model_validate(bundle["adjudication"]) if bundle.get("adjudication") else None
    triage = TriageResult.model_validate(bundle["triage"]) if bundle.get("triage") else None
    extractions = store.results(claim_id, Stage.EXTRACT, Extraction)
    fixes = corrections(store, claim_id)
    shown: list[str] = []
    docs = [
        _document_view(store, settings, i, d, extractions.get(d.id), fixes, masked, shown)
        for i, d in enumerate(claim.documents)
    ]
    task = review_task(store, claim_id)
    machine = bundle.get("outcome") or {}
    versions = machine.get("model_versions") or {}
    task_reasons = read_reasons(task["reasons"], model_versions=versions) if task else []
    decided = read_reasons(machine.get("reasons"), model_versions=versions, route=machine.get("route"))
    code_sources: dict[str, list[str]] = {}
    for code, source in sourced_codes([*decided, *task_reasons]):
        code_sources.setdefault(code, []).append(source)
    raised = fraud_raised_by([*decided, *task_reasons])
    proposal = ReviewDecision.model_validate(task["decision"]) if task and task.get("decision") else None
    applied = None
    if proposal is not None and task and task["status"] == "done":
        key = proposal.decided_at.astimezone(dt.UTC).isoformat()
        applied = store.get_result(claim_id, Stage.REVIEW_APPLIED, _Applied, key=key)
    failed = list(facts.failed_checks) if facts else []
    account = facts.payee_account if facts else None
    claimant_id = claim.claimant_id_number
    if masked:
        claimant_id = mask_number(claimant_id) if claimant_id else None
        account = mask_number(account) if account else None
        failed = [c.model_copy(update={"message": mask_text(c.message)}) for c in failed]
        if adjudication is not None:
            adjudication = adjudication.model_copy(
                update={
                    "trace": [
                        h.model_copy(update={"message": mask_text(h.message)}) for h in adjudication.trace
                    ]
                }
            )
    else:
        shown += [n for n, v in (("claimant_id_number", claimant_id), ("payee_account", account)) if v]
    total_claimed = _claimed(facts) if facts else claim.amount_claimed
    cap, basis = _cap(adjudication, total_claimed)
    return CaseFile(
        claim=claim,
        claimant_id=claimant_id,
        masked=masked,
        status=store.claim_status(claim_id) or "",
        task=task,
        proposal=proposal,
        facts=facts,
        adjudication=adjudication,
        triage=triage,
        latest_outcome=store.latest_outcome(claim_id),
        fraud=fraud,
        documents=docs,
        failed_checks=failed,
        earlier=earlier_claims(store, claim),
        applied=applied.model_dump() if applied else None,
        payee_account=account,
        total_claimed=total_claimed,
        cap=cap,
        cap_basis=basis,
        product_id=facts.policy.product_id if facts and facts.policy else None,
        sensitive_shown=shown,
        task_reasons=task_reasons,
        code_sources=code_sources,
        fraud_raised_by=[describe_source(s) for s in raised],
    )


class _Applied(BaseModel):
    """What apply_review recorded for a decision (`flows.apply_review.Applied`), read as data."""

    model_config = ConfigDict(extra="ignore")

    claim_id: str
    action: str
    decision_version: int
    route: str
    paid: str | None = None
    held: list[str] = []
    notice: str

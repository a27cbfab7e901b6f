"""A claim's status as its claimant sees it: where it stands, the notice, the requests for documents.

Everything is read from the case store as the flows left it: the latest decision (the `decisions`
table), the batch's decision bundle (`decision` stage: the notice in plain Chinese and the benefit
lines yuan by yuan) or an adjuster's applied decision (`review_applied` stage: its notice), and the
payments. The stage keys are the spine's (`pipeline.stages.Stage`): the API imports no flow.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from adjudication.terms import DOC_NAMES_ZH
from intake.schemas import (
    ClaimStatus,
    DocumentOut,
    DocumentRequest,
    NeededDocument,
    Notice,
    NoticeLine,
    Payment,
)
from pipeline.intake_tables import DONE, DocumentRequestRow, IntakeClaimRow
from pipeline.payout import mask_account
from pipeline.records import Adjudication, BenefitLine, Claim, DocType, Outcome, Route
from pipeline.stages import Stage
from pipeline.store import CaseStore, StageResultRow, utcnow

STATUS_ZH = {
    "queued": "已受理，等待处理",
    "processing": "正在处理",
    "documents_requested": "待补充材料",
    "under_review": "理赔人员审核中",
    "approved": "审核通过，等待支付",
    "paid": "已赔付",
    "denied": "不予赔付",
    "error": "暂时无法自动处理，理赔人员将尽快与您联系",
}

DOC_NEEDS_ZH: dict[DocType, str] = {
    DocType.OUTPATIENT_INVOICE: "门诊收费票据原件照片，或医疗电子票据PDF",
    DocType.INPATIENT_INVOICE: "住院收费票据原件照片，或医疗电子票据PDF",
    DocType.PHARMACY_INVOICE: "药店或医院的购药发票（增值税发票或通用机打发票），电子发票可直接上传PDF",
    DocType.EXPENSE_LIST: "医院盖章的费用清单，每一页都需要",
    DocType.DISCHARGE_SUMMARY: "出院小结（出院记录）",
    DocType.DIAGNOSIS_CERTIFICATE: "医院出具的诊断证明书",
    DocType.CLAIM_FORM: "填写完整并由申请人签名的理赔申请书",
    DocType.ID_CARD: "申请人身份证正反面照片",
    DocType.BANK_CARD: "申请人本人名下银行卡的正面照片（用于收款）",
    DocType.OTHER: "理赔人员注明的其他材料",
}

REASONS_ZH = {
    "BENEFIT_PAID": "属于保险责任，予以赔付",
    "CLASS_NOT_COVERED": "丙类（医保目录外自费）项目，不在保险责任范围内",
    "CLASS_UNKNOWN": "医保类别不明，暂不能赔付",
    "CATEGORY_NOT_COVERED": "该类费用不在保险责任范围内",
    "PER_DAY_LIMIT": "超出合同约定的每日限额",
    "PAID_BY_SOCIAL_INSURANCE": "已由社会医疗保险统筹基金支付，不重复赔付",
    "DEDUCTIBLE": "合同约定的免赔额，由您自行承担",
    "COINSURANCE": "按合同约定的赔付比例计算后由您自付的部分",
    "OVER_LIMIT": "超过本保单年度保险金额余额",
    "NOT_ITEMISED": "发票金额未列明费用明细，无法核定",
    "DEDUCTIBLE_DAYS": "合同约定的免赔天数",
    "DAYS_OVER_LIMIT": "超过每次最高给付天数",
    "ALREADY_PAID": "重大疾病保险金已给付过，合同约定只给付一次",
    "MISSING_DOCUMENT": "待补充材料后审核",
}

_STATUS_BY_ROUTE = {
    Route.FLASH_PAY: "approved",
    Route.AUTO_APPROVE: "approved",
    Route.DENY: "denied",
    Route.REQUEST_INFO: "documents_requested",
    Route.ADJUSTER: "under_review",
    Route.ERROR: "error",
}


def stage_record(store: CaseStore, claim_id: str, stage: str, key: str = "") -> dict[str, Any] | None:
    with store.session() as s:
        return s.scalar(
            select(StageResultRow.record).where(
                StageResultRow.claim_id == claim_id, StageResultRow.stage == stage, StageResultRow.key == key
            )
        )


def _applied(store: CaseStore, claim_id: str, decided_at: dt.datetime) -> dict[str, Any] | None:
    """The adjuster's applied decision whose outcome is `decided_at`, if the latest is one."""
    with store.session() as s:
        records = s.scalars(
            select(StageResultRow.record).where(
                StageResultRow.claim_id == claim_id, StageResultRow.stage == Stage.REVIEW_APPLIED
            )
        ).all()
    for rec in records:
        if _same_time(rec.get("decided_at"), decided_at):
            return rec
    return None


def _same_time(value: Any, when: dt.datetime) -> bool:
    if value is None:
        return False
    t = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return _aware(t) == _aware(when)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _line(b: BenefitLine) -> NoticeLine:
    reason = REASONS_ZH.get(b.reason_code) or b.message or b.description
    return NoticeLine(
        description=b.description,
        claimed=b.claimed,
        payable=b.payable,
        refused=b.refused,
        reason_code=b.reason_code,
        reason=reason,
    )


def _missing_from_reasons(outcome: Outcome) -> list[DocType]:
    out = []
    for r in outcome.reasons:
        if r.code == "MISSING_DOCUMENT":
            value = r.message.strip()
            if value in DocType._value2member_map_:
                out.append(DocType(value))
    return out


def notice_and_requests(
    store: CaseStore, claim_id: str, outcome: Outcome, version: int
) -> tuple[Notice | None, list[DocType]]:
    """The notice of the latest outcome, and the documents it asks for (电子照会)."""
    kind = {
        Route.FLASH_PAY: "payment",
        Route.AUTO_APPROVE: "payment",
        Route.DENY: "denial",
        Route.REQUEST_INFO: "documents_requested",
    }.get(outcome.route)
    bundle = stage_record(store, claim_id, Stage.DECISION)
    text: str | None = None
    lines: list[BenefitLine] = []
    missing: list[DocType] = []
    if bundle is not None and _same_time(bundle["outcome"]["decided_at"], outcome.decided_at):
        text = bundle.get("notice")
        lines = Adjudication.model_validate(bundle["adjudication"]).benefit_lines
        missing = [DocType(d) for d in bundle.get("missing_documents") or []]
    else:
        applied = _applied(store, claim_id, outcome.decided_at)
        if applied is not None:
            text = applied.get("notice")
        missing = _missing_from_reasons(outcome)
    if outcome.route is not Route.REQUEST_INFO:
        missing = []
    if kind is None or not text:
        return None, missing
    covered = [_line(b) for b in lines if b.payable > 0]
    not_covered = [_line(b) for b in lines if b.refused > 0]
    notice = Notice(
        kind=kind,  # type: ignore[arg-type]
        text=text,
        payable=outcome.payable if kind == "payment" else Decimal("0.00"),
        covered=covered if kind == "payment" else [],
        not_covered=not_covered,
        decided_at=outcome.decided_at,
        decision_version=version,
    )
    return notice, missing


def _ensure_request(store: CaseStore, claim_id: str, version: int, missing: list[DocType]) -> None:
    """Remember a request for documents the first time the client can see it."""
    with store.session() as s:
        row = s.scalar(
            select(DocumentRequestRow).where(
                DocumentRequestRow.claim_id == claim_id, DocumentRequestRow.decision_version == version
            )
        )
        if row is None:
            s.add(
                DocumentRequestRow(
                    claim_id=claim_id, decision_version=version, documents=[d.value for d in missing]
                )
            )


def request_id(claim_id: str, version: int) -> str:
    return f"{claim_id}-R{version}"


def document_requests(store: CaseStore, claim_id: str, base_url: str) -> list[DocumentRequest]:
    with store.session() as s:
        rows = s.scalars(
            select(DocumentRequestRow)
            .where(DocumentRequestRow.claim_id == claim_id)
            .order_by(DocumentRequestRow.decision_version)
        ).all()
        return [
            DocumentRequest(
                request_id=request_id(claim_id, r.decision_version),
                status="answered" if r.status == "answered" else "open",
                requested_at=_aware(r.created_at),
                answered_at=_aware(r.answered_at) if r.answered_at else None,
                documents=[
                    NeededDocument(
                        doc_type=DocType(d),
                        name=DOC_NAMES_ZH.get(DocType(d), d),
                        what=DOC_NEEDS_ZH[DocType(d)],
                    )
                    for d in r.documents
                ],
                answer_url=f"{base_url}claims/{claim_id}/documents",
            )
            for r in rows
        ]


def open_request(store: CaseStore, claim_id: str) -> DocumentRequestRow | None:
    """The claim's unanswered request for documents, if its latest decision is one."""
    outcome = store.latest_outcome(claim_id)
    version = store.latest_decision_version(claim_id)
    if outcome is None or version is None or outcome.route is not Route.REQUEST_INFO:
        return None
    with store.session() as s:
        intake = s.get(IntakeClaimRow, claim_id)
        if intake is None or intake.status != DONE:
            return None
    _, missing = notice_and_requests(store, claim_id, outcome, version)
    _ensure_request(store, claim_id, version, missing)
    with store.session() as s:
        row = s.scalar(
            select(DocumentRequestRow).where(
                DocumentRequestRow.claim_id == claim_id,
                DocumentRequestRow.decision_version == version,
                DocumentRequestRow.status == "open",
            )
        )
        if row is not None:
            s.expunge(row)
        return row


def mark_answered(store: CaseStore, row_id: int, answer: list[dict[str, Any]]) -> None:
    with store.session() as s:
        row = s.get(DocumentRequestRow, row_id)
        if row is not None:
            row.status, row.answered_at, row.answer = "answered", utcnow(), answer


def claim_status(store: CaseStore, claim: Claim, intake: IntakeClaimRow, base_url: str) -> ClaimStatus:
    """Where the claim stands; once decided, its notice; any requests for documents."""
    cid = claim.claim_id
    outcome = store.latest_outcome(cid) if intake.status == DONE else None
    version = store.latest_decision_version(cid) if outcome is not None else None
    notice: Notice | None = None
    payments = store.payments(cid)
    if intake.status != DONE:
        status = intake.status
    elif outcome is None or version is None:
        status = "processing"
    else:
        notice, missing = notice_and_requests(store, cid, outcome, version)
        if outcome.route is Route.REQUEST_INFO:
            _ensure_request(store, cid, version, missing)
        status = _STATUS_BY_ROUTE[outcome.route]
        if status == "approved" and any(p.decision_version == str(version) for p in payments):
            status = "paid"
    settlement = stage_record(store, cid, Stage.DIRECT_SETTLEMENT)
    return ClaimStatus(
        claim_id=cid,
        status=status,  # type: ignore[arg-type]
        status_zh=STATUS_ZH[status],
        route=outcome.route.value if outcome is not None else None,
        channel=claim.channel,
        submitted_at=claim.submitted_at,
        decided_at=outcome.decided_at if outcome is not None else None,
        direct_settlement=settlement is not None,
        notice=notice,
        document_requests=document_requests(store, cid, base_url),
        documents=[
            DocumentOut(
                filename=d.filename,
                document_id=d.id,
                media_type=d.media_type,
                pages=d.page_count,
                doc_type=d.doc_type,
            )
            for d in claim.documents
        ],
        payments=[
            Payment(amount=p.amount, payee=p.payee, account=mask_account(p.account), at=_aware(p.created_at))
            for p in payments
        ],
        rating=intake.rating,
    )

"""What the intake API takes and gives, as pydantic models: they are the OpenAPI document's schemas.

The hospital's structured submission (医疗信息直连) is the JSON form of what a hospital's billing
system issues: the national medical e-invoice (医疗收费电子票据) with its fee categories, the expense
list (费用清单) item by item, and the visit with its ICD-10 diagnoses. It replaces images: nothing is
OCR'd, but the same fields are extracted from it and the same checks run on them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipeline.records import ClaimType, DocType, Money

# --- errors -----------------------------------------------------------------------------------


class Problem(BaseModel):
    """Every 4xx: a machine-readable code, and a sentence naming the file or field and the problem."""

    error: str = Field(description="what kind of problem, e.g. file_too_large, unsupported_file_type")
    message: str = Field(description="for a person: names the file (or field) and what is wrong")
    file: str | None = Field(default=None, description="the uploaded file the problem is about")
    field: str | None = Field(default=None, description="the form or JSON field the problem is about")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "error": "file_too_large",
                "message": "invoice.jpg: file too large (52.4 MB; the limit is 41.9 MB)",
                "file": "invoice.jpg",
            }
        }
    )


# --- claims -----------------------------------------------------------------------------------


class DocumentOut(BaseModel):
    filename: str
    document_id: str = Field(description="SHA-256 of the file's bytes")
    media_type: str
    pages: int
    doc_type: DocType | None = Field(default=None, description="as the pipeline read it, once read")


class ClaimAccepted(BaseModel):
    """The answer to an accepted upload: the claim's id and where to follow it."""

    claim_id: str
    status: str = Field(description="queued: waiting for the next intake batch, or already being processed")
    status_url: str
    documents: list[DocumentOut]
    direct_settlement: bool = Field(
        default=False, description="医疗直付 accepted: the hospital will be paid, not the claimant"
    )
    notes: list[str] = Field(default_factory=list, description="things the client should know")


class NeededDocument(BaseModel):
    doc_type: DocType
    name: str = Field(description="the document's Chinese name, e.g. 身份证")
    what: str = Field(description="what exactly is needed, in plain Chinese")


class DocumentRequest(BaseModel):
    """A request for documents (电子照会): what is missing, and how to send it."""

    request_id: str
    status: Literal["open", "answered"]
    requested_at: dt.datetime
    documents: list[NeededDocument]
    answer_url: str = Field(description="POST the documents here (multipart, field `documents`)")
    answered_at: dt.datetime | None = None


class NoticeLine(BaseModel):
    """One slice of the amount claimed: paid, or not paid and why."""

    description: str
    claimed: Money
    payable: Money
    refused: Money
    reason_code: str
    reason: str = Field(description="why, in plain Chinese")


class Notice(BaseModel):
    """The electronic claim notice (电子理赔通知书), once the claim is decided."""

    kind: Literal["payment", "denial", "documents_requested"]
    text: str = Field(description="the letter to the claimant, in plain Chinese")
    payable: Money
    covered: list[NoticeLine] = Field(default_factory=list, description="what is paid (保险责任内)")
    not_covered: list[NoticeLine] = Field(default_factory=list, description="what is not paid, with why")
    decided_at: dt.datetime
    decision_version: int


class Payment(BaseModel):
    amount: Money
    payee: str
    account: str = Field(description="masked: first four and last four digits")
    at: dt.datetime


class ClaimStatus(BaseModel):
    """Where a claim stands, and once decided, its notice."""

    claim_id: str
    status: Literal[
        "queued", "processing", "documents_requested", "under_review", "approved", "paid", "denied", "error"
    ]
    status_zh: str
    route: str | None = Field(default=None, description="the pipeline's route, once decided")
    channel: str
    submitted_at: dt.datetime
    decided_at: dt.datetime | None = None
    direct_settlement: bool = False
    notice: Notice | None = None
    document_requests: list[DocumentRequest] = Field(default_factory=list)
    documents: list[DocumentOut] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)
    rating: int | None = None


class RatingIn(BaseModel):
    """The claimant's rating of the service (理赔服务打分), 1 (poor) to 5 (excellent)."""

    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=500)


class RatingOut(BaseModel):
    claim_id: str
    score: int
    comment: str | None
    rated_at: dt.datetime


# --- the hospital's structured submission (医疗信息直连) ---------------------------------------


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FeeCategory(_Form):
    """One fee category of the e-invoice (收费项目), e.g. 西药费 123.40."""

    category: str = Field(min_length=1, max_length=32, examples=["西药费"])
    amount: Money


class EInvoice(_Form):
    """The national medical e-invoice (医疗收费电子票据) as the hospital's billing system issued it."""

    kind: Literal["outpatient", "inpatient"] = Field(description="门诊 or 住院 invoice")
    invoice_code: str = Field(pattern=r"^\d{6,12}$", description="票据代码")
    invoice_number: str = Field(pattern=r"^\d{6,12}$", description="票据号码")
    check_code: str = Field(pattern=r"^[0-9A-Za-z]{4,32}$", description="校验码")
    issue_date: dt.date = Field(description="开票日期")
    hospital: str = Field(min_length=2, max_length=128, description="收款单位: the submitting hospital")
    patient_name: str = Field(min_length=1, max_length=64, description="交款人 (the patient)")
    patient_id_number: str | None = Field(
        default=None,
        pattern=r"^\d{17}[\dXx]$",
        description="交款人统一社会信用代码 (the patient's ID number)",
    )
    sex: Literal["男", "女"] | None = None
    insurance_type: str | None = Field(default=None, max_length=32, description="医保类型")
    hospital_number: str = Field(pattern=r"^[A-Za-z]{0,3}\d{4,}$", description="门诊号 / 住院号")
    visit_date: dt.date | None = Field(default=None, description="就诊日期 (outpatient)")
    admission_date: dt.date | None = Field(default=None, description="入院日期 (inpatient)")
    discharge_date: dt.date | None = Field(default=None, description="出院日期 (inpatient)")
    total: Money = Field(description="合计（小写）")
    total_in_words: str | None = Field(default=None, description="合计（大写）, as printed")
    fund_paid: Money = Field(default=Decimal("0.00"), description="医保统筹基金支付")
    account_paid: Money = Field(default=Decimal("0.00"), description="个人账户支付")
    cash_paid: Money = Field(default=Decimal("0.00"), description="个人现金支付")
    copay: Money | None = Field(default=None, description="个人自付")
    self_pay: Money | None = Field(default=None, description="个人自费")
    fee_items: list[FeeCategory] = Field(default_factory=list, max_length=60, description="收费项目")

    @model_validator(mode="after")
    def _dates_for_kind(self) -> EInvoice:
        if self.kind == "outpatient" and self.visit_date is None:
            raise ValueError("an outpatient invoice needs visit_date (就诊日期)")
        if self.kind == "inpatient" and (self.admission_date is None or self.discharge_date is None):
            raise ValueError("an inpatient invoice needs admission_date and discharge_date (住院时间)")
        return self


class ExpenseItem(_Form):
    """One row of the expense list (费用清单)."""

    date: dt.date | None = None
    code: str | None = Field(default=None, max_length=32, description="项目编码")
    name: str = Field(min_length=1, max_length=128, description="项目名称")
    category: str = Field(min_length=1, max_length=32, description="类别, e.g. 西药费, 检查费")
    insurance_class: Literal["甲", "乙", "丙"] = Field(description="医保类别: 甲/乙 covered, 丙 self-paid")
    unit: str | None = Field(default=None, max_length=8)
    quantity: Decimal = Field(gt=0)
    unit_price: Money
    amount: Money


class ExpenseList(_Form):
    """The expense list (费用清单) of the stay or visit the invoice bills."""

    hospital_number: str = Field(pattern=r"^[A-Za-z]{0,3}\d{4,}$", description="门诊号 / 住院号")
    patient_name: str = Field(min_length=1, max_length=64)
    department: str | None = Field(default=None, max_length=64, description="科室")
    visit_date: dt.date | None = None
    admission_date: dt.date | None = None
    discharge_date: dt.date | None = None
    items: list[ExpenseItem] = Field(min_length=1, max_length=5000)
    total: Money = Field(description="费用合计")


class Diagnosis(_Form):
    code: str = Field(pattern=r"^[A-Z]\d{2}(\.\d{1,2})?$", description="ICD-10, e.g. J18.9")
    name: str = Field(min_length=1, max_length=128, description="诊断名称, e.g. 肺炎")


class Visit(_Form):
    """The visit or stay (诊疗信息) from the hospital's records: who treated what."""

    department: str | None = Field(default=None, max_length=64)
    doctor: str | None = Field(default=None, max_length=64)
    diagnoses: list[Diagnosis] = Field(min_length=1, max_length=20, description="principal diagnosis first")
    visit_date: dt.date | None = None
    admission_date: dt.date | None = None
    discharge_date: dt.date | None = None
    days_in_hospital: int | None = Field(default=None, ge=0)


class HospitalSubmission(_Form):
    """A hospital's claim for one visit or stay (医疗信息直连), in place of photos of the papers."""

    policy_number: str = Field(min_length=1, max_length=64)
    claimant: str = Field(min_length=1, max_length=128, description="the insured patient, usually")
    claimant_id_number: str | None = Field(default=None, pattern=r"^\d{17}[\dXx]$")
    insured: str | None = Field(default=None, max_length=128)
    claim_type: ClaimType | None = Field(default=None, description="default: from the invoice's kind")
    incident_date: dt.date | None = Field(default=None, description="default: the visit or admission date")
    amount_claimed: Money | None = None
    invoice: EInvoice
    expense_list: ExpenseList
    visit: Visit
    direct_settlement: bool = Field(
        default=True,
        description="ask to be paid directly (医疗直付) where the product allows it; the account is the"
        " one registered with the hospital's API key",
    )

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "example": {
                "policy_number": "POP201883595867",
                "claimant": "李静芳",
                "claimant_id_number": "110108197903055584",
                "invoice": {
                    "kind": "outpatient",
                    "invoice_code": "11060125",
                    "invoice_number": "0012345678",
                    "check_code": "a1b2c3",
                    "issue_date": "2025-06-01",
                    "hospital": "安康市第一人民医院",
                    "patient_name": "李静芳",
                    "hospital_number": "MZ20250601001",
                    "visit_date": "2025-06-01",
                    "total": "113.38",
                    "fund_paid": "0.00",
                    "account_paid": "0.00",
                    "cash_paid": "113.38",
                    "fee_items": [{"category": "西药费", "amount": "113.38"}],
                },
                "expense_list": {
                    "hospital_number": "MZ20250601001",
                    "patient_name": "李静芳",
                    "visit_date": "2025-06-01",
                    "items": [
                        {
                            "name": "阿莫西林胶囊",
                            "category": "西药费",
                            "insurance_class": "甲",
                            "quantity": "2",
                            "unit_price": "56.69",
                            "amount": "113.38",
                        }
                    ],
                    "total": "113.38",
                },
                "visit": {"diagnoses": [{"code": "J06.9", "name": "急性上呼吸道感染"}]},
            }
        },
    )

    def resolved_claim_type(self) -> ClaimType:
        if self.claim_type is not None:
            return self.claim_type
        return ClaimType.INPATIENT if self.invoice.kind == "inpatient" else ClaimType.OUTPATIENT

    def resolved_incident_date(self) -> dt.date:
        inv = self.invoice
        return (
            self.incident_date
            or self.visit.admission_date
            or self.visit.visit_date
            or inv.admission_date
            or inv.visit_date
            or inv.issue_date
        )

"""Ground-truth records written beside a generated batch in `.truth/truth.jsonl`, one claim per line.

Boxes are 4-point boxes, clockwise from the top-left of the text as read, in pixels of the FINAL
saved image (after the phone-photo degradations), so an extractor's output can be compared with them
directly. For a PDF, pixels of the page image embedded in it (the page rendered at `Page.scale`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ocr.elements import Box
from pipeline.records import BenefitLine, ClaimType, Decision, DocType, FieldKind, LineItem, Money
from synth.people import BankCard, Person

InsuranceClass = Literal["甲", "乙", "丙"]


class _Truth(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PolicyTruth(_Truth):
    """One row of `policies.csv`: what the adjudication engine needs to know about the policy."""

    policy_number: str
    product_id: str
    product_version: str
    policyholder: str
    insured: str
    insured_id_number: str
    effective_date: dt.date
    expiry_date: dt.date | None = Field(
        default=None, description="last day of the current 保险期间 after renewals (None: not stated, open)"
    )
    sum_insured: Money
    social_insurance: bool = Field(description="the insured has social medical insurance (社保)")
    cumulative_annualised_premium: Money
    star_tier: int = Field(ge=1, le=5)
    prior_paid_this_year: Money
    deductible_used_this_year: Money
    prior_paid_total: Money = Decimal("0.00")
    """Paid since the policy took effect, this year included (累计已给付): a lump sum pays only once."""


class ItemTruth(_Truth):
    """One billed item: a row of the expense list (费用清单)."""

    date: dt.date
    code: str
    name: str
    category: str
    insurance_class: InsuranceClass
    unit: str
    quantity: Decimal
    unit_price: Money
    amount: Money

    def to_line_item(self, page: int = 1, box: Box | None = None) -> LineItem:
        return LineItem(
            name=self.name,
            category=self.category,
            insurance_class=self.insurance_class,
            quantity=self.quantity,
            unit_price=self.unit_price,
            amount=self.amount,
            page=page,
            box=box,
        )


NO_INSURANCE_TYPE = ("chongqing",)
"""Invoice layouts printing no 医保类型: only their 统筹 and 个人账户 figures show a 医保 settlement."""


class BillTruth(_Truth):
    """One medical invoice (医疗收费票据) and the items behind it."""

    invoice_code: str
    invoice_number: str
    check_code: str
    electronic: bool = Field(description="national medical e-bill (财政电子票据: 校验码, QR code)")
    printed: bool = Field(
        default=False,
        description="an e-bill printed on paper and photographed or scanned (no PDF, no text layer)",
    )
    issuer: str = Field(default="", description="region whose fiscal bureau issued the e-bill (河南省)")
    funds: dict[str, Money] = Field(
        default_factory=dict,
        description="funds beside 统筹 paying part of the bill (大额(病)保险报销 ...), by field name",
    )
    layout: str
    issue_date: dt.date
    items: list[ItemTruth]
    items_total: Money
    printed_total: Money = Field(description="the figures on the invoice (differs from items when altered)")
    printed_words: str = Field(description="the 大写 amount on the invoice")
    fund_paid: Money = Field(description="医保统筹基金支付")
    account_paid: Money = Field(description="个人账户支付")
    cash_paid: Money = Field(description="个人现金支付 (total − 统筹 − 个人账户 − the other funds)")
    self_pay: Money = Field(description="个人自费: the 丙类 items")
    insurance_type: str | None = Field(
        default=None,
        description="医保类型: the scheme it was settled under, 自费 when not settled through 医保",
    )
    duplicate_of: str | None = Field(default=None, description="claim id that already used this invoice")

    @property
    def printed_insurance_type(self) -> str | None:
        """The 医保类型 the invoice itself prints: none on a layout without the field."""
        return None if self.layout in NO_INSURANCE_TYPE else self.insurance_type

    @property
    def as_pdf(self) -> bool:
        """The bill arrives as its born-digital PDF (an e-bill not printed first)."""
        return self.electronic and not self.printed


class IncidentTruth(_Truth):
    claim_type: ClaimType
    incident_date: dt.date = Field(description="visit, admission, accident or first-diagnosis date")
    hospital: str
    hospital_grade: str
    province_layout: str
    department: str
    doctor: str
    diagnoses: list[tuple[str, str]] = Field(description="(ICD-10, Chinese name), principal first")
    accident_cause: tuple[str, str] | None = None
    admission_date: dt.date | None = None
    discharge_date: dt.date | None = None
    hospital_number: str = Field(description="门诊号 or 住院号")
    description: str


class FieldTruth(_Truth):
    name: str
    kind: FieldKind = FieldKind.TEXT
    value: str = Field(description="normalised: ISO dates, amounts as 1234.50, text as printed")
    text: str = Field(description="exactly what is printed")
    box: Box | None = None
    page: int = 1


class PartTruth(_Truth):
    """One bill of several pasted on one sheet: where it lies on the page and what it says."""

    claim_id: str
    doc_type: DocType
    layout: str
    region: Box = Field(description="the bill's outline on the final page")
    fields: list[FieldTruth] = Field(default_factory=list)
    line_items: list[LineItem] = Field(default_factory=list)


class DocumentTruth(_Truth):
    """One file of a claim and everything drawn on it."""

    file: str = Field(description="path relative to the corpus folder")
    doc_type: DocType
    media_type: str
    layout: str
    page_number: int = 1
    page_count: int = 1
    group: str = Field(description="one logical document: the pages of an expense list share it")
    width: int = 0
    height: int = 0
    scale: float = Field(default=1.0, description="PDF only: image pixels per PDF point")
    text_layer: bool = False
    rotation: int = Field(default=0, description="clockwise quarter turn applied to the photo")
    degradations: list[str] = Field(default_factory=list)
    severity: Literal["clean", "mild", "moderate", "hard"] = "clean"
    fields: list[FieldTruth] = Field(default_factory=list)
    line_items: list[LineItem] = Field(default_factory=list)
    tampered: list[str] = Field(default_factory=list, description="planted edits visible on this file")
    parts: list[PartTruth] = Field(
        default_factory=list, description="bills pasted on this one sheet, each with its own truth"
    )
    hidden: list[str] = Field(
        default_factory=list,
        description="fields printed but masked on this file: neither scored nor expected",
    )

    def field(self, name: str) -> FieldTruth | None:
        return next((f for f in self.fields if f.name == name), None)


class ExpectedOutcome(_Truth):
    """What a correct adjudication must conclude, by the generator's own arithmetic on the terms."""

    decision: Decision
    payable: Money = Field(description="to pay now; 0 unless approve or partial")
    assessed: Money = Field(description="what the terms give on the genuine items, if the claim is in cover")
    reason_codes: list[str] = Field(default_factory=list)
    missing_documents: list[DocType] = Field(default_factory=list)
    fraud_patterns: list[str] = Field(default_factory=list)
    benefit_lines: list[BenefitLine] = Field(default_factory=list)
    working: list[str] = Field(default_factory=list, description="the arithmetic, step by step")
    product_version: str
    rule_set: str = Field(default="", description="the rule-set version in force on the incident date")


class ClaimRow(_Truth):
    """One row of `claims.csv`, the claim metadata the ingest stage reads."""

    claim_id: str
    policy_number: str
    claimant: str
    claimant_id_number: str
    insured: str
    claim_type: ClaimType
    incident_date: dt.date
    submitted_at: dt.datetime
    channel: str
    amount_claimed: Money
    documents: list[str]


class ClaimTruth(_Truth):
    """Everything known about one generated claim: one line of `.truth/truth.jsonl`."""

    claim_id: str
    row: ClaimRow
    policy: PolicyTruth
    claimant: Person
    insured: Person
    relationship: str = Field(description="claimant to insured: 本人, 父母, 配偶, 子女")
    bank_card: BankCard
    incident: IncidentTruth
    bills: list[BillTruth]
    planted: list[str] = Field(default_factory=list, description="problems planted on purpose")
    documents: list[DocumentTruth] = Field(default_factory=list)
    expected: ExpectedOutcome

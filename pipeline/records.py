"""Every record that crosses a stage.

Stages are plain functions over these pydantic models, so each record can be persisted in the case
store as JSON, shown to an adjuster, and read back unchanged. Money is `Decimal` yuan with two
places, never float; dates are `datetime.date`.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, model_validator
from pydantic import Field as PField

from ocr.elements import Box, Page, TextLine
from pipeline.reasons import Reason, ReasonSource, SourceKind, read_reasons

__all__ = [
    "Adjudication",
    "BenefitLine",
    "Box",
    "Check",
    "Claim",
    "ClaimFacts",
    "ClaimTimes",
    "ClaimType",
    "Complexity",
    "Decision",
    "DirectSettlement",
    "DocStatus",
    "DocType",
    "Document",
    "Extraction",
    "Field",
    "FieldKind",
    "FraudBand",
    "FraudReason",
    "FraudScore",
    "Invoice",
    "LineItem",
    "Money",
    "Outcome",
    "Page",
    "PaymentInstruction",
    "Policy",
    "Reason",
    "ReasonSource",
    "ReviewAction",
    "ReviewDecision",
    "Route",
    "RuleHit",
    "SourceKind",
    "TextLine",
    "TriageResult",
    "money",
]

CENT = Decimal("0.01")


def money(value: object) -> Decimal:
    """Yuan with two places, rounded half up as on a Chinese invoice."""
    if isinstance(value, float):
        value = repr(value)  # avoid binary float noise: 0.1 -> "0.1", not 0.1000000000000000055
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if not d.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    try:
        return d.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # more digits than the context holds: not a claim amount
        raise ValueError(f"amount out of range: {value!r}") from exc


Money = Annotated[
    Decimal,
    AfterValidator(money),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]
"""Decimal yuan, two places; written to JSON as a string ("1234.50") so nothing is lost."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)


# --- enumerations -------------------------------------------------------------------------------


class ClaimType(StrEnum):
    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"
    ACCIDENT = "accident"
    CRITICAL_ILLNESS = "critical_illness"


class DocType(StrEnum):
    OUTPATIENT_INVOICE = "outpatient_invoice"  # 医疗门诊收费票据
    INPATIENT_INVOICE = "inpatient_invoice"  # 医疗住院收费票据
    PHARMACY_INVOICE = "pharmacy_invoice"  # 购药发票: 增值税普通发票 / 电子发票 / 通用机打发票
    EXPENSE_LIST = "expense_list"  # 费用清单
    DISCHARGE_SUMMARY = "discharge_summary"  # 出院小结
    DIAGNOSIS_CERTIFICATE = "diagnosis_certificate"  # 诊断证明书
    CLAIM_FORM = "claim_form"  # 理赔申请书
    ID_CARD = "id_card"  # 居民身份证
    BANK_CARD = "bank_card"  # 银行卡
    OTHER = "other"


class DocStatus(StrEnum):
    STORED = "stored"
    QUARANTINED = "quarantined"


class FieldKind(StrEnum):
    TEXT = "text"
    MONEY = "money"
    DATE = "date"
    INT = "int"
    DECIMAL = "decimal"
    BOOL = "bool"


class Complexity(StrEnum):
    SIMPLE = "simple"
    STANDARD = "standard"
    COMPLEX = "complex"


class Decision(StrEnum):
    APPROVE = "approve"
    PARTIAL = "partial"
    DENY = "deny"
    REFER = "refer"
    REQUEST_INFO = "request_info"


class FraudBand(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Route(StrEnum):
    FLASH_PAY = "flash_pay"  # 闪赔闪付: simple claim, paid at once, no person involved
    AUTO_APPROVE = "auto_approve"  # rules and gate approve; paid in the normal cycle
    DENY = "deny"  # a fatal rule; notice in plain Chinese with the right to ask for human review
    REQUEST_INFO = "request_info"  # 电子照会: the documents that are missing
    ADJUSTER = "adjuster"  # waits for a person, with reasons and priority
    ERROR = "error"  # could not be processed; the problem is recorded on the claim


class ReviewAction(StrEnum):
    APPROVE = "approve"
    PARTIAL = "partial"
    DENY = "deny"
    REQUEST_INFO = "request_info"


# --- intake -------------------------------------------------------------------------------------


class Document(_Record):
    """One file of a claim, identified by the SHA-256 of its bytes (stored once, however often sent)."""

    id: str = PField(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file's bytes")
    claim_id: str
    filename: str = PField(
        max_length=512, description="the name the file arrived with, for people; never used as a path"
    )
    media_type: str = PField(description="sniffed from the bytes, e.g. image/jpeg, application/pdf")
    size_bytes: int = PField(ge=0)
    page_count: int = PField(default=0, ge=0)
    status: DocStatus = DocStatus.STORED
    problem: str | None = PField(default=None, description="why the file was quarantined")
    doc_type: DocType | None = None
    pages: list[Page] = PField(default_factory=list, description="filled by the OCR stage")

    @model_validator(mode="after")
    def _quarantine_has_reason(self) -> Document:
        if self.status is DocStatus.QUARANTINED and not self.problem:
            raise ValueError("a quarantined document needs a problem")
        return self


class Claim(_Record):
    """A claim as submitted: one row of claim metadata plus its documents."""

    claim_id: str = PField(min_length=1, max_length=64)
    policy_number: str = PField(min_length=1, max_length=64)
    claimant: str = PField(min_length=1, max_length=128)
    claimant_id_number: str | None = PField(default=None, max_length=32)
    insured: str | None = None
    claim_type: ClaimType | None = None
    incident_date: dt.date
    submitted_at: dt.datetime
    channel: str = "batch"
    amount_claimed: Money | None = None
    documents: list[Document] = PField(default_factory=list)
    problems: list[str] = PField(default_factory=list, description="every problem found at intake")


# --- extraction ---------------------------------------------------------------------------------


_KIND_PARSERS: dict[FieldKind, Any] = {
    FieldKind.TEXT: str,
    FieldKind.MONEY: money,
    FieldKind.DECIMAL: lambda v: Decimal(str(v)),
    FieldKind.DATE: lambda v: v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)),
    FieldKind.INT: int,
    FieldKind.BOOL: lambda v: v if isinstance(v, bool) else str(v).lower() in ("true", "1", "yes"),
}


class Field(_Record):
    """A key field read from a document: its typed value, the text it came from, and where."""

    name: str
    kind: FieldKind = FieldKind.TEXT
    value: str | int | bool | Decimal | dt.date | None = None
    raw_text: str = ""
    confidence: float = 1.0
    page: int = 1
    box: Box | None = None
    corrected_by: str | None = PField(default=None, description="adjuster who corrected the value")

    @model_validator(mode="after")
    def _coerce_value(self) -> Field:
        # the kind says how to read the value back from JSON, where dates and amounts are strings
        if self.value is not None:
            self.value = _KIND_PARSERS[self.kind](self.value)
        return self


class Check(_Record):
    """One validation of extracted fields (ID checksum, Luhn, words vs figures, items vs total)."""

    name: str
    passed: bool
    message: str = ""
    fields: list[str] = PField(default_factory=list)
    severity: Literal["error", "warning"] = "error"


class LineItem(_Record):
    """One row of an expense list (费用清单) or an invoice's fee table."""

    name: str
    category: str | None = None
    insurance_class: Literal["甲", "乙", "丙"] | None = None
    quantity: Decimal = Decimal("1")
    unit_price: Money | None = None
    amount: Money
    page: int = 1
    box: Box | None = None


class Extraction(_Record):
    """What one document said, as typed fields and line items, with the checks it passed or failed."""

    document_id: str
    doc_type: DocType
    doc_type_confidence: float = 1.0
    fields: list[Field] = PField(default_factory=list)
    line_items: list[LineItem] = PField(default_factory=list)
    checks: list[Check] = PField(default_factory=list)
    needs_review: bool = False
    parts: list[Extraction] = PField(
        default_factory=list,
        description="several bills on one page (`multiple_documents`): each one's own reading",
    )

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    @property
    def illegible(self) -> bool:
        """A photo too poor to read (the `legible` check failed): to be asked for again, not guessed."""
        return any(c.name == "legible" and not c.passed for c in self.checks)


# --- what adjudication decides on ---------------------------------------------------------------


class Policy(_Record):
    """The policy as the policy administration system knows it (a batch's `policies.csv` row).

    `effective_date` is the first day of cover, kept across renewals (续保: the waiting period is not
    counted again); `expiry_date` the last day of the current insurance period (保险期间, cover ends at
    24:00 of it) as the system states it after any renewal. None: the system did not say, and cover is
    treated as open-ended (never refused for expiry), as it was before the column existed.
    """

    policy_number: str
    product_id: str
    product_version: str | None = None
    policyholder: str
    insured: str
    insured_id_number: str | None = PField(default=None, max_length=32)
    effective_date: dt.date
    expiry_date: dt.date | None = None
    reinstated_at: dt.date | None = None
    sum_insured: Money
    social_insurance: bool
    cumulative_annualised_premium: Money = Decimal("0.00")
    star_tier: int = PField(default=1, ge=1, le=5)
    prior_paid_this_year: Money = Decimal("0.00")
    deductible_used_this_year: Money = Decimal("0.00")
    prior_paid_total: Money = PField(
        default=Decimal("0.00"),
        description="paid under the policy since it took effect, this policy year included (累计已给付);"
        " an extract without the column knows only this year's",
    )

    @property
    def paid_to_date(self) -> Decimal:
        """What the policy has paid over its life (a lump sum paid once ends it): the extract's total,
        never less than this policy year's payments."""
        return max(self.prior_paid_total, self.prior_paid_this_year)

    @model_validator(mode="after")
    def _period_in_order(self) -> Policy:
        if self.expiry_date is not None and self.expiry_date < self.effective_date:
            raise ValueError(f"expiry_date {self.expiry_date} is before effective_date {self.effective_date}")
        return self


class Invoice(_Record):
    """One medical invoice (收费票据 or 电子票据) with its fee items, as read or as submitted."""

    document_id: str | None = None
    invoice_code: str | None = None
    invoice_number: str | None = None
    hospital: str | None = None
    electronic: bool = False
    issue_date: dt.date | None = None
    visit_date: dt.date | None = None
    total: Money
    total_in_words: str | None = None
    fund_paid: Money = Decimal("0.00")  # 医保统筹支付
    account_paid: Money = Decimal("0.00")  # 个人账户支付
    cash_paid: Money = Decimal("0.00")  # 个人现金支付
    self_pay: Money = Decimal("0.00")  # 个人自付 (the insured's share of covered items)
    self_expense: Money = Decimal("0.00")  # 个人自费 (items outside social insurance)
    insurance_type: str | None = None
    """医保类型 as the bill prints it (城镇职工基本医疗保险, 自费 ...): the scheme it was settled under."""
    line_items: list[LineItem] = PField(default_factory=list)


class ClaimFacts(_Record):
    """Everything adjudication, triage and fraud need about a claim, consolidated from its documents.

    Built from extractions by the pipeline, from a hospital's structured submission, or from the
    synthetic truth for benchmarks, so the deciding stages never care where the facts came from.
    """

    claim: Claim
    policy: Policy | None = None
    claim_type: ClaimType
    diagnoses: list[str] = PField(default_factory=list, description="ICD-10 codes, principal first")
    hospital: str | None = None
    admission_date: dt.date | None = None
    discharge_date: dt.date | None = None
    invoices: list[Invoice] = PField(default_factory=list)
    documents_present: list[DocType] = PField(
        default_factory=list, description="types with at least one document that could be read"
    )
    illegible_documents: list[DocType] = PField(
        default_factory=list, description="types received only as photos too poor to read: ask again"
    )
    illegible_files: list[str] = PField(
        default_factory=list,
        description="those photos' names as they arrived: the request names them (their type is a guess)",
    )
    failed_checks: list[Check] = PField(default_factory=list)
    payee_name: str | None = None
    payee_bank: str | None = None
    payee_account: str | None = None
    low_confidence_fields: list[str] = PField(
        default_factory=list, description="fields read below the confidence threshold"
    )
    direct_settlement: bool = PField(
        default=False,
        description="医疗直付: the hospital submitted the claim and is paid directly; payee_* is its account",
    )

    @property
    def days_in_hospital(self) -> int | None:
        if self.admission_date and self.discharge_date:
            return max(0, (self.discharge_date - self.admission_date).days)
        return None

    @property
    def total_claimed(self) -> Decimal:
        return money(sum((i.total for i in self.invoices), Decimal(0)))


class DirectSettlement(_Record):
    """A hospital's request to be paid the claim directly (医疗直付), with its settlement account.

    Recorded at intake only when the policy's product allows direct settlement; the facts then name
    the hospital as payee, and a corporate account (对公账户) carries no card check digit.
    """

    hospital: str
    account_name: str
    bank: str
    account: str = PField(pattern=r"^\d{8,32}$")


# --- triage, adjudication, fraud ----------------------------------------------------------------


class TriageResult(_Record):
    """How hard a claim is and how soon it must be decided."""

    claim_id: str
    complexity: Complexity
    flash_pay_eligible: bool
    star_tier: int = PField(ge=1, le=5, description="VIP star tier from cumulative annualised premium")
    priority: int = PField(description="higher is sooner")
    due_at: dt.datetime
    reasons: list[str] = PField(default_factory=list)
    model_version: str | None = None


class RuleHit(_Record):
    """One rule's verdict in the evaluation trace kept with a decision."""

    rule_id: str
    code: str
    passed: bool
    fatal: bool = False
    message: str = ""
    source: ReasonSource | None = PField(
        default=None, description="on a failed rule: the rule, or the document check behind it"
    )


class BenefitLine(_Record):
    """A slice of the claimed amount and what happened to it, with the reason code that says why."""

    description: str
    category: str | None = None
    claimed: Money
    payable: Money
    refused: Money
    reason_code: str
    message: str = ""

    @model_validator(mode="after")
    def _adds_up(self) -> BenefitLine:
        if self.payable + self.refused != self.claimed:
            raise ValueError(
                f"benefit line {self.description!r}: payable {self.payable} + refused {self.refused}"
                f" != claimed {self.claimed}"
            )
        return self


class Adjudication(_Record):
    """The rules' and benefit calculation's decision on a claim."""

    claim_id: str
    decision: Decision
    payable: Money
    benefit_lines: list[BenefitLine] = PField(default_factory=list)
    reason_codes: list[str] = PField(default_factory=list)
    trace: list[RuleHit] = PField(default_factory=list)
    rule_set_version: str
    gate_probability: float | None = PField(default=None, description="ML gate: P(safe to pay unseen)")
    gate_model_version: str | None = None


class FraudReason(_Record):
    feature: str
    contribution: float
    message: str


class FraudScore(_Record):
    claim_id: str
    score: float = PField(ge=0.0, le=1.0)
    band: FraudBand
    reasons: list[FraudReason] = PField(default_factory=list)
    model_version: str


class Outcome(_Record):
    """Where a claim went, and why: each reason with the rule, model, check or person that raised it."""

    claim_id: str
    route: Route
    reasons: list[Reason] = PField(default_factory=list)
    payable: Money = Decimal("0.00")
    decided_at: dt.datetime
    rule_set_version: str | None = None
    model_versions: dict[str, str] = PField(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _sourced(cls, data: Any) -> Any:
        # a decision recorded before sources holds `CODE: message` strings: its codes give the sources
        if isinstance(data, dict) and any(isinstance(r, str) for r in data.get("reasons") or []):
            route = data.get("route")
            data = {
                **data,
                "reasons": read_reasons(
                    data["reasons"],
                    model_versions=data.get("model_versions") or {},
                    route=route.value if isinstance(route, Route) else route,
                ),
            }
        return data


class ClaimTimes(_Record):
    """A claim's clock as the claimant lives it: submitted → documents complete → decided → paid, or
    notified of a denial. The store keeps these on the claim's row (`claims.*_at`)."""

    claim_id: str
    submitted_at: dt.datetime | None = None
    documents_complete_at: dt.datetime | None = None
    decided_at: dt.datetime | None = PField(default=None, description="the latest final decision")
    paid_at: dt.datetime | None = None
    notice_at: dt.datetime | None = None
    route: Route | None = PField(default=None, description="the latest decision's route")
    payable: Money = Decimal("0.00")

    @property
    def closed_at(self) -> dt.datetime | None:
        """When the claimant had the answer: paid (a decision that pays), else the notice (a denial, a
        decision paying nothing); None while open or while a payment is held."""
        if self.decided_at is None:
            return None
        if self.route in (Route.FLASH_PAY, Route.AUTO_APPROVE) and self.payable > 0:
            return self.paid_at
        return self.notice_at

    def seconds(self, start: str, end: str) -> float | None:
        """Seconds between two of the claim's times (`"submitted_at"`, ..., `"closed_at"`); None if
        either is not known."""
        a, b = getattr(self, start), getattr(self, end)
        if a is None or b is None:
            return None
        return (_utc(b) - _utc(a)).total_seconds()


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


class PaymentInstruction(_Record):
    """A flash-pay instruction; the idempotency key makes a second copy impossible in the ledger."""

    idempotency_key: str
    claim_id: str
    payee: str
    bank: str
    account: str
    amount: Money
    decision_version: str
    rule_set_version: str | None = None
    model_versions: dict[str, str] = PField(default_factory=dict)
    created_at: dt.datetime


class ReviewDecision(_Record):
    """An adjuster's decision on a routed claim; above their authority a senior must approve too."""

    claim_id: str
    reviewer: str
    action: ReviewAction
    amount: Money | None = None
    reason: str | None = None
    missing_documents: list[DocType] = PField(default_factory=list)
    decided_at: dt.datetime
    approved_by: str | None = PField(default=None, description="the senior's second approval (four-eyes)")

    @model_validator(mode="after")
    def _consistent(self) -> ReviewDecision:
        if self.action in (ReviewAction.APPROVE, ReviewAction.PARTIAL) and self.amount is None:
            raise ValueError(f"{self.action.value} needs an amount")
        if self.action is ReviewAction.DENY and not (self.reason and self.reason.strip()):
            raise ValueError("a denial needs a reason")
        if self.action is ReviewAction.REQUEST_INFO and not self.missing_documents:
            raise ValueError("a request for information names the missing documents")
        if self.amount is not None and self.amount < 0:
            raise ValueError("amount cannot be negative")
        return self

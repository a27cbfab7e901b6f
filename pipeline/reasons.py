"""Why a claim went where it went: each reason with the source that raised it, and how a source reads.

A reason is a code and a message (`PROVIDER_WATCHLIST: 就诊机构…在重点监控名单中`) plus its source: a
rule of the rule set (its id), a model (name, version, band), a check of the documents or of the
intake, the product's terms (the benefit calculation), the authority table, an adjuster, or the
runner itself. The review queue and the claim page show the source beside each reason, so a fraud
referral (`FRAUD_SUSPECTED`) raised by the provider watch list never reads as the model's doing.

Decisions recorded before reasons had sources hold plain strings (`CODE: message`); `read_reasons`
reads both forms and gives an old string the source its code implies (the codes the engine emitted
then, `LEGACY_SOURCES`), or 'unknown (recorded before sources)'. Stored decisions are never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PField

__all__ = [
    "CHECK_LABELS",
    "FRAUD_SUSPECTED",
    "LEGACY_SOURCES",
    "Reason",
    "ReasonSource",
    "SourceKind",
    "adjuster_source",
    "authority_source",
    "check_source",
    "describe_source",
    "fraud_raised_by",
    "model_source",
    "read_reasons",
    "rule_source",
    "sourced_codes",
    "system_source",
    "terms_source",
]

FRAUD_SUSPECTED = "FRAUD_SUSPECTED"
"""The referral code for a fraud red flag (欺诈疑点); each one names the rule or check that raised it."""


class SourceKind(StrEnum):
    RULE = "rule"  # a rule of the rule set in force; id: the rule's id (`watched_provider`)
    MODEL = "model"  # a model; id: name, version and, for the fraud model, its band
    CHECK = "check"  # a check of the documents or of the intake; id: the check's name (`qr_mismatch`)
    TERMS = "terms"  # the product's terms, through the benefit calculation; id: product and version
    AUTHORITY = "authority"  # the authority table (Settings.authority); id: whose limit
    ADJUSTER = "adjuster"  # a person; id: the username
    SYSTEM = "system"  # the runner itself (a claim it could not process)
    UNKNOWN = "unknown"  # recorded before reasons had sources, with a code nobody knows


class ReasonSource(BaseModel):
    """Who or what raised a reason: kind, a stable id to group by, and a short label for people."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: SourceKind
    id: str
    label: str


class Reason(BaseModel):
    """One reason on a claim's outcome or review task: code (None on a detail line), message, source."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = None
    message: str = ""
    source: ReasonSource
    detail: bool = PField(default=False, description="explains the reason above it (a model's feature)")

    @property
    def text(self) -> str:
        """`CODE: message`, the form reasons had before sources (the CLI, the batch report)."""
        if self.code and self.message:
            return f"{self.code}: {self.message}"
        return self.code or self.message


def describe_source(source: ReasonSource) -> str:
    """A source as people read it: 'rule: provider on watch list', 'model: fraud v3 band high 0.82'."""
    if source.kind is SourceKind.UNKNOWN:
        return f"unknown ({source.label})"
    return f"{source.kind.value}: {source.label}"


# --- making sources ------------------------------------------------------------------------------

CHECK_LABELS: dict[str, str] = {
    "qr_mismatch": "QR code disagrees with the printed bill",
    "items_sum_to_total": "fee items do not add up to the invoice total",
    "list_items_sum_to_invoice": "expense list does not add up to the invoice",
    "page_items_sum": "fee items on the page do not add up",
    "words_vs_figures": "amount in words disagrees with the figures",
    "payer_split": "payer split does not add up to the total",
    "id_checksum": "ID number fails its check digit",
    "id_birth_date": "birth date disagrees with the ID number",
    "id_sex": "sex disagrees with the ID number",
    "luhn": "bank card number fails its check digit",
    "same_person": "documents name different people",
    "same_claimant": "documents name someone other than the claimant",
    "multiple_documents": "several bills on one page",
    "legible": "photo too poor to read",
    "date_order": "dates out of order",
    "days_in_hospital": "hospital days disagree with the dates",
    "decisive_fields": "a field the payment rests on was not read",
    "doc_type_confidence": "document type uncertain",
    "doc_type_unknown": "document type unknown",
    "duplicate_invoice": "an invoice submitted twice in the claim",
    "icd10_mismatch": "diagnosis code disagrees with its name",
    "invoice_total_unread": "invoice total not read",
    "not_a_claim_document": "not a claim document",
    "plausible": "an implausible value",
    "intake": "problems found at intake",
}
"""A check's name (`pipeline.extract` checks, and the intake's validation) in words for the adjuster."""


def rule_source(rule_id: str, label: str) -> ReasonSource:
    return ReasonSource(kind=SourceKind.RULE, id=rule_id, label=label)


def check_source(names: Iterable[str]) -> ReasonSource:
    """The check (or checks, in order) that failed: 'check: QR code disagrees with the printed bill'."""
    names = list(dict.fromkeys(names)) or ["?"]
    labels = [CHECK_LABELS.get(n, n.replace("_", " ")) for n in names]
    return ReasonSource(kind=SourceKind.CHECK, id=",".join(names), label="; ".join(labels))


def model_source(
    name: str, version: str, *, band: str | None = None, score: float | None = None, detail: str = ""
) -> ReasonSource:
    """A model's verdict: 'model: fraud v0003 band high 0.82', 'model: gate g1 P(safe) 0.410 < 0.9'."""
    ident = " ".join(p for p in (name, version, band) if p)
    parts = [
        name,
        version,
        f"band {band}" if band else "",
        f"{score:.2f}" if score is not None else "",
        detail,
    ]
    return ReasonSource(kind=SourceKind.MODEL, id=ident, label=" ".join(p for p in parts if p))


def terms_source(product_id: str | None, version: str | None) -> ReasonSource:
    """The benefit calculation under the product's terms (deductible, limits, what is covered)."""
    if product_id is None:
        return ReasonSource(kind=SourceKind.TERMS, id="none", label="no terms to assess the benefit")
    ident = f"{product_id} {version}" if version else product_id
    return ReasonSource(kind=SourceKind.TERMS, id=ident, label=f"benefit calculation of {ident}")


def authority_source(role: str, limit: object) -> ReasonSource:
    return ReasonSource(kind=SourceKind.AUTHORITY, id=role, label=f"{role} limit {limit}")


def adjuster_source(username: str, label: str | None = None) -> ReasonSource:
    return ReasonSource(kind=SourceKind.ADJUSTER, id=username, label=label or username)


def system_source(label: str = "processing error") -> ReasonSource:
    return ReasonSource(kind=SourceKind.SYSTEM, id="runner", label=label)


def fraud_raised_by(reasons: Iterable[Reason]) -> list[ReasonSource]:
    """What raised the claim's fraud referral, other than a model: the watch list, a check, ..."""
    out: list[ReasonSource] = []
    for r in reasons:
        if r.code == FRAUD_SUSPECTED and r.source.kind is not SourceKind.MODEL and r.source not in out:
            out.append(r.source)
    return out


# --- reasons recorded before sources -------------------------------------------------------------

_RULES = {
    "POLICY_NOT_FOUND": ("policy_found", "policy not found"),
    "PRODUCT_UNKNOWN": ("product_known", "no terms for the product"),
    "INSURED_MISMATCH": ("insured_matches", "insured differs from the policy's"),
    "CLAIM_TYPE_NOT_COVERED": ("claim_type_covered", "claim type not covered"),
    "NOT_IN_FORCE": ("policy_in_force", "policy not in force"),
    "MISSING_DOCUMENT": ("required_documents", "documents missing"),
    "NO_DIAGNOSIS": ("diagnosis_present", "no diagnosis read"),
    "DUPLICATE_INVOICE": ("duplicate_invoice", "invoice already claimed"),
    "WAITING_PERIOD": ("waiting_period", "waiting period"),
    "EXCLUDED": ("exclusion", "excluded diagnosis"),
    "SECONDARY_DIAGNOSIS_EXCLUDED": ("secondary_exclusion", "excluded secondary diagnosis"),
    "NOT_COVERED_CONDITION": ("covered_condition", "condition not covered"),
    "EXTRACTION_CHECK_FAILED": ("extraction_checks", "document checks failed"),
    "SHARED_PAYEE_ACCOUNT": ("shared_payee_account", "payee account shared with another claimant"),
    "PAYEE_NOT_CLAIMANT": ("payee_is_claimant", "payee is not the claimant"),
    "EARLY_CLAIM": ("early_claim", "claim soon after the waiting period"),
    "PROVIDER_WATCHLIST": ("watched_provider", "provider on watch list"),
    "EARLIER_CLAIM_ON_POLICY": ("lump_sum_once", "lump sum claimed again on the policy"),
    "LIMIT_EXHAUSTED": ("annual_limit", "annual limit used up"),
    "LOW_CONFIDENCE_FIELDS": ("low_confidence", "fields read with low confidence"),
    "AMOUNT_DIFFERS": ("amount_claimed", "amount claimed differs from the invoices"),
}
_CHECKS = {
    "INVOICE_ITEMS_MISMATCH": "items_sum_to_total",
    "INVOICE_WORDS_MISMATCH": "words_vs_figures",
    "INVOICE_PAYER_SPLIT": "payer_split",
    "ID_NUMBER_INVALID": "id_checksum",
    "BANK_ACCOUNT_INVALID": "luhn",
    "DOCUMENT_PERSON_MISMATCH": "same_person",
    "QR_MISMATCH": "qr_mismatch",
    "MULTIPLE_DOCUMENTS": "multiple_documents",
}
_BENEFIT = (
    "BELOW_DEDUCTIBLE",
    "OVER_LIMIT",
    "ALREADY_PAID",
    "NOTHING_COVERED",
    "PAID_BY_SOCIAL_INSURANCE",
    "NO_HOSPITAL_DAYS",
    "DAYS_UNKNOWN",
    "SETTLEMENT_UNKNOWN",
)
_LEGACY_TERMS = ReasonSource(kind=SourceKind.TERMS, id="product", label="benefit calculation")
_FRAUD_FLAG_RULES = frozenset(
    {"extraction_checks", "shared_payee_account", "early_claim", "watched_provider"}
)

LEGACY_SOURCES: dict[str, ReasonSource] = {
    **{code: rule_source(rid, label) for code, (rid, label) in _RULES.items()},
    **{code: check_source([name]) for code, name in _CHECKS.items()},
    **dict.fromkeys(_BENEFIT, _LEGACY_TERMS),
    "NOT_ASSESSABLE": terms_source(None, None),
    "INTAKE_PROBLEMS": check_source(["intake"]),
    "PROCESSING_ERROR": system_source(),
}
"""The source each code the engine emitted before sources implies (rule codes as rule sets 2025.1 and
2026.1 give them; an exclusion's own `EXCLUDED_*` code is the exclusion rule's)."""

_UNKNOWN = ReasonSource(kind=SourceKind.UNKNOWN, id="unknown", label="recorded before sources")
_CODE = re.compile(r"^([A-Z][A-Z0-9_]+)(?::\s*(.*))?$", re.S)
_SCORE = re.compile(r"score\s+([0-9.]+)")
_P_SAFE = re.compile(r"P\(safe\)\s+([0-9.]+)")
_REOPENED_BY = re.compile(r"\(by ([^;)]+)")


def _legacy_source(code: str | None, message: str, versions: Mapping[str, str]) -> ReasonSource:
    if code is None:
        return _UNKNOWN
    if code in LEGACY_SOURCES:
        return LEGACY_SOURCES[code]
    if code.startswith("EXCLUDED_"):
        return LEGACY_SOURCES["EXCLUDED"]
    if code.startswith("FRAUD_SCORE_"):
        m = _SCORE.search(message)
        return model_source(
            "fraud",
            versions.get("fraud", ""),
            band=code.removeprefix("FRAUD_SCORE_").lower(),
            score=float(m.group(1)) if m else None,
        )
    if code in ("GATE_NOT_CONFIDENT", "GATE_UNAVAILABLE"):
        m = _P_SAFE.search(message)
        detail = f"P(safe) {m.group(1)}" if m else "unavailable"
        return model_source("gate", versions.get("adjudication-gate", ""), detail=detail)
    if code == "ABOVE_AUTO_PAY_LIMIT":
        return authority_source("machine", message.rsplit(">", 1)[-1].strip() or "?")
    if code == "REOPENED":
        m = _REOPENED_BY.search(message)
        return adjuster_source(m.group(1).strip() if m else "senior")
    return _UNKNOWN


def _from_string(
    text: str, previous: Reason | None, versions: Mapping[str, str], route: str | None
) -> Reason:
    if text[:1].isspace() and previous is not None:  # a model's feature under its score
        return Reason(message=text.strip(), source=previous.source, detail=True)
    m = _CODE.match(text.strip())
    code, message = (m.group(1), (m.group(2) or "").strip()) if m else (None, text.strip())
    if route == "error":
        return Reason(code=code, message=message, source=system_source())
    if code is None and route in ("flash_pay", "auto_approve") and previous is None:
        return Reason(message=message, source=_LEGACY_TERMS)  # "approve: 80.00"
    return Reason(code=code, message=message, source=_legacy_source(code, message, versions))


def read_reasons(
    raw: Iterable[Any] | None,
    *,
    model_versions: Mapping[str, str] | None = None,
    route: str | None = None,
) -> list[Reason]:
    """Reasons as stored, in either form: records as they are, old strings with a derived source.

    An old list is read as a whole: a review decision's reasons (`REVIEWED_BY: adj1`) are all the
    adjuster's; a `FRAUD_SUSPECTED` is raised by the fraud-flag rules listed beside it (one reason
    each, as the engine now records it); a fraud score's feature lines keep the model's source.
    """
    items = list(raw or [])
    if all(not isinstance(r, str) for r in items):
        return [r if isinstance(r, Reason) else Reason.model_validate(r) for r in items]
    versions = model_versions or {}
    out: list[Reason] = []
    for r in items:
        if isinstance(r, str):
            out.append(_from_string(r, out[-1] if out else None, versions, route))
        else:
            out.append(r if isinstance(r, Reason) else Reason.model_validate(r))
    reviewer = next((r.message.split(" ", 1)[0] for r in out if r.code == "REVIEWED_BY" and r.message), None)
    if reviewer is not None:
        who = adjuster_source(reviewer)
        return [
            r.model_copy(update={"source": who}) if r.source.kind is not SourceKind.ADJUSTER else r
            for r in out
        ]
    return _split_fraud_referrals(out)


def _raises_fraud_flag(source: ReasonSource) -> bool:
    """Whether a failure of `source` raised `FRAUD_SUSPECTED`: a fraud-flag rule, or a document check."""
    if source.kind is SourceKind.CHECK:
        return source.id != "intake"
    return source.kind is SourceKind.RULE and source.id in _FRAUD_FLAG_RULES


def _split_fraud_referrals(reasons: list[Reason]) -> list[Reason]:
    flags = list(
        dict.fromkeys(r.source for r in reasons if r.code != FRAUD_SUSPECTED and _raises_fraud_flag(r.source))
    )
    out: list[Reason] = []
    for r in reasons:
        if r.code == FRAUD_SUSPECTED and r.source.kind is SourceKind.UNKNOWN and flags:
            out += [r.model_copy(update={"source": s}) for s in flags]
        else:
            out.append(r)
    return out


def sourced_codes(reasons: Iterable[Reason]) -> list[tuple[str, str]]:
    """Each (code, source as people read it) once, in order; detail lines have no code of their own."""
    seen: dict[tuple[str, str], None] = {}
    for r in reasons:
        if r.code and not r.detail:
            seen[(r.code, describe_source(r.source))] = None
    return list(seen)

"""Product terms (条款): the waiting period, exclusions, benefits and documents a product promises.

Read from `adjudication/products/*.yaml` (written with the corpus); a rule set may amend them
(`product_amendments`, merged by `amend`), which is how a term change reaches claims from a given
date. The Chinese names of document and claim types are here too: notices quote them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import BadInputError, ClaimsError
from pipeline.records import ClaimFacts, ClaimType, DocType, Money

__all__ = [
    "CLAIM_TYPE_ZH",
    "DOC_NAMES_ZH",
    "INJURY",
    "PRODUCTS_DIR",
    "STAY_DOCUMENTS",
    "ZERO",
    "BenefitTerms",
    "IcdRange",
    "ProductTerms",
    "amend",
    "caused_by_injury",
    "load_products",
    "treated_in_hospital",
]

PRODUCTS_DIR = Path(__file__).resolve().parent / "products"
ZERO = Decimal("0.00")

DOC_NAMES_ZH = {
    DocType.OUTPATIENT_INVOICE: "门诊收费票据",
    DocType.INPATIENT_INVOICE: "住院收费票据",
    DocType.PHARMACY_INVOICE: "购药发票",
    DocType.EXPENSE_LIST: "费用清单",
    DocType.DISCHARGE_SUMMARY: "出院小结",
    DocType.DIAGNOSIS_CERTIFICATE: "诊断证明书",
    DocType.CLAIM_FORM: "理赔申请书",
    DocType.ID_CARD: "身份证",
    DocType.BANK_CARD: "银行卡",
    DocType.OTHER: "其他材料",
}
CLAIM_TYPE_ZH = {
    ClaimType.OUTPATIENT: "门急诊医疗",
    ClaimType.INPATIENT: "住院",
    ClaimType.ACCIDENT: "意外医疗",
    ClaimType.CRITICAL_ILLNESS: "重大疾病",
}


class IcdRange(BaseModel):
    """An inclusive ICD-10 range on the 3-character category: C00-C43 holds C34.9."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    code: str | None = None
    label: str = ""

    def contains(self, icd10: str) -> bool:
        category = icd10.replace(".", "").strip().upper()[:3]
        return self.start.upper() <= category <= self.end.upper()


INJURY = IcdRange.model_validate({"from": "S00", "to": "T98", "label": "意外伤害所致损伤、中毒"})
"""意外伤害 (accidental injury) as ICD-10 codes it: injuries and poisonings, S00-T98 (AM01 covers these)."""


def caused_by_injury(diagnoses: Sequence[str]) -> bool:
    """意外伤害所致: the principal diagnosis (主要诊断, the first) is an injury or poisoning (S00-T98).

    Every health product's wording defines it so: such a claim has no waiting period (等待期) and is not
    checked for a pre-existing condition (既往症), since an injury cannot precede the policy. A disease
    as principal diagnosis with an injury only among the secondary ones is not caused by injury.
    """
    return bool(diagnoses) and INJURY.contains(diagnoses[0])


class BenefitTerms(BaseModel):
    """One benefit (保险责任) of a product: how a claim of its types turns into yuan."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: Literal["reimbursement", "daily_allowance", "lump_sum"]
    claim_types: list[ClaimType]
    deductible: Money = ZERO
    deductible_basis: Literal["per_year", "per_claim"] = "per_year"
    ratio_with_social_insurance: Decimal = Decimal("1")
    ratio_without_social_insurance: Decimal = Decimal("1")
    ratio_not_settled: Decimal | None = Field(
        default=None,
        description="enrolled, but this bill not settled through social insurance (未经医保结算); "
        "None: the with-insurance ratio",
    )
    limit_basis: Literal["sum_insured"] = "sum_insured"
    covered_classes: list[Literal["甲", "乙", "丙"]] = Field(default_factory=list)
    excluded_categories: list[str] = Field(default_factory=list, description="fee categories never paid")
    per_day_limits: dict[str, Money] = Field(
        default_factory=dict, description="category -> yuan per hospital day (e.g. 床位费 50)"
    )
    per_day: Money = ZERO
    deductible_days: int = 0
    max_days_per_claim: int = 0
    max_days_per_year: int = 0


class ProductTerms(BaseModel):
    """A product's terms as filed: waiting period, exclusions, benefits, required documents."""

    model_config = ConfigDict(extra="forbid")

    product_id: str
    name: str
    version: str
    effective_from: dt.date
    waiting_period_days: int = 0
    waiting_period_applies_to_accident: bool = Field(
        default=False,
        description="the waiting period also binds a claim caused by injury (`caused_by_injury`), any type",
    )
    exclusions: list[IcdRange] = Field(default_factory=list)
    covered_conditions: list[IcdRange] = Field(default_factory=list)
    benefits: list[BenefitTerms]
    required_documents: dict[ClaimType, list[DocType]] = Field(default_factory=dict)
    direct_settlement: bool = Field(
        default=False, description="医疗直付: a hospital's structured submission may be paid to the hospital"
    )
    direct_settlement_documents: dict[ClaimType, list[DocType]] = Field(
        default_factory=dict,
        description="what a direct-settlement claim needs instead (no claim form, ID or bank card)",
    )
    stay_documents: dict[ClaimType, list[DocType]] = Field(
        default_factory=dict,
        description="what a claim of the type needs instead when treated in hospital (住院): an accident"
        " with a stay brings the inpatient invoice and discharge summary, not the outpatient invoice",
    )

    def documents_required(
        self, claim_type: ClaimType, direct_settlement: bool = False, stay: bool = False
    ) -> list[DocType]:
        """The documents a claim must carry: fewer when the hospital settles directly with us, those
        of a stay when the claim's type lists them and it was treated in hospital."""
        if direct_settlement and self.direct_settlement and claim_type in self.direct_settlement_documents:
            return list(self.direct_settlement_documents[claim_type])
        if stay and claim_type in self.stay_documents:
            return list(self.stay_documents[claim_type])
        return list(self.required_documents.get(claim_type, []))

    def documents_for(self, facts: ClaimFacts) -> list[DocType]:
        """The documents this claim must carry, by how it was settled and treated."""
        return self.documents_required(facts.claim_type, facts.direct_settlement, treated_in_hospital(facts))

    def settles_directly(self, claim_type: ClaimType) -> bool:
        """May a hospital be paid this claim type directly (医疗直付)?"""
        return self.direct_settlement and self.benefit_for(claim_type) is not None

    def benefit_for(self, claim_type: ClaimType) -> BenefitTerms | None:
        return next((b for b in self.benefits if claim_type in b.claim_types), None)

    def exclusion_for(self, icd10: str) -> IcdRange | None:
        return next((r for r in self.exclusions if r.contains(icd10)), None)

    def covered_condition(self, icd10: str) -> IcdRange | None:
        return next((r for r in self.covered_conditions if r.contains(icd10)), None)


STAY_DOCUMENTS = frozenset({DocType.INPATIENT_INVOICE, DocType.DISCHARGE_SUMMARY})
"""Documents only a hospital stay produces: receiving one (even unreadable) shows there was a stay."""


def treated_in_hospital(facts: ClaimFacts) -> bool:
    """Was the claim's treatment a hospital stay (住院)? Known when an admission or discharge date
    was read, or an inpatient invoice or discharge summary came in; otherwise a visit (门诊)."""
    received = {*facts.documents_present, *facts.illegible_documents}
    return bool(facts.admission_date or facts.discharge_date or received & STAY_DOCUMENTS)


def load_products(folder: Path = PRODUCTS_DIR) -> list[ProductTerms]:
    """Every product file in `folder` (several versions of one product may sit side by side)."""
    products = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            products.append(ProductTerms.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))))
        except Exception as exc:  # YAML or pydantic: either way the file needs fixing
            raise BadInputError(path, f"not a valid product definition: {exc}") from exc
    if not products:
        raise BadInputError(folder, "no product definitions (*.yaml) found")
    return products


def amend(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge a rule set's amendment over product terms; benefits are addressed by their id."""
    out = dict(base)
    for key, value in change.items():
        if key == "benefits" and isinstance(value, dict):
            by_id = {b["id"]: b for b in out.get("benefits", [])}
            unknown = set(value) - set(by_id)
            if unknown:
                raise ClaimsError(
                    f"amendment names unknown benefits {sorted(unknown)} of {base['product_id']}"
                )
            out["benefits"] = [amend(b, value.get(b["id"], {})) for b in out.get("benefits", [])]
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = amend(out[key], value)
        else:
            out[key] = value
    return out

"""Product terms read from `adjudication/products/*.yaml`, for the generator's own arithmetic.

The generator computes each claim's expected outcome from these files with plain arithmetic of its
own, never through the adjudication engine, so the two can check each other.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import BadInputError
from pipeline.records import ClaimType, DocType, Money

log = logging.getLogger(__name__)

PRODUCTS_DIR = Path(__file__).resolve().parent.parent / "adjudication" / "products"


class IcdRange(BaseModel):
    """An inclusive ICD-10 range compared on the 3-character category (C00-C43 holds C34.9)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    code: str | None = None
    label: str = ""

    def contains(self, icd10: str) -> bool:
        category = icd10.replace(".", "")[:3].upper()
        return self.start.upper() <= category <= self.end.upper()


INJURY = IcdRange.model_validate({"from": "S00", "to": "T98", "label": "意外伤害所致损伤、中毒"})
"""Injuries and poisonings (ICD-10 chapter XIX), as the wordings define 意外伤害所致."""


def caused_by_injury(diagnoses: list[str]) -> bool:
    """意外伤害所致: the principal (first) diagnosis is S00-T98; such a claim has no waiting period and no
    pre-existing-condition check, whatever its type. Written here again, not imported: the truth is ours."""
    return bool(diagnoses) and INJURY.contains(diagnoses[0])


class Benefit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: Literal["reimbursement", "daily_allowance", "lump_sum"]
    claim_types: list[ClaimType]
    deductible: Money = Decimal("0")
    deductible_basis: Literal["per_year", "per_claim"] = "per_year"
    ratio_with_social_insurance: Decimal = Decimal("1")
    ratio_without_social_insurance: Decimal = Decimal("1")
    ratio_not_settled: Decimal | None = None
    """Enrolled, but the bill was not settled through social insurance (未经医保结算); None: the
    with-insurance ratio."""
    limit_basis: Literal["sum_insured"] = "sum_insured"
    covered_classes: list[Literal["甲", "乙", "丙"]] = Field(default_factory=list)
    excluded_categories: list[str] = Field(default_factory=list)
    """Fee categories (收费项目) never paid, whatever their 甲/乙/丙 class."""
    per_day_limits: dict[str, Money] = Field(default_factory=dict)
    """Fee category -> yuan per hospital day (床位费 50 from rule set 2026.1); the days are the stay's
    nights, a same-day stay counting as one; a stay of unknown length needs a person to count them."""
    per_day: Money = Decimal("0")
    deductible_days: int = 0
    max_days_per_claim: int = 0
    max_days_per_year: int = 0


class Product(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str
    name: str
    version: str
    effective_from: dt.date
    waiting_period_days: int
    waiting_period_applies_to_accident: bool = False
    """The waiting period binds a claim caused by injury too (no product says so today)."""
    exclusions: list[IcdRange] = Field(default_factory=list)
    covered_conditions: list[IcdRange] = Field(default_factory=list)
    benefits: list[Benefit]
    required_documents: dict[ClaimType, list[DocType]]
    direct_settlement: bool = False
    """医疗直付 (read by adjudication and intake; the generator's arithmetic does not depend on it)."""
    direct_settlement_documents: dict[ClaimType, list[DocType]] = Field(default_factory=dict)
    stay_documents: dict[ClaimType, list[DocType]] = Field(default_factory=dict)
    """What a claim of the type carries instead when it was treated in hospital (AM01: 住院 vs 门诊)."""

    def documents_for(self, claim_type: ClaimType, stay: bool) -> list[DocType]:
        """The documents a claim needs: those of a stay when it had one and the product lists them."""
        if stay and claim_type in self.stay_documents:
            return list(self.stay_documents[claim_type])
        return list(self.required_documents.get(claim_type, []))

    def benefit_for(self, claim_type: ClaimType) -> Benefit:
        return next(b for b in self.benefits if claim_type in b.claim_types)

    def exclusion_for(self, icd10: str) -> IcdRange | None:
        return next((r for r in self.exclusions if r.contains(icd10)), None)

    def covers_condition(self, icd10: str) -> bool:
        return any(r.contains(icd10) for r in self.covered_conditions)


@lru_cache(maxsize=4)
def load_products(folder: Path = PRODUCTS_DIR) -> dict[str, Product]:
    """Every product file in `folder`, by product id."""
    products: dict[str, Product] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            product = Product.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except Exception as exc:  # pydantic or YAML: either way the file needs fixing
            raise BadInputError(path, f"not a valid product definition: {exc}") from exc
        products[product.product_id] = product
    if not products:
        raise BadInputError(folder, "no product definitions (*.yaml) found")
    log.debug("loaded %d products from %s", len(products), folder)
    return products

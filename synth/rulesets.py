"""The rule sets (规则集) as the generator reads them: the terms and parameters in force on a date.

Read from `adjudication/rulesets/*.yaml` with the generator's own small reader, never through the
adjudication engine: each version's `product_amendments` (条款修订) are merged here over the product
files (`synth.products`), so the generator's expected outcome and the engine each read a term change
for themselves and check each other. What a claim gets depends on the version in force on its incident
date (admission for a stay), exactly as the wordings say (adjudication/products/*.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from pipeline.errors import BadInputError
from synth.products import PRODUCTS_DIR, Product, load_products

__all__ = ["RULESETS_DIR", "RuleSetTerms", "change_dates", "load_rule_sets", "merge_terms", "rule_set_on"]

log = logging.getLogger(__name__)

RULESETS_DIR = Path(__file__).resolve().parent.parent / "adjudication" / "rulesets"
EARLY_CLAIM_DAYS = 15
"""The early-claim window when a rule set does not name one (the first rule set's 15 days)."""


class RuleSetTerms(BaseModel):
    """One rule-set version as the generator needs it: the products as amended, and the parameters
    that change an outcome (the early-claim window, the providers under watch)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    effective_from: dt.date
    early_claim_days: int
    """等待期满后 this many days: a claim so soon after the waiting period is looked at by a person."""
    watched_providers: tuple[str, ...]
    products: dict[str, Product]


def merge_terms(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """A product's terms with an amendment merged over them; benefits are named by their id."""
    out = dict(base)
    for key, value in change.items():
        if key == "benefits" and isinstance(value, dict):
            ids = {b["id"] for b in out.get("benefits", [])}
            unknown = sorted(set(value) - ids)
            if unknown:
                raise ValueError(f"amends benefits {unknown} that {base.get('product_id')} does not have")
            out["benefits"] = [merge_terms(b, value.get(b["id"], {})) for b in out.get("benefits", [])]
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_terms(out[key], value)
        else:
            out[key] = value
    return out


def _read(path: Path, products: dict[str, Product]) -> RuleSetTerms:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        params = raw.get("parameters") or {}
        amendments: dict[str, dict[str, Any]] = raw.get("product_amendments") or {}
        unknown = sorted(set(amendments) - set(products))
        if unknown:
            raise ValueError(f"amends unknown products {unknown}")
        amended = {
            pid: Product.model_validate(merge_terms(p.model_dump(by_alias=True), amendments[pid]))
            if pid in amendments
            else p
            for pid, p in products.items()
        }
        return RuleSetTerms(
            version=str(raw["version"]),
            effective_from=raw["effective_from"],
            early_claim_days=int(params.get("early_claim_days", EARLY_CLAIM_DAYS)),
            watched_providers=tuple(params.get("watched_providers") or ()),
            products=amended,
        )
    except Exception as exc:  # YAML, a missing key, pydantic: either way the file needs fixing
        raise BadInputError(path, f"not a rule set the generator can read: {exc}") from exc


@lru_cache(maxsize=4)
def load_rule_sets(
    rules_dir: Path = RULESETS_DIR, products_dir: Path = PRODUCTS_DIR
) -> tuple[RuleSetTerms, ...]:
    """Every rule set in `rules_dir` over the products in `products_dir`, oldest first."""
    products = load_products(products_dir)
    sets = sorted(
        (_read(path, products) for path in sorted(rules_dir.glob("*.yaml"))), key=lambda r: r.effective_from
    )
    if not sets:
        raise BadInputError(rules_dir, "no rule sets (*.yaml) found")
    log.debug("read rule sets %s", [r.version for r in sets])
    return tuple(sets)


def rule_set_on(day: dt.date, rule_sets: Sequence[RuleSetTerms] | None = None) -> RuleSetTerms:
    """The version in force on `day` (a claim's incident date); before the first, the first."""
    sets = rule_sets or load_rule_sets()
    chosen = sets[0]
    for r in sets:
        if r.effective_from <= day:
            chosen = r
    return chosen


def change_dates(rule_sets: Sequence[RuleSetTerms] | None = None) -> list[dt.date]:
    """The days a new version comes into force (every version but the first)."""
    return [r.effective_from for r in (rule_sets or load_rule_sets())[1:]]

"""The terms in words (`adjudication/products/<product>.md`) say every number the product YAML holds.

The wording is written by hand from the insurer's standard terms, not generated, so it can drift from
the data the engine reads. This test walks each product YAML (and each rule set's `product_amendments`)
and looks for every amount, ratio, day count, date, ICD-10 range, exclusion label and document name in
the wording, in one of the forms a person writes it: "100.00" as 100元 or 100.00 元, "0.80" as 80%,
30 days as 30日 or 30天, an ICD range as K00-K08. A miss names the product, the YAML key and the value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from adjudication.rules import RULESETS_DIR
from adjudication.terms import DOC_NAMES_ZH, PRODUCTS_DIR
from pipeline.records import DocType

PRODUCT_FILES = sorted(PRODUCTS_DIR.glob("*.yaml"))
RULE_SET_FILES = sorted(RULESETS_DIR.glob("*.yaml"))
SKIPPED_KEYS = {"product_id", "version", "id", "code", "kind", "limit_basis"}
BASIS = {"per_year": "年免赔额", "per_claim": "每次免赔额"}  # the deductible's basis, as the wording names it
NUMBER = re.compile(r"^\d+(\.\d+)?$")
DASH = r"\s*[-–—~～至]\s*"
DOCUMENT_KEYS = ("required_documents", "direct_settlement_documents", "stay_documents")


class Term(NamedTuple):
    """One value of the terms and the pattern its written forms match."""

    where: str
    value: str
    pattern: re.Pattern[str]


def _num(value: Decimal) -> str:
    """100.00 -> 100, 0.5 -> 0.5: the plain way a number is written."""
    return format(value.normalize(), "f")


def _forms(key: str, value: Any) -> re.Pattern[str] | None:
    """The written forms of one scalar of the YAML, by what its key says it is."""
    if key == "direct_settlement" and value is True:
        return re.compile("医疗直付")
    if isinstance(value, bool) or key in SKIPPED_KEYS:
        return None
    if key == "deductible_basis":
        return re.compile(BASIS[value])
    if key == "covered_classes":  # one class of the list
        return re.compile(f"{value}类")
    if isinstance(value, dt.date):
        return re.compile(rf"{value.year}年{value.month}月{value.day}日|{re.escape(value.isoformat())}")
    if isinstance(value, int):
        unit = r"\s*[日天]" if key.endswith("days") else ""
        return re.compile(rf"(?<![\d.,]){value}{unit}(?![\d.])" if not unit else rf"(?<![\d.,]){value}{unit}")
    if isinstance(value, str) and NUMBER.match(value):
        amount = Decimal(value)
        if key.startswith("ratio"):
            percent = _num(amount * 100)
            return re.compile(rf"(?<![\d.]){re.escape(percent)}\s*[%％]|(?<![\d.]){re.escape(value)}(?![\d])")
        plain = _num(amount)
        two = f"{amount:.2f}"
        return re.compile(rf"(?<![\d.,])(?:{re.escape(two)}|{re.escape(plain)})\s*元")
    if key == "label" and isinstance(value, str):
        return re.compile(re.escape(value))
    return None


def _icd(r: dict[str, Any]) -> re.Pattern[str]:
    """An inclusive ICD-10 range as written: K00-K08, or the code alone when both ends are one."""
    start, end = str(r["from"]), str(r["to"])
    if start == end:
        return re.compile(rf"(?<![A-Z0-9]){re.escape(start)}(?![0-9])")
    return re.compile(rf"(?<![A-Z0-9]){re.escape(start)}{DASH}{re.escape(end)}(?![0-9])")


def terms(node: Any, where: str, key: str = "") -> Iterator[Term]:
    """Every value of a YAML tree with the pattern of its written forms, named by its path."""
    if isinstance(node, dict):
        if "from" in node and "to" in node:
            span = str(node["from"]) if node["from"] == node["to"] else f"{node['from']}-{node['to']}"
            yield Term(f"{where}.from/to", span, _icd(node))
        for k, v in node.items():
            if k in ("from", "to"):
                continue
            if k in DOCUMENT_KEYS and isinstance(v, dict):
                for claim_type, docs in v.items():
                    for d in docs:
                        name = DOC_NAMES_ZH[DocType(d)]
                        yield Term(f"{where}.{k}.{claim_type}", name, re.compile(re.escape(name)))
                continue
            if k == "per_day_limits" and isinstance(v, dict):
                for category, cap in v.items():  # 床位费每日限额50元: the category and its limit together
                    amount = Decimal(str(cap))
                    pattern = re.compile(
                        rf"{re.escape(category)}每日限额\s*(?:{amount:.2f}|{_num(amount)})\s*元"
                    )
                    yield Term(f"{where}.{k}.{category}", f"{category} {cap}", pattern)
                continue
            yield from terms(v, f"{where}.{k}", k)
    elif isinstance(node, list):
        for n, v in enumerate(node):
            yield from terms(v, f"{where}[{n}]", key)
    else:
        pattern = _forms(key, node)
        if pattern is not None:
            yield Term(where, str(node), pattern)


def product_terms(product: dict[str, Any]) -> list[Term]:
    """What the product's own YAML says, its name first."""
    name = Term("name", product["name"], re.compile(re.escape(product["name"])))
    return [name, *terms(product, product["product_id"])]


def amendment_terms(rule_set: dict[str, Any], product_id: str) -> list[Term]:
    """What a rule set amends in one product, with the date the amendment applies from."""
    change = (rule_set.get("product_amendments") or {}).get(product_id)
    if not change:
        return []
    version, since = rule_set["version"], rule_set["effective_from"]
    start = _forms("effective_from", since)
    assert start is not None
    found = list(terms(change, f"rule set {version} product_amendments.{product_id}"))
    return [Term(f"rule set {version} effective_from", str(since), start), *found]


def misses(wording: str, product: dict[str, Any], rule_sets: list[dict[str, Any]]) -> list[str]:
    """Each value of the terms the wording does not state, as "product key=value"."""
    expected = product_terms(product)
    for rs in rule_sets:
        expected += amendment_terms(rs, product["product_id"])
    pid = product["product_id"]
    return [f"{pid} {t.where}={t.value}" for t in expected if not t.pattern.search(wording)]


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


@pytest.fixture(scope="module")
def rule_sets() -> list[dict[str, Any]]:
    return [_load(p) for p in RULE_SET_FILES]


@pytest.mark.parametrize("path", PRODUCT_FILES, ids=lambda p: p.stem)
def test_wording_states_every_term(path: Path, rule_sets: list[dict[str, Any]]) -> None:
    wording = path.with_suffix(".md")
    assert wording.is_file(), f"{path.name} has no wording: write {wording.name} (the terms in words)"
    found = misses(wording.read_text(encoding="utf-8"), _load(path), rule_sets)
    assert not found, f"{wording.name} does not state: " + "; ".join(found)


def test_every_amendment_names_a_product_with_wording(rule_sets: list[dict[str, Any]]) -> None:
    ids = {_load(p)["product_id"] for p in PRODUCT_FILES}
    for rs in rule_sets:
        unknown = set(rs.get("product_amendments") or {}) - ids
        assert not unknown, f"rule set {rs['version']} amends products with no wording: {sorted(unknown)}"


def test_a_deleted_number_is_named(tmp_path: Path, rule_sets: list[dict[str, Any]]) -> None:
    """A copy of the wording with one term removed fails, naming the product, the key and the value."""
    src = PRODUCTS_DIR / "outpatient_medical.md"
    copy = tmp_path / src.name
    copy.write_text(src.read_text(encoding="utf-8").replace("K00-K08", "K00"), encoding="utf-8")
    product = _load(PRODUCTS_DIR / "outpatient_medical.yaml")
    assert misses(copy.read_text(encoding="utf-8"), product, rule_sets) == [
        "OPM01 OPM01.exclusions[0].from/to=K00-K08"
    ]
    src = PRODUCTS_DIR / "inpatient_medical.md"
    copy = tmp_path / src.name
    copy.write_text(src.read_text(encoding="utf-8").replace("床位费每日限额50元", "床位费"), encoding="utf-8")
    found = misses(
        copy.read_text(encoding="utf-8"), _load(PRODUCTS_DIR / "inpatient_medical.yaml"), rule_sets
    )
    assert found == [
        "IPM01 rule set 2026.1 product_amendments.IPM01.benefits.inpatient_reimbursement"
        ".per_day_limits.床位费=床位费 50.00"
    ]


@pytest.mark.parametrize("path", PRODUCT_FILES, ids=lambda p: p.stem)
def test_removing_any_term_is_caught(path: Path, rule_sets: list[dict[str, Any]]) -> None:
    """Every term, deleted in all its written forms, is reported: no pattern is matched by accident."""
    product = _load(path)
    wording = path.with_suffix(".md").read_text(encoding="utf-8")
    expected = product_terms(product)
    for rs in rule_sets:
        expected += amendment_terms(rs, product["product_id"])
    for t in expected:
        cut = t.pattern.sub("", wording)
        assert f"{product['product_id']} {t.where}={t.value}" in misses(cut, product, rule_sets), t

"""The generator's own reading of the rule sets: which terms and parameters are in force on a date."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest

from pipeline.errors import BadInputError
from synth import catalog
from synth.products import load_products
from synth.rulesets import RULESETS_DIR, change_dates, load_rule_sets, merge_terms, rule_set_on


def test_both_rule_sets_are_read_with_their_amendments() -> None:
    first, second = load_rule_sets()
    assert (first.version, second.version) == ("2025.1", "2026.1")
    assert change_dates() == [dt.date(2026, 4, 1)]
    assert (first.early_claim_days, second.early_claim_days) == (15, 30)
    assert [r.products["OPM01"].benefits[0].deductible for r in (first, second)] == [D("100"), D("200")]
    ipm = [r.products["IPM01"].benefits[0] for r in (first, second)]
    assert ipm[0].per_day_limits == {} and ipm[1].per_day_limits == {"床位费": D("50.00")}
    assert ipm[1].deductible == ipm[0].deductible  # what the amendment does not name stays as filed
    assert second.products["HCA01"] == first.products["HCA01"]
    assert first.products == load_products()  # 2025.1 amends nothing: the products as filed


def test_the_version_in_force_is_chosen_by_the_incident_date() -> None:
    assert rule_set_on(dt.date(2026, 3, 31)).version == "2025.1"
    assert rule_set_on(dt.date(2026, 4, 1)).version == "2026.1"
    assert rule_set_on(dt.date(2024, 6, 1)).version == "2025.1"  # before the first: the first


def test_the_planted_anomalous_providers_are_watched_by_every_rule_set() -> None:
    planted = {name for name, _, _ in catalog.ANOMALOUS_PROVIDERS}
    for r in load_rule_sets():
        assert planted <= set(r.watched_providers), r.version


def test_merge_names_benefits_by_id() -> None:
    base = {"product_id": "X", "benefits": [{"id": "a", "deductible": "1"}, {"id": "b", "deductible": "2"}]}
    merged = merge_terms(base, {"benefits": {"b": {"per_day_limits": {"床位费": "50"}}}})
    assert merged["benefits"][1] == {"id": "b", "deductible": "2", "per_day_limits": {"床位费": "50"}}
    with pytest.raises(ValueError, match="'c'"):
        merge_terms(base, {"benefits": {"c": {}}})


def test_a_rule_set_amending_an_unknown_product_names_its_file(tmp_path: Path) -> None:
    for path in RULESETS_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    bad = tmp_path / "2027.1.yaml"
    bad.write_text(
        'version: "2027.1"\neffective_from: 2027-01-01\nproduct_amendments: {NOPE1: {name: x}}\nrules: []\n',
        encoding="utf-8",
    )
    with pytest.raises(BadInputError, match=r"2027\.1\.yaml") as err:
        load_rule_sets(tmp_path)
    assert "NOPE1" in str(err.value)

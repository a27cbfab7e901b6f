"""Golden cases: claims whose outcome was computed by hand from the written terms, run through the engine.

The runner and the case format are `adjudication/golden.py`; the cases are `tests/adjudication/golden/*.yaml`.
Each case is one test here, so a disagreement names its case, its file and line, and how it differs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from helpers.reasons import unsourced

from adjudication.decide import decide
from adjudication.golden import GoldenCase, check_case, load_cases, run_case, run_golden
from adjudication.rules import RuleBook, load_rule_book
from pipeline.errors import BadInputError
from pipeline.settings import Settings

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = load_cases(GOLDEN)


def test_golden_ids_are_unique() -> None:
    seen: dict[str, str] = {}
    for case in CASES:
        assert case.id not in seen, f"{case.id} in {case.file}:{case.line} and {seen[case.id]}"
        seen[case.id] = f"{case.file}:{case.line}"


def test_golden_cases_say_how() -> None:
    for case in CASES:
        for key in ("title", "derivation", "facts", "expect"):
            assert getattr(case, key), f"{case.id} ({case.file}:{case.line}) has no {key}"
        assert "\n" not in case.derivation.strip(), f"{case.id}: the derivation is one line"
        assert {"decision", "payable"} <= set(case.expect), f"{case.id}: expect needs decision and payable"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_golden(case: GoldenCase, book: RuleBook) -> None:
    problems = check_case(case, book)
    assert not problems, f"golden case {case.id} ({case.file}:{case.line}) {case.title}:\n  " + "\n  ".join(
        problems
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_golden_reasons_name_their_sources(case: GoldenCase, book: RuleBook) -> None:
    """Whatever the case's route, each reason names the rule, check, terms or limit that gave it."""
    facts, _, history = run_case(case, book)
    now = dt.datetime.combine(facts.claim.submitted_at.date(), dt.time(12), tzinfo=dt.UTC)
    bundle = decide(facts, rules=book, history=history, gate=None, fraud=None, settings=Settings(), now=now)
    assert unsourced(bundle) == [], f"golden case {case.id} ({case.file}:{case.line})"


def test_golden_runner_sees_every_file() -> None:
    assert {c.file for c in CASES} == {p.name for p in GOLDEN.glob("*.yaml")}
    assert load_rule_book().versions == ["2025.1", "2026.1"]


def test_a_wrong_expectation_is_reported_with_its_case_and_line(tmp_path: Path, book: RuleBook) -> None:
    case = CASES[0]
    wrong = dict(case.expect, payable=str(Decimal(str(case.expect["payable"])) + 1))
    copied = {**case.model_dump(exclude={"file", "line"}), "expect": wrong}
    text = yaml.safe_dump({"cases": [copied]}, allow_unicode=True, sort_keys=False)
    (tmp_path / "one.yaml").write_text("# a case with its payable off by one yuan\n" + text, encoding="utf-8")
    report = run_golden(tmp_path, book)
    assert (report.cases, report.agreed, report.agreement) == (1, 0, 0.0)
    (d,) = report.disagreements
    assert (d.case, d.file, d.line) == (case.id, "one.yaml", 3)
    assert any(p.startswith("payable ") for p in d.problems), d.problems


def test_a_folder_without_cases_says_so(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no golden case files"):
        load_cases(tmp_path)

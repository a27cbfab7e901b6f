"""Golden cases: claims whose outcome was computed by hand from the written terms, run through the engine.

The bench's agreement compares the engine with the generator, and both read the same product YAML; these
cases compare it with arithmetic done from the wording, so a wrong term shows as a failing case.

Every `tests/adjudication/golden/*.yaml` holds::

    cases:
      - id: OPM-001                  # unique across all files
        title: 社保身份 门诊 免赔额先扣
        derivation: "免赔额 100 元先扣除，余额 200 元按 80% 给付 = 160.00 元"   # one line, from the terms
        facts:                        # keyword arguments of tests/helpers/facts.py make_facts, plus:
          claim_type: outpatient      #   ClaimType value
          incident: "2025-09-01"      #   dates as ISO strings (effective, incident, reinstated_at, ...)
          social_insurance: true
          line_items: [[诊察费, 诊察费, 甲, "100.00"]]   #   [name, category, class, yuan], ...
          documents: [outpatient_invoice, expense_list]   # DocType values (default: all the product needs)
          deductible_used: "0"
          direct_settlement: true     #   ClaimFacts fields make_facts does not take are set on the facts
          invoice_total: "350.00"     #   the invoice's total when it is not the items' sum (claimed in full)
          payee: 上海市浦江人民医院
        history:                      # optional: earlier claims (facts as above), decided first, in order
          - {claim_type: outpatient, incident: "2025-03-01", line_items: [...]}
        expect:
          rule_set: "2025.1"          # optional: the rule-set version in force on the incident date
          decision: approve           # pipeline.records.Decision value
          payable: "160.00"
          lines:                      # optional: every BenefitLine, in the engine's order
            - {code: DEDUCTIBLE, claimed: "100.00", payable: "0.00"}   # code = BenefitLine.reason_code;
            - {code: COINSURANCE, claimed: "40.00", payable: "0.00"}   # claimed optional; description
            - {code: BENEFIT_PAID, claimed: "160.00", payable: "160.00"}  # optional (a substring)
          reasons: [DEDUCTIBLE]       # optional: codes that must be present, among the decision's reason
                                      # codes, the failed rules' codes (info ones too) and the lines' codes
          absent: [EXCLUDED]          # optional: codes that must not be present (same set)
          route: auto_approve         # optional: Route value from decide (no gate, no fraud score,
                                      # default Settings: the authority table's machine limit applies)

Claims are numbered `<id>-H1`, `<id>-H2`, ... (history) and `<id>`, each with its own invoice number unless
the facts give one (`invoice_number`), and every claim is indexed in one invoice history before it is
decided, so a repeated invoice is a duplicate. The engine takes what was paid and what deductible was used
this policy year from the policy (the policy system's figures): the runner plays that system, adding each
earlier claim of the same product and policy year to the next one's `prior_paid` (what was paid, when
approved or partial) and `deductible_used` (its DEDUCTIBLE line), on top of what the facts state.
"""

from __future__ import annotations

import datetime as dt
import inspect
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.facts import items, make_facts
from helpers.reasons import unsourced

from adjudication.decide import adjudicate, decide
from adjudication.history import MemoryInvoiceHistory
from adjudication.rules import RuleBook, load_rule_book
from pipeline.records import Adjudication, ClaimFacts, ClaimType, Decision, DocType
from pipeline.settings import Settings

GOLDEN = Path(__file__).resolve().parent / "golden"
DATES = ("effective", "incident", "reinstated_at", "admission_date", "discharge_date")
PAID = (Decision.APPROVE, Decision.PARTIAL)
MAKE_FACTS = set(inspect.signature(make_facts).parameters)


def _cases() -> list[tuple[str, int, dict[str, Any]]]:
    """(file name, line of its id, case) for every case of every golden file."""
    out = []
    for path in sorted(GOLDEN.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for case in yaml.safe_load(text).get("cases") or []:
            at = next((n for n, ln in enumerate(lines, 1) if f"id: {case['id']}" in ln), 0)
            out.append((path.name, at, case))
    return out


CASES = _cases()


def _facts(
    raw: dict[str, Any], claim_id: str, invoice_number: str, paid: Decimal, used: Decimal
) -> ClaimFacts:
    """make_facts from a case's facts, with the runner's claim id and this year's earlier claims added."""
    kw = dict(raw)
    kw["claim_type"] = ClaimType(kw.get("claim_type", "outpatient"))
    for key in DATES:
        if key in kw:
            kw[key] = None if kw[key] is None else dt.date.fromisoformat(str(kw[key]))
    if "line_items" in kw:
        # a class left empty (null) is an item whose 甲/乙/丙 class could not be read
        rows = [(str(n), str(c), None if k is None else str(k), str(a)) for n, c, k, a in kw["line_items"]]
        kw["line_items"] = items(*rows)  # type: ignore[arg-type]
    if "documents" in kw:
        kw["documents"] = [DocType(d) for d in kw["documents"]]
    extra = {k: kw.pop(k) for k in list(kw) if k in ClaimFacts.model_fields and k not in MAKE_FACTS}
    kw.setdefault("invoice_number", invoice_number)
    kw["prior_paid"] = str(Decimal(str(kw.get("prior_paid", "0"))) + paid)
    kw["deductible_used"] = str(Decimal(str(kw.get("deductible_used", "0"))) + used)
    total = kw.pop("invoice_total", None)
    facts = make_facts(claim_id=claim_id, **kw)
    if total is not None:  # an invoice whose total is not its items' sum, claimed in full
        invoice = facts.invoices[0].model_copy(update={"total": Decimal(str(total))})
        claim = facts.claim.model_copy(update={"amount_claimed": invoice.total})
        extra |= {"invoices": [invoice, *facts.invoices[1:]], "claim": claim}
    return facts.model_copy(update=extra) if extra else facts


def _policy_year(effective: dt.date, on: dt.date) -> int:
    years = on.year - effective.year
    return years - 1 if (on.month, on.day) < (effective.month, effective.day) else years


def _run(case: dict[str, Any], book: RuleBook) -> tuple[ClaimFacts, Adjudication, MemoryInvoiceHistory]:
    """Decide the history claims in order, then the case's claim; the last claim's facts and adjudication."""
    history = MemoryInvoiceHistory()
    spent: dict[tuple[str, int], tuple[Decimal, Decimal]] = {}
    raws = [*(case.get("history") or []), case["facts"]]
    ids = [f"{case['id']}-H{n}" for n in range(1, len(raws))] + [case["id"]]
    result: tuple[ClaimFacts, Adjudication] | None = None
    for n, (raw, claim_id) in enumerate(zip(raws, ids, strict=True), 1):
        probe = _facts(raw, claim_id, f"{n:010d}", Decimal(0), Decimal(0))
        assert probe.policy is not None
        year = (probe.policy.product_id, _policy_year(probe.policy.effective_date, probe.claim.incident_date))
        paid, used = spent.get(year, (Decimal(0), Decimal(0)))
        facts = _facts(raw, claim_id, f"{n:010d}", paid, used)
        history.record(facts)
        adj, _, _ = adjudicate(facts, book.for_date(facts.claim.incident_date), history)
        if adj.decision in PAID:
            paid += adj.payable
        used += sum((ln.refused for ln in adj.benefit_lines if ln.reason_code == "DEDUCTIBLE"), Decimal(0))
        spent[year] = (paid, used)
        result = (facts, adj)
    assert result is not None
    return result[0], result[1], history


def _line_problems(expected: list[dict[str, Any]], adj: Adjudication) -> list[str]:
    got = adj.benefit_lines
    shown = "; ".join(f"{ln.reason_code} {ln.claimed}/{ln.payable} {ln.description}" for ln in got)
    out = []
    if len(expected) != len(got):
        out.append(f"{len(got)} benefit lines, expected {len(expected)}: {shown}")
    for i, (want, ln) in enumerate(zip(expected, got, strict=False), 1):
        if want["code"] != ln.reason_code:
            out.append(f"line {i}: code {ln.reason_code}, expected {want['code']} ({ln.description})")
        if "claimed" in want and Decimal(str(want["claimed"])) != ln.claimed:
            out.append(f"line {i} {ln.reason_code}: claimed {ln.claimed}, expected {want['claimed']}")
        if Decimal(str(want["payable"])) != ln.payable:
            out.append(f"line {i} {ln.reason_code}: payable {ln.payable}, expected {want['payable']}")
        if "description" in want and str(want["description"]) not in ln.description:
            out.append(f"line {i}: description {ln.description!r} lacks {want['description']!r}")
    return out


def test_golden_ids_are_unique() -> None:
    seen: dict[str, str] = {}
    for name, at, case in CASES:
        assert case["id"] not in seen, f"{case['id']} in {name}:{at} and {seen[case['id']]}"
        seen[case["id"]] = f"{name}:{at}"


def test_golden_cases_say_how() -> None:
    for name, at, case in CASES:
        for key in ("title", "derivation", "facts", "expect"):
            assert case.get(key), f"{case['id']} ({name}:{at}) has no {key}"
        assert "\n" not in str(case["derivation"]).strip(), f"{case['id']}: the derivation is one line"


@pytest.mark.parametrize(("name", "at", "case"), CASES, ids=[c["id"] for _, _, c in CASES])
def test_golden(name: str, at: int, case: dict[str, Any], book: RuleBook) -> None:
    facts, adj, history = _run(case, book)
    want = case["expect"]
    problems = []
    if "rule_set" in want:
        version = book.for_date(facts.claim.incident_date).version
        if version != str(want["rule_set"]):
            problems.append(f"rule set {version}, expected {want['rule_set']}")
    if adj.decision.value != want["decision"]:
        problems.append(f"decision {adj.decision.value}, expected {want['decision']}")
    if adj.payable != Decimal(str(want["payable"])):
        problems.append(f"payable {adj.payable}, expected {want['payable']}")
    if "lines" in want:
        problems += _line_problems(want["lines"], adj)
    codes = set(adj.reason_codes) | {h.code for h in adj.trace if not h.passed}
    codes |= {ln.reason_code for ln in adj.benefit_lines}
    missing = [c for c in want.get("reasons") or [] if c not in codes]
    if missing:
        problems.append(f"reason codes {sorted(codes)} lack {missing}")
    unwanted = [c for c in want.get("absent") or [] if c in codes]
    if unwanted:
        problems.append(f"reason codes hold {unwanted}, expected absent")
    if "route" in want:
        now = dt.datetime.combine(facts.claim.submitted_at.date(), dt.time(12), tzinfo=dt.UTC)
        bundle = decide(
            facts, rules=book, history=history, gate=None, fraud=None, settings=Settings(), now=now
        )
        if bundle.outcome.route.value != want["route"]:
            problems.append(
                f"route {bundle.outcome.route.value}, expected {want['route']}: {bundle.outcome.reasons}"
            )
    if "authority" in want and (who := _who_may_pay(adj.payable, facts)) != want["authority"]:
        problems.append(f"{adj.payable} is paid by {who} by the default table, expected {want['authority']}")
    assert not problems, f"golden case {case['id']} ({name}:{at}) {case['title']}:\n  " + "\n  ".join(
        problems
    )


@pytest.mark.parametrize(("name", "at", "case"), CASES, ids=[c["id"] for _, _, c in CASES])
def test_golden_reasons_name_their_sources(name: str, at: int, case: dict[str, Any], book: RuleBook) -> None:
    """Whatever the case's route, each reason names the rule, check, terms or limit that gave it."""
    facts, _, history = _run(case, book)
    now = dt.datetime.combine(facts.claim.submitted_at.date(), dt.time(12), tzinfo=dt.UTC)
    bundle = decide(facts, rules=book, history=history, gate=None, fraud=None, settings=Settings(), now=now)
    assert unsourced(bundle) == [], f"golden case {case['id']} ({name}:{at})"


AUTHORITY_ORDER = (
    ("machine", ("machine",)),
    ("adjuster", ("adjuster",)),
    ("senior_adjuster", ("senior_adjuster",)),
    ("two_seniors", ("senior_adjuster", "senior_adjuster")),
)
"""Who may pay, from the least authority up: the first whose limit covers the amount."""


def _who_may_pay(amount: Decimal, facts: ClaimFacts) -> str:
    table = Settings().authority
    product = facts.policy.product_id if facts.policy else None
    for name, roles in AUTHORITY_ORDER:
        if table.covers(amount, *roles, product_id=product):
            return name
    return "nobody"


def test_golden_runner_sees_every_file() -> None:
    assert CASES, f"no golden cases in {GOLDEN}"
    assert load_rule_book().versions == ["2025.1", "2026.1"]

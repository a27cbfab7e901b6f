"""Golden cases (金标准案例): claims whose outcome was computed by hand from the written terms
(adjudication/products/*.md), run through the engine.

The bench's agreement compares the engine with the generator, and both read the same product YAML; these
cases compare it with arithmetic done from the wording, so a wrong term shows as a disagreeing case.
`run_golden(case_dir)` runs a folder of them (the repository's are `tests/adjudication/golden/`);
`python -m bench.adjudicate` reports the agreement and `tests/adjudication/test_golden.py` runs each case.

Every `<case_dir>/*.yaml` holds::

    cases:
      - id: OPM-001                  # unique across all files
        title: 社保身份 门诊 免赔额先扣
        derivation: "免赔额 100 元先扣除，余额 200 元按 80% 给付 = 160.00 元"   # one line, from the terms
        facts:                        # keyword arguments of `case_facts` below, plus:
          claim_type: outpatient      #   ClaimType value
          incident: "2025-09-01"      #   dates as ISO strings (effective, expiry_date, incident, ...)
          social_insurance: true
          line_items: [[诊察费, 诊察费, 甲, "100.00"]]   #   [name, category, class, yuan], ...
          documents: [outpatient_invoice, expense_list]   # DocType values (default: all the product needs)
          deductible_used: "0"
          direct_settlement: true     #   ClaimFacts fields case_facts does not take are set on the facts
          invoice_total: "350.00"     #   the invoice's total when it is not the items' sum (claimed in full)
          insurance_type: 自费         #   the bill's 医保类型 (default: 城镇职工基本医疗保险 if
                                      #   enrolled, else 自费; null: none printed); fund_paid, account_paid
          more_invoices:              #   further invoices of the claim, same hospital and dates
            - {line_items: [...], fund_paid: "0", account_paid: "0", insurance_type: 自费}
          payee: 上海市浦江人民医院
          unsure: [diagnosis]         #   fields the reader was unsure of (a failed `plausible` check)
          policy_system_lags: true    #   the policy system has not heard of the history's payments
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
          authority: machine          # optional: who may pay the payable by the default authority table
                                      # (machine, adjuster, senior_adjuster, two_seniors, nobody)

Claims are numbered `<id>-H1`, `<id>-H2`, ... (history) and `<id>`, each with its own invoice number unless
the facts give one (`invoice_number`), and every claim is indexed in one invoice history before it is
decided, so a repeated invoice is a duplicate. The engine takes what was paid and what deductible was used
this policy year from the policy (the policy system's figures): the runner plays that system, adding each
earlier claim of the same product and policy year to the next one's `prior_paid` (what was paid, when
approved or partial) and `deductible_used` (its DEDUCTIBLE line), and each earlier claim of the same
product, whatever its year, to `prior_paid_total` (paid since inception), on top of what the facts state;
`policy_system_lags` leaves the case's own claim with only what its facts state.
"""

from __future__ import annotations

import datetime as dt
import inspect
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from adjudication.decide import adjudicate, decide
from adjudication.history import MemoryInvoiceHistory
from adjudication.rules import RuleBook, load_rule_book
from pipeline.errors import BadInputError
from pipeline.records import (
    Adjudication,
    Check,
    Claim,
    ClaimFacts,
    ClaimType,
    Decision,
    DocType,
    Invoice,
    LineItem,
    Policy,
)
from pipeline.settings import Settings

__all__ = [
    "INCIDENT",
    "INPATIENT_DOCS",
    "OUTPATIENT_DOCS",
    "PRODUCT",
    "Disagreement",
    "GoldenCase",
    "GoldenReport",
    "case_facts",
    "check_case",
    "line_items",
    "load_cases",
    "run_case",
    "run_golden",
    "who_may_pay",
]

INCIDENT = dt.date(2025, 9, 1)
OUTPATIENT_DOCS = [
    DocType.OUTPATIENT_INVOICE,
    DocType.EXPENSE_LIST,
    DocType.CLAIM_FORM,
    DocType.ID_CARD,
    DocType.BANK_CARD,
]
INPATIENT_DOCS = [
    DocType.INPATIENT_INVOICE,
    DocType.EXPENSE_LIST,
    DocType.DISCHARGE_SUMMARY,
    DocType.CLAIM_FORM,
    DocType.ID_CARD,
    DocType.BANK_CARD,
]
PRODUCT = {
    ClaimType.OUTPATIENT: "OPM01",
    ClaimType.INPATIENT: "IPM01",
    ClaimType.ACCIDENT: "AM01",
    ClaimType.CRITICAL_ILLNESS: "CI01",
}
DATES = ("effective", "expiry_date", "incident", "reinstated_at", "admission_date", "discharge_date")
PAID = (Decision.APPROVE, Decision.PARTIAL)
AUTHORITY_ORDER = (
    ("machine", ("machine",)),
    ("adjuster", ("adjuster",)),
    ("senior_adjuster", ("senior_adjuster",)),
    ("two_seniors", ("senior_adjuster", "senior_adjuster")),
)
"""Who may pay, from the least authority up: the first whose limit covers the amount."""


def line_items(*rows: tuple[str, str, str | None, str]) -> list[LineItem]:
    """(name, category, 甲/乙/丙 class or None when unread, yuan) rows."""
    return [LineItem(name=n, category=c, insurance_class=k, amount=Decimal(a)) for n, c, k, a in rows]  # type: ignore[arg-type]


BY_ENROLMENT = "by enrolment"
"""The bill's 医保类型 follows the policy: 城镇职工基本医疗保险 when enrolled, else 自费."""


def _insurance_type(kind: str | None, social_insurance: bool) -> str | None:
    if kind != BY_ENROLMENT:
        return kind
    return "城镇职工基本医疗保险" if social_insurance else "自费"


def case_facts(
    claim_type: ClaimType = ClaimType.OUTPATIENT,
    *,
    claim_id: str = "T0001",
    line_items: list[LineItem] | None = None,
    fund_paid: str = "0",
    account_paid: str = "0",
    insurance_type: str | None = BY_ENROLMENT,
    social_insurance: bool = True,
    sum_insured: str = "10000",
    prior_paid: str = "0",
    deductible_used: str = "0",
    effective: dt.date = dt.date(2023, 1, 1),
    expiry_date: dt.date | None = None,
    incident: dt.date = INCIDENT,
    diagnoses: list[str] | None = None,
    documents: list[DocType] | None = None,
    days: int = 0,
    product_id: str | None = None,
    invoice_number: str = "0000000001",
    hospital: str = "上海市浦江人民医院",
    payee: str = "张三",
    account: str = "6222020000000000001",
    claimant_id: str = "11010519491231002X",
    submitted: dt.datetime | None = None,
    unsure: list[str] | None = None,
    **policy_kw: Any,
) -> ClaimFacts:
    """A case's claim as its documents would show it: a clean claim of `claim_type` unless told otherwise
    (one invoice of 甲 100, 乙 200 and 丙 50 settled as the enrolment says, every document the product
    asks for, a policy from 2023 whose expiry the policy system did not state, i.e. open cover).
    `unsure`: fields the reader was unsure of, sent to a person by a failed `plausible` check."""
    if line_items is None:
        line_items = [
            LineItem(name="诊察费", category="诊察费", insurance_class="甲", amount=Decimal("100.00")),
            LineItem(name="头孢", category="西药费", insurance_class="乙", amount=Decimal("200.00")),
            LineItem(name="维C", category="西药费", insurance_class="丙", amount=Decimal("50.00")),
        ]
    total = sum((i.amount for i in line_items), Decimal(0))
    if documents is None:
        documents = INPATIENT_DOCS if claim_type is ClaimType.INPATIENT else OUTPATIENT_DOCS
    invoices = (
        []
        if claim_type is ClaimType.CRITICAL_ILLNESS
        else [
            Invoice(
                invoice_code="11000000",
                invoice_number=invoice_number,
                hospital=hospital,
                issue_date=incident + dt.timedelta(days=days),
                visit_date=incident,
                total=total,
                fund_paid=Decimal(fund_paid),
                account_paid=Decimal(account_paid),
                insurance_type=_insurance_type(insurance_type, social_insurance),
                line_items=line_items,
            )
        ]
    )
    return ClaimFacts(
        claim=Claim(
            claim_id=claim_id,
            policy_number="P-1",
            claimant="张三",
            claimant_id_number=claimant_id,
            insured="张三",
            claim_type=claim_type,
            incident_date=incident,
            submitted_at=submitted
            or dt.datetime.combine(incident + dt.timedelta(days=days + 3), dt.time(10)),
            amount_claimed=total if invoices else Decimal(sum_insured),
        ),
        policy=Policy(
            policy_number="P-1",
            product_id=product_id or PRODUCT[claim_type],
            product_version="2025.1",
            policyholder="张三",
            insured="张三",
            effective_date=effective,
            expiry_date=expiry_date,
            sum_insured=Decimal(sum_insured),
            social_insurance=social_insurance,
            prior_paid_this_year=Decimal(prior_paid),
            deductible_used_this_year=Decimal(deductible_used),
            **policy_kw,
        ),
        claim_type=claim_type,
        diagnoses=diagnoses if diagnoses is not None else ["J06.9"],
        hospital=hospital,
        admission_date=incident if days else None,
        discharge_date=incident + dt.timedelta(days=days) if days else None,
        invoices=invoices,
        documents_present=documents,
        payee_name=payee,
        payee_bank="中国银行",
        payee_account=account,
        failed_checks=[
            Check(
                name="plausible",
                passed=False,
                message="a person confirms: " + "; ".join(unsure),
                fields=list(unsure),
                severity="error",
            )
        ]
        if unsure
        else [],
        low_confidence_fields=list(unsure or []),
    )


CASE_FACTS = set(inspect.signature(case_facts).parameters)


class GoldenCase(BaseModel):
    """One case as written, with where it is written (file and the line of its id)."""

    file: str
    line: int
    id: str
    title: str = ""
    derivation: str = ""
    facts: dict[str, Any]
    history: list[dict[str, Any]] = Field(default_factory=list)
    expect: dict[str, Any]


class Disagreement(BaseModel):
    """A case whose engine outcome is not the hand-computed one, and how it differs."""

    case: str
    file: str
    line: int
    title: str
    problems: list[str]


class GoldenReport(BaseModel):
    """The engine against every case of a folder."""

    case_dir: str
    cases: int
    agreed: int
    disagreements: list[Disagreement] = Field(default_factory=list)

    @property
    def agreement(self) -> float:
        return self.agreed / self.cases if self.cases else 0.0


def load_cases(case_dir: Path) -> list[GoldenCase]:
    """Every case of every `*.yaml` in `case_dir`, in file order, each with the line of its id."""
    paths = sorted(Path(case_dir).glob("*.yaml"))
    if not paths:
        raise BadInputError(case_dir, "no golden case files (*.yaml) found")
    out = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        try:
            raw = yaml.safe_load(text) or {}
            for case in raw.get("cases") or []:
                at = next((n for n, ln in enumerate(lines, 1) if f"id: {case.get('id')}" in ln), 0)
                out.append(GoldenCase.model_validate({**case, "file": path.name, "line": at}))
        except Exception as exc:  # YAML or a case missing what it needs: the file needs fixing
            raise BadInputError(path, f"not a golden case file: {exc}") from exc
    return out


def _facts(
    raw: dict[str, Any],
    claim_id: str,
    invoice_number: str,
    paid: Decimal,
    used: Decimal,
    lifetime: Decimal = Decimal(0),
) -> ClaimFacts:
    """case_facts from a case's facts, with the runner's claim id and the earlier claims added (this
    year's to `prior_paid` and `deductible_used`, every year's to `prior_paid_total`)."""
    kw = dict(raw)
    kw["claim_type"] = ClaimType(kw.get("claim_type", "outpatient"))
    for key in DATES:
        if key in kw:
            kw[key] = None if kw[key] is None else dt.date.fromisoformat(str(kw[key]))
    if "line_items" in kw:
        # a class left empty (null) is an item whose 甲/乙/丙 class could not be read
        rows = [(str(n), str(c), None if k is None else str(k), str(a)) for n, c, k, a in kw["line_items"]]
        kw["line_items"] = line_items(*rows)
    if "documents" in kw:
        kw["documents"] = [DocType(d) for d in kw["documents"]]
    extra = {k: kw.pop(k) for k in list(kw) if k in ClaimFacts.model_fields and k not in CASE_FACTS}
    kw.setdefault("invoice_number", invoice_number)
    kw["prior_paid"] = str(Decimal(str(kw.get("prior_paid", "0"))) + paid)
    kw["deductible_used"] = str(Decimal(str(kw.get("deductible_used", "0"))) + used)
    kw["prior_paid_total"] = Decimal(str(kw.get("prior_paid_total", "0"))) + lifetime
    total = kw.pop("invoice_total", None)
    more = kw.pop("more_invoices", None) or []
    facts = case_facts(claim_id=claim_id, **kw)
    if total is not None:  # an invoice whose total is not its items' sum, claimed in full
        invoice = facts.invoices[0].model_copy(update={"total": Decimal(str(total))})
        claim = facts.claim.model_copy(update={"amount_claimed": invoice.total})
        extra |= {"invoices": [invoice, *facts.invoices[1:]], "claim": claim}
    if more:
        invoices = [*extra.get("invoices", facts.invoices), *_more_invoices(more, facts, invoice_number)]
        claimed = sum((i.total for i in invoices), Decimal(0))
        claim = extra.get("claim", facts.claim).model_copy(update={"amount_claimed": claimed})
        extra |= {"invoices": invoices, "claim": claim}
    return facts.model_copy(update=extra) if extra else facts


def _more_invoices(raws: list[dict[str, Any]], facts: ClaimFacts, number: str) -> list[Invoice]:
    """A case's further invoices (`more_invoices`: line_items, fund_paid, account_paid, insurance_type),
    each numbered after the first and dated as it is."""
    first = facts.invoices[0]
    out = []
    for n, raw in enumerate(raws, 1):
        rows = [(str(a), str(b), None if k is None else str(k), str(c)) for a, b, k, c in raw["line_items"]]
        items = line_items(*rows)
        social = bool(facts.policy and facts.policy.social_insurance)
        out.append(
            first.model_copy(
                update={
                    "invoice_number": f"{number}-{n}",
                    "total": sum((i.amount for i in items), Decimal(0)),
                    "fund_paid": Decimal(str(raw.get("fund_paid", "0"))),
                    "account_paid": Decimal(str(raw.get("account_paid", "0"))),
                    "insurance_type": _insurance_type(raw.get("insurance_type", BY_ENROLMENT), social),
                    "line_items": items,
                }
            )
        )
    return out


def _policy_year(effective: dt.date, on: dt.date) -> int:
    years = on.year - effective.year
    return years - 1 if (on.month, on.day) < (effective.month, effective.day) else years


def run_case(case: GoldenCase, book: RuleBook) -> tuple[ClaimFacts, Adjudication, MemoryInvoiceHistory]:
    """Decide the history claims in order, then the case's claim; the last claim's facts and adjudication."""
    history = MemoryInvoiceHistory()
    spent: dict[tuple[str, int], tuple[Decimal, Decimal]] = {}
    lifetime: dict[str, Decimal] = {}  # paid since inception, by product
    raws = [*case.history, case.facts]
    ids = [f"{case.id}-H{n}" for n in range(1, len(raws))] + [case.id]
    result: tuple[ClaimFacts, Adjudication] | None = None
    for n, (given, claim_id) in enumerate(zip(raws, ids, strict=True), 1):
        raw = dict(given)
        lags = bool(raw.pop("policy_system_lags", False))  # the policy system has not heard of the history
        probe = _facts(raw, claim_id, f"{n:010d}", Decimal(0), Decimal(0))
        if probe.policy is None:
            raise BadInputError(case.file, f"case {case.id}: claim {claim_id} has no policy")
        year = (probe.policy.product_id, _policy_year(probe.policy.effective_date, probe.claim.incident_date))
        paid, used = spent.get(year, (Decimal(0), Decimal(0)))
        before = lifetime.get(year[0], Decimal(0))
        facts = probe if lags else _facts(raw, claim_id, f"{n:010d}", paid, used, before)
        history.record(facts)
        adj, _, _ = adjudicate(facts, book.for_date(facts.claim.incident_date), history)
        if adj.decision in PAID:
            paid += adj.payable
            lifetime[year[0]] = before + adj.payable
        used += sum((ln.refused for ln in adj.benefit_lines if ln.reason_code == "DEDUCTIBLE"), Decimal(0))
        spent[year] = (paid, used)
        result = (facts, adj)
    assert result is not None  # raws holds at least the case's own claim
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


def who_may_pay(amount: Decimal, facts: ClaimFacts, settings: Settings | None = None) -> str:
    """The least authority whose limit in the authority table covers `amount` on this claim's product."""
    table = (settings or Settings()).authority
    product = facts.policy.product_id if facts.policy else None
    for name, roles in AUTHORITY_ORDER:
        if table.covers(amount, *roles, product_id=product):
            return name
    return "nobody"


def check_case(case: GoldenCase, book: RuleBook) -> list[str]:
    """How the engine's outcome differs from the case's expectation: empty when they agree."""
    facts, adj, history = run_case(case, book)
    want = case.expect
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
    if "authority" in want and (who := who_may_pay(adj.payable, facts)) != want["authority"]:
        problems.append(f"{adj.payable} is paid by {who} by the default table, expected {want['authority']}")
    return problems


def run_golden(case_dir: Path, book: RuleBook | None = None) -> GoldenReport:
    """Every case of `case_dir` through the engine: how many agree, and where the others differ."""
    book = book or load_rule_book()
    cases = load_cases(case_dir)
    disagreements = []
    for case in cases:
        problems = check_case(case, book)
        if problems:
            disagreements.append(
                Disagreement(
                    case=case.id, file=case.file, line=case.line, title=case.title, problems=problems
                )
            )
    return GoldenReport(
        case_dir=str(case_dir),
        cases=len(cases),
        agreed=len(cases) - len(disagreements),
        disagreements=disagreements,
    )

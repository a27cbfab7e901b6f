"""Versioned, effective-dated rule sets (规则集) and product terms (条款), evaluated into a trace.

A rule set is a YAML file in `adjudication/rulesets/` naming the rules that run, in order, each with
a reason code, an action (deny: fatal, 拒赔; request_info: 电子照会; refer: 人工审核; info: recorded only)
and a message in Chinese and English. The code of each rule lives here, the policy lives in the file:
changing a code, a message, a parameter or a term is a new rule-set version, not a code change. The
version in force on the claim's incident date applies, and every decision records it.

Product terms live in `adjudication/terms.py` and may be amended by a rule set (`product_amendments`),
which is how a term change reaches claims from a given date. Duplicate invoices and shared payee
accounts need memory across claims: an `InvoiceHistory` (`adjudication/history.py`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from adjudication.history import ClaimKey, InvoiceHistory, came_earlier, claim_keys, claimant_key, norm_key
from adjudication.terms import (
    CLAIM_TYPE_ZH,
    DOC_NAMES_ZH,
    PRODUCTS_DIR,
    ZERO,
    BenefitTerms,
    ProductTerms,
    amend,
    caused_by_injury,
    load_products,
)
from pipeline.errors import BadInputError, ClaimsError
from pipeline.reasons import ReasonSource, check_source, rule_source
from pipeline.records import ClaimFacts, DocType, Policy, RuleHit, money

log = logging.getLogger(__name__)

RULESETS_DIR = Path(__file__).resolve().parent / "rulesets"

Action = Literal["deny", "request_info", "refer", "info"]


class Rule(BaseModel):
    """One rule as the rule set declares it: the code it emits, what failing it does, what it says."""

    model_config = ConfigDict(extra="forbid")

    id: str
    code: str
    action: Action
    zh: str
    en: str
    fraud_flag: bool = Field(default=False, description="a failure is a fraud red flag (欺诈疑点)")
    enabled: bool = True


class RuleParameters(BaseModel):
    """A rule set's tunable numbers. Payment authority is not one of them: who may pay how much
    (the machine included) is the finance team's table, `Settings.authority`."""

    model_config = ConfigDict(extra="forbid")

    early_claim_days: int = 15
    max_prior_claims_for_flash: int = 3
    watched_providers: list[str] = Field(default_factory=list)
    check_codes: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _no_authority(cls, data: Any) -> Any:
        if isinstance(data, dict) and "auto_pay_limit" in data:
            raise ValueError(
                "auto_pay_limit is no longer a rule-set parameter: remove it; the machine's limit is"
                " `machine` in the authority table (Settings.authority, CLAIMS_AUTHORITY)"
            )
        return data


class RuleSet(BaseModel):
    """One version of the rules, in force for incidents from `effective_from` until the next version."""

    model_config = ConfigDict(extra="forbid")

    version: str
    effective_from: dt.date
    description: str = ""
    parameters: RuleParameters = Field(default_factory=RuleParameters)
    product_amendments: dict[str, dict[str, Any]] = Field(default_factory=dict)
    rules: list[Rule]
    _terms: dict[str, list[ProductTerms]] = PrivateAttr(default_factory=dict)
    _by_code: dict[str, Rule] = PrivateAttr(default_factory=dict)

    def bind(self, products: Iterable[ProductTerms]) -> RuleSet:
        """Attach the product terms, amended as this version says; returns self."""
        terms: dict[str, list[ProductTerms]] = defaultdict(list)
        for p in products:
            change = self.product_amendments.get(p.product_id)
            if change:
                p = ProductTerms.model_validate(amend(p.model_dump(by_alias=True), change))
            terms[p.product_id].append(p)
        unknown = set(self.product_amendments) - set(terms)
        if unknown:
            raise ClaimsError(f"rule set {self.version} amends unknown products {sorted(unknown)}")
        self._terms = {k: sorted(v, key=lambda t: t.effective_from) for k, v in terms.items()}
        self._by_code = {r.code: r for r in self.rules}
        return self

    def terms_for(self, policy: Policy, on: dt.date) -> ProductTerms | None:
        """The policy's product terms: its own version if known, else the one in force on `on`."""
        versions = self._terms.get(policy.product_id)
        if not versions:
            return None
        if policy.product_version:
            own = next((t for t in versions if t.version == policy.product_version), None)
            if own is not None:
                return own
        in_force = [t for t in versions if t.effective_from <= on]
        return in_force[-1] if in_force else versions[0]

    def rule_for(self, code: str) -> Rule | None:
        return self._by_code.get(code)


class RuleBook:
    """All rule-set versions, for choosing the one in force on a date or replaying a given one."""

    def __init__(self, rule_sets: Iterable[RuleSet]) -> None:
        self.rule_sets = sorted(rule_sets, key=lambda r: r.effective_from)
        if not self.rule_sets:
            raise ClaimsError("a rule book needs at least one rule set")
        seen = [r.version for r in self.rule_sets]
        if len(set(seen)) != len(seen):
            raise ClaimsError(f"rule-set versions repeat: {seen}")

    @property
    def versions(self) -> list[str]:
        return [r.version for r in self.rule_sets]

    def get(self, version: str) -> RuleSet:
        for r in self.rule_sets:
            if r.version == version:
                return r
        raise ClaimsError(f"no rule set {version!r}; known versions: {', '.join(self.versions)}")

    def for_date(self, on: dt.date) -> RuleSet:
        """The version in force on `on` (the claim's incident date); before the first, the first."""
        chosen = self.rule_sets[0]
        for r in self.rule_sets:
            if r.effective_from <= on:
                chosen = r
        if on < chosen.effective_from:
            log.warning("incident %s precedes every rule set; using %s", on, chosen.version)
        return chosen


@lru_cache(maxsize=8)
def load_rule_book(rules_dir: Path = RULESETS_DIR, products_dir: Path = PRODUCTS_DIR) -> RuleBook:
    """Every rule set in `rules_dir`, bound to the product terms in `products_dir`."""
    products = load_products(products_dir)
    sets = []
    for path in sorted(rules_dir.glob("*.yaml")):
        try:
            rs = RuleSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except Exception as exc:
            raise BadInputError(path, f"not a valid rule set: {exc}") from exc
        unknown = [r.id for r in rs.rules if r.id not in RULES]
        if unknown:
            raise BadInputError(path, f"rules with no implementation: {unknown}; known: {sorted(RULES)}")
        sets.append(rs.bind(products))
    if not sets:
        raise BadInputError(rules_dir, "no rule sets (*.yaml) found")
    return RuleBook(sets)


@dataclass
class Context:
    """What the rules look at: the facts, the rule set in force, the terms, the history."""

    facts: ClaimFacts
    rule_set: RuleSet
    history: InvoiceHistory | None
    terms: ProductTerms | None = None
    benefit: BenefitTerms | None = None
    missing: list[DocType] = field(default_factory=list)
    keys: list[ClaimKey] = field(default_factory=list)

    @property
    def policy(self) -> Policy | None:
        return self.facts.policy

    @property
    def cover_start(self) -> dt.date | None:
        """Cover (re)starts at inception or reinstatement (复效), whichever is later."""
        p = self.facts.policy
        if p is None:
            return None
        return max(p.effective_date, p.reinstated_at) if p.reinstated_at else p.effective_date

    @property
    def waiting_days(self) -> int:
        """The product's waiting period; none for a claim caused by injury (意外伤害所致: its principal
        diagnosis is S00-T98), whatever the claim type, unless the product says otherwise."""
        t = self.terms
        if t is None:
            return 0
        if caused_by_injury(self.facts.diagnoses) and not t.waiting_period_applies_to_accident:
            return 0
        return t.waiting_period_days


class Verdict(NamedTuple):
    passed: bool
    details: dict[str, Any] = {}
    code: str | None = None  # overrides the rule's code (e.g. the exclusion's own code)
    source: ReasonSource | None = None  # overrides the rule as the source (the check that failed)


RuleFn = Callable[[Context], Verdict | None]
RULES: dict[str, RuleFn] = {}
RULE_LABELS: dict[str, str] = {}
"""Each rule's short label for people, as its failures' source reads: 'rule: provider on watch list'."""


def rule(name: str, label: str) -> Callable[[RuleFn], RuleFn]:
    """Register a rule's code under `name` (the id rule sets list) with the label its source shows."""

    def register(fn: RuleFn) -> RuleFn:
        RULES[name] = fn
        RULE_LABELS[name] = label
        return fn

    return register


@rule("policy_found", "policy not found")
def _policy_found(c: Context) -> Verdict:
    return Verdict(c.policy is not None, {"policy_number": c.facts.claim.policy_number})


@rule("product_known", "no terms for the product")
def _product_known(c: Context) -> Verdict | None:
    if c.policy is None:
        return None
    return Verdict(c.terms is not None, {"product_id": c.policy.product_id})


@rule("insured_matches", "insured differs from the policy's")
def _insured_matches(c: Context) -> Verdict | None:
    claimed, p = c.facts.claim.insured, c.policy
    if p is None or not claimed:
        return None
    return Verdict(norm_key(claimed) == norm_key(p.insured), {"claimed": claimed, "insured": p.insured})


@rule("claim_type_covered", "claim type not covered")
def _claim_type_covered(c: Context) -> Verdict | None:
    if c.terms is None:
        return None
    return Verdict(c.benefit is not None, {"claim_type": CLAIM_TYPE_ZH[c.facts.claim_type]})


@rule("policy_in_force", "policy not in force")
def _policy_in_force(c: Context) -> Verdict | None:
    """In force from the effective date (or, after a lapse, the reinstatement date 复效日) to 24:00 of the
    expiry date (保险期间届满日), both days covered; an expiry the policy system did not state (None) leaves
    cover open. The message names the end missed."""
    p = c.policy
    if p is None:
        return None
    incident, start, end = c.facts.claim.incident_date, p.effective_date, p.expiry_date
    details: dict[str, Any] = {"incident": incident, "effective": start, "expiry": end or "未载明"}
    if c.cover_start and c.cover_start > start and incident < c.cover_start:  # 效力中止 until 复效
        bound = (f"早于保单复效日{c.cover_start}", f"is before the policy was reinstated on {c.cover_start}")
    elif incident < start:
        bound = (f"早于保单生效日{start}", f"is before the policy took effect on {start}")
    elif end is not None and incident > end:
        bound = (f"晚于保险期间届满日{end}", f"is after the insurance period ended on {end}")
    else:
        return Verdict(True, details)
    return Verdict(False, details | {"bound_zh": bound[0], "bound_en": bound[1]})


@rule("required_documents", "documents missing")
def _required_documents(c: Context) -> Verdict | None:
    if c.terms is None:
        return None
    present = set(c.facts.documents_present)
    required = c.terms.documents_for(c.facts)
    c.missing = [d for d in required if d not in present]
    return Verdict(
        not c.missing,
        {
            "missing": "、".join(DOC_NAMES_ZH[d] for d in c.missing),
            "missing_en": ", ".join(d.value for d in c.missing),
        },
    )


@rule("diagnosis_present", "no diagnosis read")
def _diagnosis_present(c: Context) -> Verdict | None:
    if c.benefit is None:
        return None
    return Verdict(bool(c.facts.diagnoses))


@rule("duplicate_invoice", "invoice already claimed")
def _duplicate_invoice(c: Context) -> Verdict | None:
    if c.history is None or not c.facts.invoices:
        return None
    for k in c.keys:
        if k.kind not in ("invoice", "visit"):
            continue
        seen = c.history.seen(k.kind, k.key)
        me = c.facts.claim.claim_id
        # my place in the order claims were decided in: unrecorded, I come after everyone recorded
        mine = min((s.seq for s in seen if s.claim_id == me), default=None)
        for other in seen:
            first = came_earlier(other, c.facts) or (mine is None or other.seq < mine)
            if other.claim_id != me and first:
                inv = next(
                    (
                        f"{i.invoice_code or ''}{i.invoice_number or ''}" or i.hospital or "?"
                        for i in c.facts.invoices
                        if k.amount is None or i.total == k.amount
                    ),
                    "?",
                )
                return Verdict(False, {"invoice": inv, "other": other.claim_id, "match": k.kind})
    return Verdict(True)


@rule("waiting_period", "waiting period")
def _waiting_period(c: Context) -> Verdict | None:
    start = c.cover_start
    if start is None or c.terms is None:
        return None
    days = c.waiting_days
    covered = start + dt.timedelta(days=days)  # cover start is day 1: day days+1 is the first covered day
    incident = c.facts.claim.incident_date
    if incident < start:
        return None  # before cover (re)starts: not in force, policy_in_force speaks
    last = covered - dt.timedelta(days=1)
    details = {"incident": incident, "days": days, "until": last, "covered": covered}
    return Verdict(incident >= covered, details)


@rule("exclusion", "excluded diagnosis")
def _exclusion(c: Context) -> Verdict | None:
    if c.terms is None or not c.facts.diagnoses:
        return None
    icd10 = c.facts.diagnoses[0]
    hit = c.terms.exclusion_for(icd10)
    if hit is None:
        return Verdict(True, {"icd10": icd10})
    return Verdict(False, {"icd10": icd10, "label": hit.label}, hit.code)


@rule("secondary_exclusion", "excluded secondary diagnosis")
def _secondary_exclusion(c: Context) -> Verdict | None:
    if c.terms is None or len(c.facts.diagnoses) < 2:
        return None
    for icd10 in c.facts.diagnoses[1:]:
        hit = c.terms.exclusion_for(icd10)
        if hit is not None:
            return Verdict(False, {"icd10": icd10, "label": hit.label})
    return Verdict(True)


@rule("covered_condition", "condition not covered")
def _covered_condition(c: Context) -> Verdict | None:
    if c.benefit is None or c.terms is None:
        return None
    if c.benefit.kind != "lump_sum" and not c.terms.covered_conditions:
        return None  # a lump sum needs a listed condition; another benefit only if its product lists them
    if not c.facts.diagnoses:
        return Verdict(False, {"icd10": "-"})
    ok = any(c.terms.covered_condition(d) for d in c.facts.diagnoses)
    return Verdict(ok, {"icd10": c.facts.diagnoses[0]})


@rule("extraction_checks", "document checks failed")
def _extraction_checks(c: Context) -> Verdict:
    failed = [ch for ch in c.facts.failed_checks if not ch.passed and ch.severity == "error"]
    if not failed:
        return Verdict(True)
    codes = c.rule_set.parameters.check_codes
    names = sorted({ch.name for ch in failed})
    specific = next((n for n in names if n in codes), None)
    # the source is the check itself: the one whose code is used first, then the others
    source = check_source(([specific] if specific else []) + names)
    return Verdict(False, {"checks": ", ".join(names)}, codes.get(specific or ""), source)


@rule("shared_payee_account", "payee account shared with another claimant")
def _shared_payee_account(c: Context) -> Verdict | None:
    if c.history is None or not c.facts.payee_account:
        return None
    me = claimant_key(c.facts)
    for k in c.keys:
        if k.kind == "account":
            for other in c.history.seen(k.kind, k.key):
                if other.claim_id != c.facts.claim.claim_id and other.claimant != me:
                    return Verdict(False, {"other": other.claim_id})
    return Verdict(True)


@rule("payee_is_claimant", "payee is not the claimant")
def _payee_is_claimant(c: Context) -> Verdict | None:
    if not c.facts.payee_name:
        return None
    payee, claimant = c.facts.payee_name, c.facts.claim.claimant
    if c.facts.direct_settlement and c.terms is not None and c.terms.direct_settlement:
        # 医疗直付: the money goes to the hospital that issued the invoices, and to no one else
        hospitals = {norm_key(h) for h in (c.facts.hospital, *(i.hospital for i in c.facts.invoices)) if h}
        return Verdict(norm_key(payee) in hospitals, {"payee": payee, "claimant": c.facts.hospital or "?"})
    return Verdict(norm_key(payee) == norm_key(claimant), {"payee": payee, "claimant": claimant})


@rule("early_claim", "claim soon after the waiting period")
def _early_claim(c: Context) -> Verdict | None:
    start = c.cover_start
    if start is None or c.terms is None or not c.waiting_days:
        # 带病投保 shows as a claim right after the waiting period; none without one, and none for a
        # claim caused by injury (its waiting_days are 0): an injury cannot be pre-existing (既往症)
        return None
    window = c.rule_set.parameters.early_claim_days
    days = (c.facts.claim.incident_date - start).days - c.waiting_days
    if days < 0:
        return None  # inside the waiting period: that rule speaks
    return Verdict(days >= window, {"days": days, "window": window})


@rule("watched_provider", "provider on watch list")
def _watched_provider(c: Context) -> Verdict:
    watched = {norm_key(h) for h in c.rule_set.parameters.watched_providers}
    names = {c.facts.hospital, *(i.hospital for i in c.facts.invoices)}
    hit = next((h for h in names if h and norm_key(h) in watched), None)
    return Verdict(hit is None, {"hospital": hit or ""})


@rule("annual_limit", "annual limit used up")
def _annual_limit(c: Context) -> Verdict | None:
    p = c.policy
    if p is None:
        return None
    return Verdict(
        p.prior_paid_this_year < p.sum_insured, {"sum_insured": p.sum_insured, "paid": p.prior_paid_this_year}
    )


@rule("lump_sum_once", "lump sum claimed again on the policy")
def _lump_sum_once(c: Context) -> Verdict | None:
    """A lump sum pays once in a policy's life (CI01), and `Policy.prior_paid_total` says whether it has,
    as the policy system last heard: while that shows nothing, another claim on the policy in the books
    (decided or not) may be its payment, so a person looks before the sum is paid a second time."""
    p = c.policy
    if p is None or c.benefit is None or c.benefit.kind != "lump_sum" or c.history is None:
        return None
    if p.prior_paid_total > 0 or p.prior_paid_this_year > 0:
        return None  # the payment is known: the benefit refuses the claim (ALREADY_PAID)
    me = c.facts.claim.claim_id
    others = [s.claim_id for k in c.keys if k.kind == "policy" for s in c.history.seen(k.kind, k.key)]
    other = next((cid for cid in others if cid != me), None)
    return Verdict(other is None, {"other": other or ""})


@rule("low_confidence", "fields read with low confidence")
def _low_confidence(c: Context) -> Verdict:
    fields = c.facts.low_confidence_fields
    return Verdict(not fields, {"fields": ", ".join(fields)})


@rule("amount_claimed", "amount claimed differs from the invoices")
def _amount_claimed(c: Context) -> Verdict | None:
    claimed = c.facts.claim.amount_claimed
    if claimed is None or not c.facts.invoices or c.benefit is None or c.benefit.kind != "reimbursement":
        return None
    total = c.facts.total_claimed
    return Verdict(claimed == total, {"claimed": claimed, "invoices": total})


class _Blank(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "?"


@dataclass
class RuleEvaluation:
    """The trace of one claim through one rule set, and what it adds up to."""

    rule_set: RuleSet
    hits: list[RuleHit]
    failed: list[tuple[Rule, RuleHit]]
    terms: ProductTerms | None
    benefit: BenefitTerms | None
    missing_documents: list[DocType]
    messages_zh: dict[str, str]

    def codes(self, action: Action) -> list[str]:
        return [h.code for r, h in self.failed if r.action == action]

    @property
    def fraud_flags(self) -> list[str]:
        return [h.code for h in self.fraud_flag_hits]

    @property
    def fraud_flag_hits(self) -> list[RuleHit]:
        """The failed rules that are fraud red flags: each raises `FRAUD_SUSPECTED` as its source."""
        return [h for r, h in self.failed if r.fraud_flag and r.action == "refer"]

    @property
    def info_codes(self) -> list[str]:
        return self.codes("info")


def evaluate(facts: ClaimFacts, rule_set: RuleSet, history: InvoiceHistory | None = None) -> RuleEvaluation:
    """Run every enabled rule of `rule_set` over `facts`, in order, keeping the full trace."""
    ctx = Context(facts=facts, rule_set=rule_set, history=history)
    if facts.policy is not None:
        ctx.terms = rule_set.terms_for(facts.policy, facts.claim.incident_date)
        if ctx.terms is not None:
            ctx.benefit = ctx.terms.benefit_for(facts.claim_type)
    if history is not None:
        ctx.keys = claim_keys(facts)
    hits: list[RuleHit] = []
    failed: list[tuple[Rule, RuleHit]] = []
    zh: dict[str, str] = {}
    for r in rule_set.rules:
        if not r.enabled:
            continue
        v = RULES[r.id](ctx)
        if v is None:
            continue
        code = v.code or r.code
        if v.passed:
            hits.append(RuleHit(rule_id=r.id, code=code, passed=True))
            continue
        d = _Blank(v.details)
        hit = RuleHit(
            rule_id=r.id,
            code=code,
            passed=False,
            fatal=r.action == "deny",
            message=f"{r.zh.format_map(d)} / {r.en.format_map(d)}",
            source=v.source or rule_source(r.id, RULE_LABELS[r.id]),
        )
        zh[code] = r.zh.format_map(d)
        hits.append(hit)
        failed.append((r, hit))
    return RuleEvaluation(
        rule_set=rule_set,
        hits=hits,
        failed=failed,
        terms=ctx.terms,
        benefit=ctx.benefit,
        missing_documents=list(ctx.missing),
        messages_zh=zh,
    )


def limit_left(policy: Policy) -> Decimal:
    """What is left of the annual limit (the sum insured) after this policy year's payments."""
    return max(ZERO, money(policy.sum_insured - policy.prior_paid_this_year))

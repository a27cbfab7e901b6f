"""The decision on a claim: rules + benefit + ML gate + fraud score give its outcome and the notice.

Precedence, as a careful adjuster reads a file:

1. documents missing -> request_info (电子照会: the electronic request naming what is missing);
2. a fatal rule (not in force, waiting period, exclusion, duplicate invoice, ...) -> deny, with a
   notice in plain Chinese and the claimant's right to ask for a human review (人工复核); but while
   a value was read unsure or not at all (`plausible.READING_DOUBTS`) -> adjuster, who confirms the
   reading first and sees the denial's codes;
3. a rule that needs a person (fraud red flags, identity, payee) -> adjuster, with reasons;
4. the benefit: nothing payable -> deny (below the deductible, no limit left, ...); limit cut it ->
   partial; otherwise approve;
5. an approved claim is paid without a person only if the fraud score is low, the amount is within
   the machine's limit in the authority table (`Settings.authority`, per product where it differs),
   and the ML gate says it is safe: flash pay (闪赔闪付) when triage found it simple, auto approve
   otherwise; else it goes to an adjuster with the reason.

`decide` is pure: the clock, the history and the models come in as arguments. `index_and_decide`
first records the claim's keys in the history, as the runner does, so later claims see this one.

Where it sits in a claim's way (`flows/steps.py`): extract → fraud → decide → payout, and inside
`decide`: rules → benefit → triage → ML gate → route. Triage runs here, after the rules, because it
classifies with what adjudication finds: the documents the product's terms require (the terms the
rule set in force on the incident date picks) and the claims on the policy before this one (the
invoice history); the ML gate then reads triage's class, and the route its flash-pay eligibility.
The fraud score is computed before, over the whole history, and comes in as an argument.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, Field

from adjudication.benefit import Assessment, assess, refuse_all
from adjudication.history import InvoiceHistory, prior_claims
from adjudication.rules import RULE_LABELS, RuleBook, RuleEvaluation, RuleSet, evaluate
from adjudication.terms import DOC_NAMES_ZH, ZERO
from classifiers.triage import DENIAL_NOTICE_DAYS, triage
from classifiers.triage import MODEL_VERSION as TRIAGE_VERSION
from pipeline.extract.plausible import reading_unconfirmed
from pipeline.reasons import (
    FRAUD_SUSPECTED,
    authority_source,
    check_source,
    model_source,
    rule_source,
    terms_source,
)
from pipeline.records import (
    Adjudication,
    ClaimFacts,
    Decision,
    DocType,
    FraudBand,
    FraudScore,
    Outcome,
    Reason,
    ReasonSource,
    Route,
    RuleHit,
    TriageResult,
)
from pipeline.settings import Settings

log = logging.getLogger(__name__)

BENEFIT_MESSAGES_ZH = {
    "BELOW_DEDUCTIBLE": "扣除医保已支付部分和免赔额后，没有可赔付的金额",
    "OVER_LIMIT": "本保单年度的保险金额已经用完",
    "ALREADY_PAID": "本保单的重大疾病保险金已经给付过，合同约定只给付一次",
    "NOTHING_COVERED": "所列费用均不在保险责任范围内（如丙类自费项目）",
    "PAID_BY_SOCIAL_INSURANCE": "可赔付的费用已由社会医疗保险全部支付",
    "NO_HOSPITAL_DAYS": "没有可给付津贴的住院天数",
    "DAYS_UNKNOWN": "未能读取住院起止日期，按日限额的费用需人工核定住院天数",
    "SETTLEMENT_UNKNOWN": "票据未载明医保类型，统筹基金和个人账户均未支付，需人工核实是否经医保结算",
}
REVIEW_RIGHT_ZH = (
    "如您对本结论有异议，您有权申请人工复核：请在收到本通知后通过原申请渠道（APP、微信或柜面）"
    "提出复核申请，并可补充相关材料，我们将安排理赔人员重新审核并书面答复您。复核不收取任何费用。"
)
FRAUD_SUSPECTED_ZH = "存在欺诈疑点，需人工调查"
NOT_ASSESSABLE_ZH = "没有可用的保单或条款，无法理算 / no policy or terms to assess the benefit"
RETAKE_ZH = "（已上传的照片无法看清，请在光线充足处重新拍摄完整、清晰的照片）"


class SafePayGate(Protocol):
    """The ML gate: the probability that a rule-approved claim is safe to pay without a person."""

    version: str
    threshold: float

    def probability(self, facts: ClaimFacts, triage: TriageResult, adjudication: Adjudication) -> float: ...


class DecisionBundle(BaseModel):
    """Everything decided on one claim, for the case store, the payout and the claimant."""

    adjudication: Adjudication
    triage: TriageResult
    outcome: Outcome
    notice: str | None = Field(default=None, description="the letter to the claimant, plain Chinese")
    notify_by: dt.datetime | None = Field(default=None, description="the legal deadline for the notice")
    missing_documents: list[DocType] = Field(default_factory=list)
    decision_version: int | None = Field(
        default=None, description="the version the case store recorded this decision as"
    )


def _payable_now(decision: Decision, assessed: Decimal) -> Decimal:
    return assessed if decision in (Decision.APPROVE, Decision.PARTIAL) else ZERO


def adjudicate(
    facts: ClaimFacts, rule_set: RuleSet, history: InvoiceHistory | None = None
) -> tuple[Adjudication, RuleEvaluation, Assessment | None]:
    """Rules and benefit only: the decision, the payable amount per line, the codes and the trace.

    `payable` is what the terms give; it is paid only when the decision is approve or partial (a
    referred claim keeps its assessed amount for the adjuster).
    """
    ev = evaluate(facts, rule_set, history)
    assessment: Assessment | None = None
    if ev.terms is not None and ev.benefit is not None and facts.policy is not None:
        assessment = assess(facts, ev.terms, ev.benefit)
    fatal, refer = ev.codes("deny"), ev.codes("refer")
    payable = ZERO
    if ev.missing_documents:
        decision, codes = Decision.REQUEST_INFO, ev.codes("request_info")
        lines = refuse_all(facts, "MISSING_DOCUMENT", "待补充材料后审核")
    elif fatal and reading_unconfirmed(facts.failed_checks):
        # never deny on a reading no one confirmed (a diagnosis read unsure may be another one): a
        # person confirms it, and sees what the machine would have denied for
        decision, codes = Decision.REFER, [*([FRAUD_SUSPECTED] if ev.fraud_flags else []), *refer, *fatal]
        lines = refuse_all(facts, fatal[0], ev.messages_zh.get(fatal[0], fatal[0]))
    elif fatal:
        decision, codes = Decision.DENY, fatal
        lines = refuse_all(facts, fatal[0], ev.messages_zh.get(fatal[0], fatal[0]))
    elif refer or assessment is None or assessment.needs_person:
        decision = Decision.REFER
        flags = ev.fraud_flags
        codes = ([FRAUD_SUSPECTED] if flags else []) + refer
        if assessment is None:
            codes.append("NOT_ASSESSABLE")
            lines = refuse_all(facts, codes[0], "待人工审核")
        else:
            codes += [assessment.needs_person] if assessment.needs_person else []
            lines, payable = assessment.lines, assessment.payable
    elif assessment.zero_reason:
        decision, codes = Decision.DENY, [assessment.zero_reason]
        lines = assessment.lines
    else:
        decision = Decision.PARTIAL if assessment.limited else Decision.APPROVE
        codes = ["OVER_LIMIT"] if assessment.limited else []
        lines, payable = assessment.lines, assessment.payable
    adj = Adjudication(
        claim_id=facts.claim.claim_id,
        decision=decision,
        payable=payable,
        benefit_lines=lines,
        reason_codes=codes,
        trace=ev.hits,
        rule_set_version=rule_set.version,
    )
    return adj, ev, assessment


def _date_zh(d: dt.date | dt.datetime) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _reasons_zh(adj: Adjudication, ev: RuleEvaluation) -> list[str]:
    out = []
    for code in adj.reason_codes:
        text = ev.messages_zh.get(code) or BENEFIT_MESSAGES_ZH.get(code)
        if text:
            out.append(text)
    return out


def _header(facts: ClaimFacts) -> str:
    c = facts.claim
    return (
        f"尊敬的{c.claimant}：\n"
        f"您于{_date_zh(c.submitted_at)}提交的理赔申请（案件号{c.claim_id}，保单号{c.policy_number}）"
    )


def deny_notice(facts: ClaimFacts, adj: Adjudication, ev: RuleEvaluation, now: dt.datetime) -> str:
    """拒赔通知书: why nothing is paid, in plain Chinese, and the right to a human review."""
    reasons = _reasons_zh(adj, ev) or ["经审核不属于保险责任"]
    numbered = "\n".join(f"{i}. {r}。" for i, r in enumerate(reasons, 1))
    return (
        f"{_header(facts)}我们已审核完毕。很遗憾，本次申请不予赔付，原因如下：\n{numbered}\n"
        f"{REVIEW_RIGHT_ZH}\n（规则版本{adj.rule_set_version}，{_date_zh(now)}）"
    )


def request_info_notice(facts: ClaimFacts, missing: list[DocType], now: dt.datetime) -> str:
    """电子照会: which documents are still needed before the claim can be decided."""
    retake = set(facts.illegible_documents)
    listing = "\n".join(
        f"{i}. {DOC_NAMES_ZH[d]}{RETAKE_ZH if d in retake else ''}" for i, d in enumerate(missing, 1)
    )
    if facts.illegible_files:  # named too: a blurred photo's type is only a guess
        names = "、".join(facts.illegible_files)
        listing += f"\n另：您上传的照片{names}无法看清，如属上述材料，请重新拍摄后上传。"
    return (
        f"{_header(facts)}还缺少以下材料，请通过原申请渠道上传补充：\n{listing}\n"
        f"收到完整材料后我们将尽快审核。（{_date_zh(now)}）"
    )


def payment_notice(facts: ClaimFacts, adj: Adjudication, route: Route, now: dt.datetime) -> str:
    how = "已按闪赔流程即时支付" if route is Route.FLASH_PAY else "将于近日支付"
    partial = "（本保单年度保险金额余额不足，按余额赔付）" if adj.decision is Decision.PARTIAL else ""
    if facts.direct_settlement:  # 医疗直付: the hospital is paid, the claimant pays nothing up front
        return (
            f"{_header(facts)}已审核通过，赔付金额{adj.payable}元{partial}，{how}至{facts.payee_name}"
            f"（医疗直付），该部分费用您无需垫付。赔付明细可在APP中查看。（{_date_zh(now)}）"
        )
    return (
        f"{_header(facts)}已审核通过，赔付金额{adj.payable}元{partial}，{how}至您尾号"
        f"{(facts.payee_account or '')[-4:]}的账户。赔付明细可在APP中查看。（{_date_zh(now)}）"
    )


def _hit_reason(h: RuleHit) -> Reason:
    source = h.source or rule_source(h.rule_id, RULE_LABELS.get(h.rule_id, h.rule_id))
    return Reason(code=h.code, message=h.message, source=source)


def _terms_of(ev: RuleEvaluation) -> ReasonSource:
    return terms_source(ev.terms.product_id, ev.terms.version) if ev.terms else terms_source(None, None)


def _coded(reasons: list[Reason], adj: Adjudication, ev: RuleEvaluation) -> list[Reason]:
    """`reasons`, plus a reason for each of the decision's codes none of them gives yet (the benefit
    calculation's: below the deductible, over the limit, not assessable), so every code has a source."""
    have = {r.code for r in reasons}
    terms = _terms_of(ev)
    for code in adj.reason_codes:
        if code in have:
            continue
        if code == "NOT_ASSESSABLE":
            reasons.append(Reason(code=code, message=NOT_ASSESSABLE_ZH, source=terms_source(None, None)))
        else:
            reasons.append(Reason(code=code, message=BENEFIT_MESSAGES_ZH.get(code, ""), source=terms))
    return reasons


def _referral_reasons(adj: Adjudication, ev: RuleEvaluation) -> list[Reason]:
    """Why the rules send a claim to a person: one `FRAUD_SUSPECTED` per red flag, naming the rule or
    check that raised it, then the failed rules and the benefit calculation's doubts."""
    flags = [
        Reason(code=FRAUD_SUSPECTED, message=FRAUD_SUSPECTED_ZH, source=_hit_reason(h).source)
        for h in ev.fraud_flag_hits
    ]
    rules = [_hit_reason(h) for _, h in ev.failed if h.code in adj.reason_codes]
    return _coded(flags + rules, adj, ev)


def _unseen_pay_doubts(
    facts: ClaimFacts,
    adj: Adjudication,
    fraud: FraudScore | None,
    settings: Settings,
) -> tuple[list[Reason], int]:
    """Why an approved claim may not be paid without a person (the model's band, the machine's limit,
    the intake's problems), each with its source; and how much sooner a person should look."""
    why: list[Reason] = []
    bump = 0
    if fraud is not None and fraud.band in (FraudBand.HIGH, FraudBand.MEDIUM):
        band = fraud.band.value
        source = model_source("fraud", fraud.model_version, band=band, score=fraud.score)
        why.append(
            Reason(code=f"FRAUD_SCORE_{band.upper()}", message=f"score {fraud.score:.2f}", source=source)
        )
        why += [
            Reason(message=f"{r.feature}: {r.message}", source=source, detail=True) for r in fraud.reasons[:3]
        ]
        bump = 15 if fraud.band is FraudBand.HIGH else 5
    product_id = facts.policy.product_id if facts.policy is not None else None
    machine = settings.authority.limit("machine", product_id)
    if machine is not None and adj.payable > machine:  # the finance team's table, not the rule set's
        why.append(
            Reason(
                code="ABOVE_AUTO_PAY_LIMIT",
                message=f"{adj.payable} > {machine}",
                source=authority_source("machine", machine),
            )
        )
    if facts.claim.problems:  # a future date, an absurd amount, a file refused: nobody pays it unseen
        shown = "; ".join(facts.claim.problems[:3]) + ("; ..." if len(facts.claim.problems) > 3 else "")
        why.append(Reason(code="INTAKE_PROBLEMS", message=shown, source=check_source(["intake"])))
    return why, bump


def decide(
    facts: ClaimFacts,
    *,
    rules: RuleBook | RuleSet,
    history: InvoiceHistory | None,
    gate: SafePayGate | None,
    fraud: FraudScore | None,
    settings: Settings,
    now: dt.datetime,
) -> DecisionBundle:
    """Decide one claim: adjudication, triage, outcome (route, reasons, priority) and the notice.

    Every reason names its source: the rule or check that failed, the model and its band, the terms'
    benefit calculation or the authority table (`pipeline.reasons`)."""
    rule_set = rules.for_date(facts.claim.incident_date) if isinstance(rules, RuleBook) else rules
    adj, ev, _ = adjudicate(facts, rule_set, history)
    prior = prior_claims(facts, history)
    required = ev.terms.documents_for(facts) if ev.terms else None
    tri = triage(facts, settings, now=now, required_documents=required, prior_claims=prior)
    versions = {"triage": TRIAGE_VERSION}
    if fraud is not None:
        versions["fraud"] = fraud.model_version

    notice: str | None = None
    notify_by: dt.datetime | None = None
    reasons: list[Reason]
    route: Route
    priority_bump = 0

    if adj.decision is Decision.REQUEST_INFO:
        route = Route.REQUEST_INFO
        notice = request_info_notice(facts, ev.missing_documents, now)
        asked = next((h for _, h in ev.failed if h.code == "MISSING_DOCUMENT"), None)
        source = (
            _hit_reason(asked).source if asked else rule_source("required_documents", "documents missing")
        )
        reasons = [
            Reason(code="MISSING_DOCUMENT", message=d.value, source=source) for d in ev.missing_documents
        ]
    elif adj.decision is Decision.DENY:
        route = Route.DENY
        notice = deny_notice(facts, adj, ev, now)
        notify_by = now + dt.timedelta(days=DENIAL_NOTICE_DAYS)
        reasons = _coded([_hit_reason(h) for _, h in ev.failed if h.code in adj.reason_codes], adj, ev)
    elif adj.decision is Decision.REFER:
        route = Route.ADJUSTER
        priority_bump = 10 if FRAUD_SUSPECTED in adj.reason_codes else 0
        reasons = _referral_reasons(adj, ev)
    else:
        why, priority_bump = _unseen_pay_doubts(facts, adj, fraud, settings)
        if gate is not None:
            p = gate.probability(facts, tri, adj)
            adj = adj.model_copy(update={"gate_probability": p, "gate_model_version": gate.version})
            versions["adjudication-gate"] = gate.version
            if p < gate.threshold:
                detail = f"P(safe) {p:.3f} < {gate.threshold}"
                source = model_source("gate", gate.version, detail=detail)
                why.append(Reason(code="GATE_NOT_CONFIDENT", message=detail, source=source))
        elif not tri.flash_pay_eligible:
            why.append(
                Reason(
                    code="GATE_UNAVAILABLE",
                    message="no gate model; only simple claims are paid without a person",
                    source=model_source("gate", "unavailable"),
                )
            )
        if why:
            route, reasons = Route.ADJUSTER, _coded(why, adj, ev)
        else:
            route = Route.FLASH_PAY if tri.flash_pay_eligible else Route.AUTO_APPROVE
            paid = Reason(message=f"{adj.decision.value}: {adj.payable}", source=_terms_of(ev))
            reasons = [paid, *(Reason(code=c, source=_terms_of(ev)) for c in adj.reason_codes)]
            notice = payment_notice(facts, adj, route, now)

    if route is Route.ADJUSTER:
        tri = tri.model_copy(update={"priority": tri.priority + priority_bump})
    outcome = Outcome(
        claim_id=facts.claim.claim_id,
        route=route,
        reasons=reasons,
        payable=adj.payable if route in (Route.FLASH_PAY, Route.AUTO_APPROVE) else ZERO,
        decided_at=now,
        rule_set_version=rule_set.version,
        model_versions=versions,
    )
    return DecisionBundle(
        adjudication=adj,
        triage=tri,
        outcome=outcome,
        notice=notice,
        notify_by=notify_by,
        missing_documents=ev.missing_documents,
    )


def index_and_decide(
    facts: ClaimFacts,
    *,
    rules: RuleBook | RuleSet,
    history: InvoiceHistory,
    gate: SafePayGate | None,
    fraud: FraudScore | None,
    settings: Settings,
    now: dt.datetime,
) -> DecisionBundle:
    """Record the claim's keys (invoices, visit, payee account, policy) in the history, then decide it.

    Indexed first, so every later claim (in this batch or the next) sees this one's invoices and
    account; the rules only hold a key against a claim that came earlier (submitted, or indexed, first).
    """
    history.record(facts)
    return decide(facts, rules=rules, history=history, gate=gate, fraud=fraud, settings=settings, now=now)


def payable_now(adj: Adjudication) -> Decimal:
    """What the decision pays (approve or partial), else nothing."""
    return _payable_now(adj.decision, adj.payable)

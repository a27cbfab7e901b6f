"""Every reason the engine gives names its source: the rule, the check, the model and its band, the
terms, the authority table; a fraud referral by the watch list reads as the rule's, never the model's."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from helpers.facts import INPATIENT_DOCS, items, make_facts
from helpers.reasons import unsourced

from adjudication.decide import DecisionBundle, decide, index_and_decide
from adjudication.history import MemoryInvoiceHistory
from adjudication.rules import RULE_LABELS, RULES, RuleBook
from pipeline.reasons import (
    FRAUD_SUSPECTED,
    LEGACY_SOURCES,
    SourceKind,
    check_source,
    describe_source,
    fraud_raised_by,
    read_reasons,
    rule_source,
)
from pipeline.records import (
    Adjudication,
    Check,
    ClaimFacts,
    ClaimType,
    FraudBand,
    FraudReason,
    FraudScore,
    Route,
    TriageResult,
)
from pipeline.settings import Settings
from synth.facts import facts_from_truth
from synth.truth import ClaimTruth

NOW = dt.datetime(2025, 9, 10, 9, 0, tzinfo=dt.UTC)
WATCHED = "康泰综合门诊部"


class Gate:
    """A gate model that answers what it is told."""

    def __init__(self, p: float) -> None:
        self.p, self.version, self.threshold = p, "gate-t1", 0.9

    def probability(self, facts: ClaimFacts, triage: TriageResult, adjudication: Adjudication) -> float:
        return self.p


def _score(claim_id: str, band: FraudBand, score: float) -> FraudScore:
    reasons = [
        FraudReason(feature="acct_distinct_claimants", contribution=0.4, message="账户被3名申请人使用")
    ]
    return FraudScore(claim_id=claim_id, score=score, band=band, reasons=reasons, model_version="v3")


def _decide(
    facts: ClaimFacts, book: RuleBook, fraud: FraudScore | None = None, p: float = 0.99
) -> DecisionBundle:
    return decide(
        facts,
        rules=book,
        history=MemoryInvoiceHistory([facts]),
        gate=Gate(p),
        fraud=fraud,
        settings=Settings(),
        now=NOW,
    )


def test_every_rule_has_a_short_label() -> None:
    assert set(RULE_LABELS) == set(RULES)
    assert all(0 < len(label) <= 48 and label == label.strip() for label in RULE_LABELS.values())


def test_a_watch_list_referral_is_the_rules_while_the_model_says_low(book: RuleBook) -> None:
    facts = make_facts(hospital=WATCHED)
    b = _decide(facts, book, _score(facts.claim.claim_id, FraudBand.LOW, 0.0))
    assert b.outcome.route is Route.ADJUSTER and unsourced(b) == []
    referral = [r for r in b.outcome.reasons if r.code == FRAUD_SUSPECTED]
    assert [describe_source(r.source) for r in referral] == ["rule: provider on watch list"]
    assert referral[0].source == rule_source("watched_provider", "provider on watch list")
    assert [describe_source(s) for s in fraud_raised_by(b.outcome.reasons)] == [
        "rule: provider on watch list"
    ]
    assert not any(r.source.kind is SourceKind.MODEL for r in b.outcome.reasons)  # the model said nothing


def test_a_qr_code_disagreeing_with_the_print_is_the_checks_referral(book: RuleBook) -> None:
    qr = Check(name="qr_mismatch", passed=False, message="QR 金额 120.00 ≠ 票面 350.00", fields=["total"])
    facts = make_facts().model_copy(update={"failed_checks": [qr]})
    b = _decide(facts, book)
    assert unsourced(b) == []
    by_code = {r.code: describe_source(r.source) for r in b.outcome.reasons}
    assert by_code[FRAUD_SUSPECTED] == "check: QR code disagrees with the printed bill"
    assert by_code["QR_MISMATCH"] == "check: QR code disagrees with the printed bill"
    [hit] = [h for h in b.adjudication.trace if not h.passed]
    assert hit.rule_id == "extraction_checks" and hit.source == check_source(["qr_mismatch"])


def test_two_red_flags_each_name_their_referral(book: RuleBook) -> None:
    qr = Check(name="qr_mismatch", passed=False)
    facts = make_facts(hospital=WATCHED).model_copy(update={"failed_checks": [qr]})
    raised = [describe_source(s) for s in fraud_raised_by(_decide(facts, book).outcome.reasons)]
    assert raised == ["check: QR code disagrees with the printed bill", "rule: provider on watch list"]


def test_the_models_band_is_the_models_reason(book: RuleBook) -> None:
    facts = make_facts(fund_paid="60")
    b = _decide(facts, book, _score(facts.claim.claim_id, FraudBand.HIGH, 0.82))
    assert b.outcome.route is Route.ADJUSTER and unsourced(b) == []
    first, detail = b.outcome.reasons[:2]
    assert first.text == "FRAUD_SCORE_HIGH: score 0.82"
    assert describe_source(first.source) == "model: fraud v3 band high 0.82"
    assert detail.detail and detail.code is None and detail.source == first.source
    assert fraud_raised_by(b.outcome.reasons) == []  # the model flags; nothing referred it for fraud
    low = _decide(facts, book, _score(facts.claim.claim_id, FraudBand.LOW, 0.02), p=0.5)
    [gate] = low.outcome.reasons
    assert describe_source(gate.source) == "model: gate gate-t1 P(safe) 0.500 < 0.9"


def test_limits_and_terms_name_theirs(book: RuleBook) -> None:
    surgery = items(("床位费", "床位费", "甲", "240.00"), ("手术", "手术费", "甲", "12260.00"))
    facts = make_facts(
        ClaimType.INPATIENT, days=4, sum_insured="200000", line_items=surgery, documents=INPATIENT_DOCS
    )
    big = _decide(facts.model_copy(update={"diagnoses": ["K35.8"]}), book)
    assert big.outcome.route is Route.ADJUSTER and unsourced(big) == []
    assert [describe_source(r.source) for r in big.outcome.reasons] == ["authority: machine limit 10000.00"]
    partial = _decide(make_facts(sum_insured="5000", prior_paid="4950"), book)
    assert partial.outcome.route is Route.FLASH_PAY and unsourced(partial) == []
    assert [r.text for r in partial.outcome.reasons] == ["partial: 50.00", "OVER_LIMIT"]
    assert all(r.source.kind is SourceKind.TERMS for r in partial.outcome.reasons)
    assert partial.outcome.reasons[0].source.label.startswith("benefit calculation of OPM01 ")
    denied = _decide(make_facts(prior_paid="10000"), book)
    assert denied.outcome.route is Route.DENY and unsourced(denied) == []
    assert {r.source.kind for r in denied.outcome.reasons} == {SourceKind.TERMS}


def test_legacy_sources_agree_with_the_rule_sets(book: RuleBook) -> None:
    """A decision recorded before sources reads its codes as the rule sets then in force gave them."""
    for rs in book.rule_sets:
        for r in rs.rules:
            assert LEGACY_SOURCES[r.code] == rule_source(r.id, RULE_LABELS[r.id]), (rs.version, r.code)
        for name, code in rs.parameters.check_codes.items():
            assert LEGACY_SOURCES[code] == check_source([name]), (rs.version, code)
        for r in rs.rules:  # an old FRAUD_SUSPECTED is the red flag's listed beside it
            old = read_reasons([f"{FRAUD_SUSPECTED}: 存在欺诈疑点，需人工调查", f"{r.code}: ..."])
            raised = rule_source(r.id, RULE_LABELS[r.id])
            assert (old[0].source == raised) is (r.fraud_flag and r.action == "refer"), (rs.version, r.id)


def test_every_reason_on_a_synthetic_book_names_its_source(
    book: RuleBook, synthetic_book: list[ClaimTruth]
) -> None:
    """500 generated claims (20% with planted problems: watched providers, shared accounts, bad
    checks, ...) decided in order, scored in every band and gated both ways."""
    history = MemoryInvoiceHistory()
    bands = [(FraudBand.LOW, 0.03), (FraudBand.MEDIUM, 0.41), (FraudBand.HIGH, 0.88), (FraudBand.LOW, 0.0)]
    problems: list[str] = []
    seen: Counter[str] = Counter()
    for n, truth in enumerate(synthetic_book):
        facts = facts_from_truth(truth)
        band, score = bands[n % len(bands)]
        b = index_and_decide(
            facts,
            rules=book,
            history=history,
            gate=Gate(0.95 if n % 3 else 0.4),
            fraud=_score(facts.claim.claim_id, band, score),
            settings=Settings(),
            now=dt.datetime.combine(facts.claim.submitted_at.date(), dt.time(12), tzinfo=dt.UTC),
        )
        problems += unsourced(b)
        seen.update(r.source.kind.value for r in b.outcome.reasons)
        seen.update(f"{FRAUD_SUSPECTED} by {describe_source(s)}" for s in fraud_raised_by(b.outcome.reasons))
    assert problems == []
    assert {"rule", "model", "check", "terms", "authority"} <= set(seen), seen
    assert seen[f"{FRAUD_SUSPECTED} by rule: provider on watch list"] > 0, seen
    assert Decimal(sum(seen.values())) > 500

"""Reasons with their sources: how a source reads, and how decisions recorded before sources are read."""

from __future__ import annotations

import datetime as dt

from pipeline.reasons import (
    FRAUD_SUSPECTED,
    Reason,
    SourceKind,
    adjuster_source,
    check_source,
    describe_source,
    fraud_raised_by,
    model_source,
    read_reasons,
    rule_source,
    sourced_codes,
    system_source,
)
from pipeline.records import Outcome, Route

NOW = dt.datetime(2026, 4, 20, 9, 0, tzinfo=dt.UTC)
WATCH_LIST = "PROVIDER_WATCHLIST: 就诊机构康泰综合门诊部在重点监控名单中 / provider 康泰综合门诊部 is watched"


def test_one_function_says_what_raised_a_reason() -> None:
    assert describe_source(rule_source("watched_provider", "provider on watch list")) == (
        "rule: provider on watch list"
    )
    assert (
        describe_source(model_source("fraud", "v3", band="high", score=0.82))
        == "model: fraud v3 band high 0.82"
    )
    assert describe_source(check_source(["qr_mismatch"])) == "check: QR code disagrees with the printed bill"
    assert describe_source(check_source(["luhn", "qr_mismatch", "luhn"])) == (
        "check: bank card number fails its check digit; QR code disagrees with the printed bill"
    )
    assert describe_source(check_source(["new_check"])) == "check: new check"  # no label yet: its name
    assert describe_source(adjuster_source("adj1")) == "adjuster: adj1"
    [old] = read_reasons(["SOMETHING_NEW: x"])
    assert describe_source(old.source) == "unknown (recorded before sources)"


def test_a_referral_stored_before_sources_names_the_watch_list() -> None:
    """The issue's three claims: FRAUD_SUSPECTED beside a 'low' band, stored as strings."""
    stored = [f"{FRAUD_SUSPECTED}: 存在欺诈疑点，需人工调查", WATCH_LIST]
    fraud, watch = read_reasons(stored)
    assert fraud.text == stored[0] and watch.text == WATCH_LIST
    assert fraud.source == watch.source == rule_source("watched_provider", "provider on watch list")
    assert [describe_source(s) for s in fraud_raised_by([fraud, watch])] == ["rule: provider on watch list"]
    # two red flags: one referral each, as the engine now records them
    two = read_reasons(
        [stored[0], "EARLY_CLAIM: 等待期满后3天即出险", "QR_MISMATCH: 单据校验未通过：qr_mismatch"]
    )
    assert [describe_source(r.source) for r in two if r.code == FRAUD_SUSPECTED] == [
        "rule: claim soon after the waiting period",
        "check: QR code disagrees with the printed bill",
    ]
    # a referral nothing beside it explains stays unexplained rather than guessed
    [alone] = read_reasons([stored[0]])
    assert alone.source.kind is SourceKind.UNKNOWN


def test_old_model_gate_limit_and_intake_reasons_read_with_their_sources() -> None:
    stored = [
        "FRAUD_SCORE_HIGH: score 0.81",
        "  acct_distinct_claimants: 该银行账户已被3名不同申请人使用",
        "ABOVE_AUTO_PAY_LIMIT: 12000.00 > 10000.00",
        "GATE_NOT_CONFIDENT: P(safe) 0.410 < 0.9",
        "INTAKE_PROBLEMS: claims.csv row 3: submitted_at is in the future",
        "EXCLUDED_SELF_HARM: 主要诊断X70属于责任免除",
        "BELOW_DEDUCTIBLE: 扣除医保已支付部分和免赔额后，没有可赔付的金额",
    ]
    versions = {"fraud": "v0003", "adjudication-gate": "g2"}
    r = read_reasons(stored, model_versions=versions)
    assert [describe_source(x.source) for x in r] == [
        "model: fraud v0003 band high 0.81",
        "model: fraud v0003 band high 0.81",
        "authority: machine limit 10000.00",
        "model: gate g2 P(safe) 0.410",
        "check: problems found at intake",
        "rule: excluded diagnosis",
        "terms: benefit calculation",
    ]
    assert r[1].detail and r[1].code is None and r[1].message.startswith("acct_distinct_claimants")
    assert sourced_codes(r)[:2] == [
        ("FRAUD_SCORE_HIGH", "model: fraud v0003 band high 0.81"),
        ("ABOVE_AUTO_PAY_LIMIT", "authority: machine limit 10000.00"),
    ]


def test_old_decisions_of_people_and_of_errors_read_as_theirs() -> None:
    review = read_reasons(["approve: 80.00", "REVIEWED_BY: adj1 (approved by senior1)", "复核后全额赔付"])
    assert {describe_source(r.source) for r in review} == {"adjuster: adj1"}
    [reopened] = read_reasons(["REOPENED: 客户投诉 (by senior1; v2 was auto_approve 80.00)"])
    assert reopened.source == adjuster_source("senior1")
    [failed] = read_reasons(["extraction failed: bad PDF"], route="error")
    assert failed.source == system_source() and failed.text == "extraction failed: bad PDF"
    [paid] = read_reasons(["approve: 112.00"], route="flash_pay")
    assert paid.source.kind is SourceKind.TERMS


def test_a_stored_outcome_reads_in_either_form_and_round_trips() -> None:
    old = {
        "claim_id": "C1",
        "route": "adjuster",
        "reasons": [f"{FRAUD_SUSPECTED}: 存在欺诈疑点，需人工调查", WATCH_LIST],
        "payable": "0.00",
        "decided_at": NOW.isoformat(),
        "model_versions": {"fraud": "v3"},
    }
    outcome = Outcome.model_validate(old)
    assert [describe_source(r.source) for r in outcome.reasons] == ["rule: provider on watch list"] * 2
    again = Outcome.model_validate(outcome.model_dump(mode="json"))
    assert again == outcome and isinstance(again.reasons[0], Reason)
    made = Outcome(claim_id="C1", route=Route.ERROR, reasons=["disk full"], decided_at=NOW)
    assert made.reasons[0].source.kind is SourceKind.SYSTEM

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.records import ClaimType, Decision, DocType
from synth.book import BOOK_END, BOOK_START, FRAUD_PATTERNS, PROBLEMS, make_book
from synth.documents import generate_corpus
from synth.policies import term_of
from synth.truth import ItemTruth


def test_same_seed_same_book_different_seed_different() -> None:
    a = [c.model_dump_json() for c in make_book(50, seed=3)]
    b = [c.model_dump_json() for c in make_book(50, seed=3)]
    c = [c.model_dump_json() for c in make_book(50, seed=4)]
    assert a == b
    assert a != c


def test_every_problem_is_planted_and_shows_in_the_outcome() -> None:
    book = make_book(60, seed=2, problem_rate=0.5)
    planted = {p for c in book for p in c.planted}
    assert planted == set(PROBLEMS)
    for claim in book:
        e = claim.expected
        for p in claim.planted:
            if p in FRAUD_PATTERNS:
                assert p in e.fraud_patterns, (claim.claim_id, p)
        if "missing_document" in claim.planted:
            assert e.decision is Decision.REQUEST_INFO and e.missing_documents
        elif "duplicate_invoice" in claim.planted:
            assert e.decision is Decision.DENY and e.reason_codes == ["DUPLICATE_INVOICE"]
        elif "waiting_period" in claim.planted:
            assert e.decision is Decision.DENY and e.reason_codes == ["WAITING_PERIOD"]
        elif "exclusion" in claim.planted:
            assert e.decision is Decision.DENY
        elif "over_limit" in claim.planted:
            assert e.decision in (Decision.PARTIAL, Decision.DENY) and "OVER_LIMIT" in e.reason_codes
        elif set(claim.planted) & FRAUD_PATTERNS:
            assert e.decision is Decision.REFER
        if e.decision in (Decision.APPROVE, Decision.PARTIAL):
            assert e.payable > 0
        else:
            assert e.payable == 0


def test_plausible_book_mix() -> None:
    book = make_book(1000, seed=7)
    types = [c.incident.claim_type for c in book]
    assert (
        types.count(ClaimType.OUTPATIENT)
        > types.count(ClaimType.INPATIENT)
        > types.count(ClaimType.CRITICAL_ILLNESS)
    )
    planted = sum(1 for c in book if c.planted)
    assert 50 <= planted <= 110  # 5-10 %, shared bank accounts mark two claims


def test_no_render_mode_writes_claims_and_truth_only(tmp_path: Path) -> None:
    summary = generate_corpus(tmp_path, 2000, seed=1, render=False)
    assert summary.claims == 2000
    assert set(summary.rule_sets) == {"2025.1", "2026.1"} and sum(summary.rule_sets.values()) == 2000
    lines = (tmp_path / "claims.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == [
        "claim_id",
        "policy_number",
        "claimant",
        "claimant_id_number",
        "insured",
        "claim_type",
        "incident_date",
        "submitted_at",
        "channel",
        "amount_claimed",
        "documents",
    ]
    assert len(lines) == 2001
    assert not list(tmp_path.glob("C0001/*.jpg"))
    assert len((tmp_path / ".truth" / "truth.jsonl").read_text(encoding="utf-8").splitlines()) == 2000


def test_constructed_items_are_valid() -> None:
    """Items skip validation when made (speed); validating them afterwards must change nothing."""
    for claim in make_book(40, seed=3):
        for bill in claim.bills:
            for item in bill.items:
                assert ItemTruth.model_validate(item.model_dump()) == item


def test_the_book_spans_both_rule_sets_and_straddles_the_change() -> None:
    book = make_book(1000, seed=12)
    days = [c.incident.incident_date for c in book]
    assert min(days) >= BOOK_START and max(days) <= BOOK_END
    assert {d.year for d in days} == {2025, 2026}
    change = dt.date(2026, 4, 1)
    for c in book:  # the version in force on the incident date, whatever the stay's end
        assert c.expected.rule_set == ("2026.1" if c.incident.incident_date >= change else "2025.1")
    straddling = [
        c
        for c in book
        if c.incident.admission_date and c.incident.admission_date < change <= c.incident.discharge_date
    ]
    assert straddling and all(c.expected.rule_set == "2025.1" for c in straddling)
    capped = [c for c in book if any(ln.reason_code == "PER_DAY_LIMIT" for ln in c.expected.benefit_lines)]
    assert capped and all(c.incident.incident_date >= change for c in capped)


def test_nothing_a_claim_carries_is_dated_after_its_submission() -> None:
    for c in make_book(400, seed=13, problem_rate=0.2):
        sent = c.row.submitted_at.date()
        dates = [c.incident.incident_date, c.policy.effective_date, *(b.issue_date for b in c.bills)]
        dates += [c.insured.birth_date, c.insured.id_valid_from, c.claimant.id_valid_from]
        dates += [d for d in (c.incident.admission_date, c.incident.discharge_date) if d]
        dates += [i.date for b in c.bills for i in b.items]
        assert max(dates) <= sent, c.claim_id
        assert c.policy.effective_date <= c.incident.incident_date


def test_injuries_of_health_claim_types_some_inside_the_waiting_period() -> None:
    # 意外伤害所致 (principal diagnosis S00-T98) under OPM01/IPM01/HCA01/CI01: no waiting period, so a
    # new policy pays; the bench sees the rule only if the book draws such claims
    book = make_book(1500, seed=11)
    injuries = [
        c
        for c in book
        if c.incident.claim_type is not ClaimType.ACCIDENT and c.incident.diagnoses[0][0][0] in "ST"
    ]
    assert {c.policy.product_id for c in injuries} >= {"OPM01", "IPM01", "HCA01"}
    waiting = {"OPM01": 30, "IPM01": 30, "HCA01": 30, "CI01": 90}
    new = [
        c
        for c in injuries
        if (c.incident.incident_date - c.policy.effective_date).days < waiting[c.policy.product_id]
    ]
    assert len(new) >= 5
    assert all("WAITING_PERIOD" not in c.expected.reason_codes for c in new)
    assert any(c.expected.decision is Decision.APPROVE for c in new)


def test_some_enrolled_insureds_bills_are_settled_as_self_pay() -> None:
    """The reduced ratio (ratio_not_settled) is exercised: an enrolled insured's 自费 bill pays no fund."""
    bills = [(c.policy.social_insurance, b) for c in make_book(300, seed=11) for b in c.bills]
    self_paid = [b for enrolled, b in bills if enrolled and b.insurance_type == "自费"]
    assert self_paid and all(b.fund_paid == 0 and b.account_paid == 0 for b in self_paid)
    assert all(b.insurance_type == "自费" for enrolled, b in bills if not enrolled)


def test_the_book_holds_accident_stays_and_lump_sums_paid_before() -> None:
    book = make_book(2000, seed=5)
    stays = [c for c in book if c.incident.claim_type is ClaimType.ACCIDENT and c.incident.admission_date]
    assert stays, "no accident treated in hospital"
    for c in stays:
        kinds = {d.doc_type for d in c.documents}
        if not c.planted:
            assert {DocType.INPATIENT_INVOICE, DocType.DISCHARGE_SUMMARY} <= kinds, c.claim_id
        assert DocType.OUTPATIENT_INVOICE not in kinds
    paid = [c for c in book if c.expected.reason_codes == ["ALREADY_PAID"]]
    assert any(c.policy.prior_paid_this_year == 0 for c in paid), "none paid in an earlier year"
    assert all(c.policy.prior_paid_total >= c.policy.prior_paid_this_year for c in book)


def test_every_policy_states_its_one_year_term_and_a_few_have_lapsed() -> None:
    book = make_book(2000, seed=29)
    for c in book:
        p, on = c.policy, c.incident.incident_date
        assert p.expiry_date is not None, c.claim_id
        start, end = term_of(p.effective_date, on)
        assert (end - start).days in (364, 365) and start <= on <= end and start >= p.effective_date
        assert p.expiry_date in (end, start - dt.timedelta(days=1)), c.claim_id  # renewed, or lapsed
    lapsed = [c for c in book if c.policy.expiry_date < c.incident.incident_date]  # type: ignore[operator]
    assert 0.015 <= len(lapsed) / len(book) <= 0.04
    assert all(
        c.expected.decision is Decision.DENY and c.expected.reason_codes == ["NOT_IN_FORCE"] for c in lapsed
    )
    renewed = [c for c in book if c.incident.incident_date - c.policy.effective_date > dt.timedelta(days=366)]
    assert len(renewed) > len(book) / 2  # most incidents fall in a renewed term, the effective date kept

"""Benefit arithmetic on hand-computed claims, and every yuan accounted for under a reason code."""

from __future__ import annotations

from decimal import Decimal

import pytest
from helpers.facts import INCIDENT, items, make_facts

from adjudication.benefit import Assessment, assess, settled_through_social_insurance, settlement_unknown
from adjudication.rules import RuleBook
from pipeline.records import ClaimFacts, ClaimType, Invoice
from synth.facts import facts_from_truth
from synth.truth import ClaimTruth

D = Decimal


def _assess(facts: ClaimFacts, book: RuleBook, version: str = "2025.1") -> Assessment:
    assert facts.policy is not None
    terms = book.get(version).terms_for(facts.policy, INCIDENT)
    assert terms is not None
    benefit = terms.benefit_for(facts.claim_type)
    assert benefit is not None
    return assess(facts, terms, benefit)


def _by_code(a: Assessment) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for ln in a.lines:
        out[ln.reason_code] = out.get(ln.reason_code, D(0)) + ln.claimed
    return out


def test_outpatient_with_social_insurance(book: RuleBook) -> None:
    # 甲100 + 乙200 covered, 丙50 refused; fund paid 60; eligible 240; deductible 100 -> 140; x 0.80 = 112
    a = _assess(make_facts(fund_paid="60"), book)
    assert a.payable == D("112.00")
    assert _by_code(a) == {
        "CLASS_NOT_COVERED": D("50.00"),
        "PAID_BY_SOCIAL_INSURANCE": D("60.00"),
        "DEDUCTIBLE": D("100.00"),
        "COINSURANCE": D("28.00"),
        "BENEFIT_PAID": D("112.00"),
    }
    assert not a.limited and a.zero_reason is None


def test_outpatient_without_social_insurance_pays_the_lower_ratio(book: RuleBook) -> None:
    # covered 300; no fund; deductible 100 -> 200; x 0.50 = 100
    a = _assess(make_facts(social_insurance=False), book)
    assert a.payable == D("100.00")
    assert _by_code(a)["COINSURANCE"] == D("100.00")


def test_deductible_already_partly_used_this_year(book: RuleBook) -> None:
    # 50 of the 100 used: 50 left; 300 - 50 = 250 x 0.8 = 200
    a = _assess(make_facts(deductible_used="50"), book)
    assert a.payable == D("200.00")
    assert _by_code(a)["DEDUCTIBLE"] == D("50.00")


def test_class_c_items_are_never_paid(book: RuleBook) -> None:
    a = _assess(make_facts(line_items=items(("进口药", "西药费", "丙", "800.00"))), book)
    assert a.payable == 0 and a.zero_reason == "NOTHING_COVERED"
    assert _by_code(a) == {"CLASS_NOT_COVERED": D("800.00")}


def test_below_the_deductible_nothing_is_paid(book: RuleBook) -> None:
    a = _assess(make_facts(line_items=items(("诊察费", "诊察费", "甲", "80.00"))), book)
    assert a.payable == 0 and a.zero_reason == "BELOW_DEDUCTIBLE"


def test_annual_limit_and_prior_payments(book: RuleBook) -> None:
    # terms give 160 (300-100)x0.8; only 50 of the 5000 limit is left after 4950 paid this year
    a = _assess(make_facts(sum_insured="5000", prior_paid="4950"), book)
    assert a.payable == D("50.00") and a.limited
    assert _by_code(a)["OVER_LIMIT"] == D("110.00")
    spent = _assess(make_facts(sum_insured="5000", prior_paid="5000"), book)
    assert spent.payable == 0 and spent.zero_reason == "OVER_LIMIT"


def test_per_day_limit_on_bed_fees(book: RuleBook) -> None:
    # 2026.1 caps 床位费 at 50 a day: 3 nights, 210 billed -> 150; covered 150 + 1000 = 1150
    # no social insurance: deductible 500 (per year) -> 650 x 0.60 = 390
    facts = make_facts(
        ClaimType.INPATIENT,
        days=3,
        social_insurance=False,
        sum_insured="100000",
        line_items=items(("床位费", "床位费", "甲", "210.00"), ("手术", "手术费", "甲", "1000.00")),
    )
    old, new = _assess(facts, book, "2025.1"), _assess(facts, book, "2026.1")
    assert old.payable == D("426.00")  # (1210 - 500) x 0.6
    assert new.payable == D("390.00")
    assert _by_code(new)["PER_DAY_LIMIT"] == D("60.00")


def test_accident_deductible_is_per_claim(book: RuleBook) -> None:
    # AM01: 100 per claim whatever was used this year; social insurance ratio 1.00
    facts = make_facts(ClaimType.ACCIDENT, deductible_used="100", diagnoses=["S61.0"])
    assert _assess(facts, book).payable == D("200.00")


def test_hospital_cash_per_night_with_a_cap_on_days(book: RuleBook) -> None:
    short = make_facts(ClaimType.INPATIENT, product_id="HCA01", days=10, sum_insured="36000")
    assert _assess(short, book).payable == D("2000.00")
    long = make_facts(ClaimType.INPATIENT, product_id="HCA01", days=40, sum_insured="36000")
    a = _assess(long, book)
    assert a.payable == D("6000.00")  # 30 days at most per claim
    assert _by_code(a)["DAYS_OVER_LIMIT"] == D("2000.00")


def test_hospital_cash_stops_at_the_days_of_a_year(book: RuleBook) -> None:
    # HCA01: 180 days a year at 200 whatever the sum insured: 170 days paid (34000) leave 10 days (2000)
    facts = make_facts(
        ClaimType.INPATIENT, product_id="HCA01", days=30, sum_insured="100000", prior_paid="34000"
    )
    a = _assess(facts, book)
    assert a.payable == D("2000.00") and a.limited
    assert _by_code(a)["OVER_LIMIT"] == D("4000.00")
    spent = make_facts(
        ClaimType.INPATIENT, product_id="HCA01", days=5, sum_insured="100000", prior_paid="36000"
    )
    assert _assess(spent, book).zero_reason == "OVER_LIMIT"


def test_critical_illness_pays_once(book: RuleBook) -> None:
    first = make_facts(ClaimType.CRITICAL_ILLNESS, diagnoses=["C34.9"], sum_insured="200000")
    assert _assess(first, book).payable == D("200000.00")
    again = make_facts(
        ClaimType.CRITICAL_ILLNESS, diagnoses=["C34.9"], sum_insured="200000", prior_paid="200000"
    )
    a = _assess(again, book)
    assert a.payable == 0 and a.zero_reason == "ALREADY_PAID"


def test_critical_illness_paid_in_an_earlier_year_pays_no_more(book: RuleBook) -> None:
    # nothing paid this policy year, the sum insured paid in an earlier one: once per life, not per year
    later = make_facts(
        ClaimType.CRITICAL_ILLNESS, diagnoses=["I21.0"], sum_insured="200000", prior_paid_total="200000"
    )
    assert later.policy is not None and later.policy.prior_paid_this_year == 0
    a = _assess(later, book)
    assert a.payable == 0 and a.zero_reason == "ALREADY_PAID"


def test_every_yuan_has_a_reason_code(book: RuleBook, synthetic_book: list[ClaimTruth]) -> None:
    checked = 0
    for truth in synthetic_book:
        facts = facts_from_truth(truth)
        if facts.policy is None or not facts.invoices:
            continue
        a = _assess(facts, book)
        if facts.policy.product_id != "HCA01":  # a daily allowance claims nights, not the bill
            items_total = sum((i.amount for inv in facts.invoices for i in inv.line_items), D(0))
            assert a.claimed == max(items_total, facts.total_claimed), truth.claim_id
        assert sum((ln.payable for ln in a.lines), D(0)) == a.payable
        assert all(ln.reason_code and ln.payable + ln.refused == ln.claimed for ln in a.lines)
        assert all(ln.payable == 0 for ln in a.lines if ln.reason_code != "BENEFIT_PAID")
        checked += 1
    assert checked > 300


@pytest.mark.parametrize("amount", ["0.01", "99.99", "100.01", "2999.99"])
def test_amounts_stay_decimal_to_the_cent(book: RuleBook, amount: str) -> None:
    a = _assess(make_facts(line_items=items(("诊察费", "诊察费", "甲", amount))), book)
    assert all(isinstance(ln.claimed, Decimal) and ln.claimed.as_tuple().exponent == -2 for ln in a.lines)
    expected = max(D(0), D(amount) - 100) * D("0.8")
    assert a.payable == expected.quantize(D("0.01"))


@pytest.mark.parametrize(
    ("fund", "account", "kind", "settled", "unknown"),
    [
        ("0", "0", "城镇职工基本医疗保险", True, False),  # settled through 医保, the fund paid nothing
        ("0", "0", "居民医保", True, False),
        ("0", "0", "省内异地", True, False),
        ("0", "0", "自费", False, False),
        ("0", "0", "非医保结算", False, False),
        ("0", "0", None, False, True),  # nothing on the bill shows how it was settled: a person verifies
        ("0", "0", "", False, True),
        ("0", "0", "自贲", False, True),  # 自费 misread: neither a scheme nor 自费, never taken as settled
        ("12.00", "0", None, True, False),
        ("0", "30.00", "自费", True, False),  # the personal account paid: settled whatever the type reads
    ],
)
def test_a_bill_is_settled_through_social_insurance_by_what_it_shows(
    fund: str, account: str, kind: str | None, settled: bool, unknown: bool
) -> None:
    bill = Invoice(total=D("100"), fund_paid=D(fund), account_paid=D(account), insurance_type=kind)
    assert settled_through_social_insurance(bill) is settled
    assert settlement_unknown(bill) is unknown

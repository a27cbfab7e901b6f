"""The expected-outcome arithmetic against examples computed by hand from the wordings
(adjudication/products/*.md), under the rule set in force on the incident date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from pipeline.records import ClaimType, Decision, DocType
from synth.amounts import amount_in_words
from synth.outcome import expected_outcome, fraud_signals
from synth.rulesets import RuleSetTerms, rule_set_on
from synth.truth import BillTruth, ExpectedOutcome, IncidentTruth, ItemTruth, PolicyTruth

DAY = dt.date(2025, 10, 10)
RULES = rule_set_on(DAY)
AMENDED = dt.date(2026, 5, 10)
"""Rule set 2026.1: OPM01 deductible 200 a year, IPM01 床位费 at most 50 a day, early claims 30 days."""
OUTPATIENT_DOCS = {
    DocType.OUTPATIENT_INVOICE,
    DocType.EXPENSE_LIST,
    DocType.CLAIM_FORM,
    DocType.ID_CARD,
    DocType.BANK_CARD,
}

CI_DOCS = {
    DocType.DIAGNOSIS_CERTIFICATE,
    DocType.DISCHARGE_SUMMARY,
    DocType.CLAIM_FORM,
    DocType.ID_CARD,
    DocType.BANK_CARD,
}


def _policy(
    product: str,
    effective: dt.date,
    *,
    social: bool = True,
    sum_insured: str = "10000",
    prior: str = "0",
    used: str = "0",
) -> PolicyTruth:
    return PolicyTruth(
        policy_number="P1",
        product_id=product,
        product_version="2025.1",
        policyholder="甲",
        insured="甲",
        insured_id_number="11010519491231002X",
        effective_date=effective,
        sum_insured=D(sum_insured),
        social_insurance=social,
        cumulative_annualised_premium=D("5000"),
        star_tier=1,
        prior_paid_this_year=D(prior),
        deductible_used_this_year=D(used),
    )


def _item(cls: str, amount: str, category: str = "西药费") -> ItemTruth:
    return ItemTruth(
        date=DAY,
        code="1",
        name="x",
        category=category,
        insurance_class=cls,
        unit="盒",
        quantity=D(1),
        unit_price=D(amount),
        amount=D(amount),
    )


def _bill(
    fund: str, *items: ItemTruth, kind: str = "城镇职工基本医疗保险", layout: str = "beijing"
) -> BillTruth:
    """A bill settled through social insurance unless `kind` (its 医保类型) says 自费."""
    total = sum((i.amount for i in items), D(0))
    return BillTruth(
        invoice_code="1",
        invoice_number="2",
        check_code="",
        electronic=False,
        layout=layout,
        issue_date=DAY,
        items=list(items),
        items_total=total,
        printed_total=total,
        printed_words=amount_in_words(total),
        fund_paid=D(fund),
        account_paid=D(0),
        cash_paid=total - D(fund),
        self_pay=D(0),
        insurance_type=kind,
    )


def _incident(claim_type: ClaimType, icd: str = "J06.9", days: int = 0, on: dt.date = DAY) -> IncidentTruth:
    return IncidentTruth(
        claim_type=claim_type,
        incident_date=on,
        hospital="某医院",
        hospital_grade="三级甲等",
        province_layout="beijing",
        department="内科",
        doctor="李",
        diagnoses=[(icd, "x")],
        admission_date=on if days else None,
        discharge_date=on + dt.timedelta(days=days) if days else None,
        hospital_number="MZ1",
        description="",
    )


def test_outpatient_reimbursement_by_hand() -> None:
    # OPM01: covered 甲+乙 = 300 + 200 = 500; 丙 100 not covered; social insurance paid 150 -> 350;
    # deductible 100 (none used) -> 250; ratio with social insurance 0.80 -> 200.00
    bill = _bill("150", _item("甲", "300"), _item("乙", "200"), _item("丙", "100"))
    e = expected_outcome(
        rules=RULES,
        policy=_policy("OPM01", DAY - dt.timedelta(days=400)),
        incident=_incident(ClaimType.OUTPATIENT),
        bills=[bill],
        document_types=OUTPATIENT_DOCS,
        fraud_patterns=[],
    )
    assert e.decision is Decision.APPROVE
    assert e.payable == D("200.00")
    assert sum(line.claimed for line in e.benefit_lines) == D("600.00")


def test_outpatient_without_social_insurance_and_over_limit() -> None:
    # no social insurance: 500 - 40 deductible left (60 used) = 460 x 0.50 = 230; limit left 5000 - 4900 = 100
    bill = _bill("150", _item("甲", "300"), _item("乙", "200"))
    e = expected_outcome(
        rules=RULES,
        policy=_policy(
            "OPM01", DAY - dt.timedelta(days=400), social=False, sum_insured="5000", prior="4900", used="60"
        ),
        incident=_incident(ClaimType.OUTPATIENT),
        bills=[bill],
        document_types=OUTPATIENT_DOCS,
        fraud_patterns=[],
    )
    assert e.decision is Decision.PARTIAL
    assert e.payable == D("100.00")
    assert e.reason_codes == ["OVER_LIMIT"]


def test_denials_and_requests() -> None:
    bill = _bill("0", _item("甲", "300"))
    waiting = expected_outcome(
        rules=RULES,
        policy=_policy("OPM01", DAY - dt.timedelta(days=10)),
        incident=_incident(ClaimType.OUTPATIENT),
        bills=[bill],
        document_types=OUTPATIENT_DOCS,
        fraud_patterns=[],
    )
    assert (waiting.decision, waiting.reason_codes) == (Decision.DENY, ["WAITING_PERIOD"])
    dental = expected_outcome(
        rules=RULES,
        policy=_policy("OPM01", DAY - dt.timedelta(days=400)),
        incident=_incident(ClaimType.OUTPATIENT, "K02.9"),
        bills=[bill],
        document_types=OUTPATIENT_DOCS,
        fraud_patterns=[],
    )
    assert (dental.decision, dental.reason_codes) == (Decision.DENY, ["EXCLUDED_DENTAL"])
    missing = expected_outcome(
        rules=RULES,
        policy=_policy("OPM01", DAY - dt.timedelta(days=400)),
        incident=_incident(ClaimType.OUTPATIENT),
        bills=[bill],
        document_types=OUTPATIENT_DOCS - {DocType.BANK_CARD},
        fraud_patterns=[],
    )
    assert missing.decision is Decision.REQUEST_INFO and missing.missing_documents == [DocType.BANK_CARD]
    refer = expected_outcome(
        rules=RULES,
        policy=_policy("OPM01", DAY - dt.timedelta(days=400)),
        incident=_incident(ClaimType.OUTPATIENT),
        bills=[bill],
        document_types=OUTPATIENT_DOCS,
        fraud_patterns=["shared_bank_account"],
    )
    assert refer.decision is Decision.REFER and refer.payable == 0 and refer.assessed == D("160.00")


def test_hospital_cash_and_critical_illness() -> None:
    docs = {
        DocType.INPATIENT_INVOICE,
        DocType.DISCHARGE_SUMMARY,
        DocType.CLAIM_FORM,
        DocType.ID_CARD,
        DocType.BANK_CARD,
    }
    # HCA01: 6 nights x 200.00 = 1200.00
    cash = expected_outcome(
        rules=RULES,
        policy=_policy("HCA01", DAY - dt.timedelta(days=400), sum_insured="36000"),
        incident=_incident(ClaimType.INPATIENT, "J18.9", days=6),
        bills=[],
        document_types=docs,
        fraud_patterns=[],
    )
    assert (cash.decision, cash.payable) == (Decision.APPROVE, D("1200.00"))
    ci = expected_outcome(
        rules=RULES,
        policy=_policy("CI01", DAY - dt.timedelta(days=100), sum_insured="300000"),
        incident=_incident(ClaimType.CRITICAL_ILLNESS, "C34.9", days=5),
        bills=[],
        document_types=CI_DOCS,
        fraud_patterns=[],
    )
    assert (ci.decision, ci.payable) == (Decision.APPROVE, D("300000.00"))
    early = expected_outcome(
        rules=RULES,
        policy=_policy("CI01", DAY - dt.timedelta(days=60), sum_insured="300000"),
        incident=_incident(ClaimType.CRITICAL_ILLNESS, "C34.9", days=5),
        bills=[],
        document_types=CI_DOCS,
        fraud_patterns=[],
    )
    assert early.reason_codes == ["WAITING_PERIOD"]
    benign = expected_outcome(
        rules=RULES,
        policy=_policy("CI01", DAY - dt.timedelta(days=400), sum_insured="300000"),
        incident=_incident(ClaimType.CRITICAL_ILLNESS, "D24", days=5),
        bills=[],
        document_types=CI_DOCS,
        fraud_patterns=[],
    )
    assert benign.reason_codes == ["NOT_COVERED_CONDITION"]


def test_products_have_version_and_dates() -> None:
    for product in RULES.products.values():
        assert product.version and product.effective_from <= dt.date(2026, 1, 1)
        assert product.required_documents


INPATIENT_DOCS = {
    DocType.INPATIENT_INVOICE,
    DocType.EXPENSE_LIST,
    DocType.DISCHARGE_SUMMARY,
    DocType.CLAIM_FORM,
    DocType.ID_CARD,
    DocType.BANK_CARD,
}


def _stay(on: dt.date, days: int, fund: str, *items: ItemTruth, known: bool = True) -> ExpectedOutcome:
    stay = {"admission_date": on, "discharge_date": on + dt.timedelta(days=days)}
    if not known:  # the stay's dates were not read
        stay = {"admission_date": None, "discharge_date": None}
    incident = _incident(ClaimType.INPATIENT, "J18.9", on=on).model_copy(update=stay)
    return expected_outcome(
        rules=rule_set_on(on),
        policy=_policy("IPM01", on - dt.timedelta(days=400), sum_insured="200000"),
        incident=incident,
        bills=[_bill(fund, *items)],
        document_types=INPATIENT_DOCS,
        fraud_patterns=[],
    )


def test_outpatient_deductible_of_2026_counts_what_the_year_already_used() -> None:
    # OPM01 第四条(二): from 2026-04-01 the yearly deductible is 200, what the year used counts:
    # 100 used -> 100 left; 甲乙 500 - 100 = 400 x 80% = 320.00 (under 2025.1 nothing left: 400.00)
    bill = _bill("0", _item("甲", "300"), _item("乙", "200"))
    after, before = (
        expected_outcome(
            rules=rule_set_on(on),
            policy=_policy("OPM01", on - dt.timedelta(days=400), used="100"),
            incident=_incident(ClaimType.OUTPATIENT, on=on),
            bills=[bill],
            document_types=OUTPATIENT_DOCS,
            fraud_patterns=[],
        )
        for on in (AMENDED, DAY)
    )
    assert (after.rule_set, after.payable) == ("2026.1", D("320.00"))
    assert (before.rule_set, before.payable) == ("2025.1", D("400.00"))


def test_bed_fee_is_capped_per_hospital_day_from_2026_04_01() -> None:
    # IPM01 第四条(四), the wording's own figures (golden IPM-002): 床位费 400 over 50 x 5 days = 250
    # refuses 150; 甲乙 4850 - 统筹 2000 - 免赔 500 = 2350.00
    items = (
        _item("甲", "400", "床位费"),
        _item("乙", "3000"),
        _item("甲", "1600", "检查费"),
        _item("丙", "500"),
    )
    capped = _stay(AMENDED, 5, "2000", *items)
    assert (capped.decision, capped.payable) == (Decision.APPROVE, D("2350.00"))
    limit = next(line for line in capped.benefit_lines if line.reason_code == "PER_DAY_LIMIT")
    assert limit.refused == D("150.00")
    assert sum(line.claimed for line in capped.benefit_lines) == D("5500.00")
    # admitted 2026-03-31 (2025.1): no per-day limit, whenever the stay ends: 5000 - 2000 - 500 = 2500.00
    straddling = _stay(dt.date(2026, 3, 31), 5, "2000", *items)
    assert (straddling.rule_set, straddling.payable) == ("2025.1", D("2500.00"))


def test_a_same_day_stay_counts_one_day_and_unknown_days_go_to_a_person() -> None:
    # 当日入院当日出院的按1天计算: 床位费 80 over 50 x 1 refuses 30; 甲 80 + 600 - 30 = 650 - 500 = 150.00
    same_day = _stay(AMENDED, 0, "0", _item("甲", "80", "床位费"), _item("甲", "600", "检查费"))
    assert same_day.payable == D("150.00")
    # the stay's length unknown and the cap binding on one day: a person counts the days (refer)
    unknown = _stay(AMENDED, 3, "0", _item("甲", "120", "床位费"), _item("甲", "600", "检查费"), known=False)
    assert (unknown.decision, unknown.reason_codes) == (Decision.REFER, ["DAYS_UNKNOWN"])
    assert unknown.payable == 0 and unknown.assessed == D("150.00")
    # unknown length, but the bed fee within one day's cap: nothing for a person to count
    within = _stay(AMENDED, 3, "0", _item("甲", "40", "床位费"), _item("甲", "600", "检查费"), known=False)
    assert (within.decision, within.payable) == (Decision.APPROVE, D("140.00"))


def test_early_claims_are_looked_at_for_the_window_of_the_rule_set_in_force() -> None:
    # IPM01 waiting 30 days; 20 days after it ends: inside 2026.1's 30-day window, outside 2025.1's 15
    from synth.outcome import fraud_signals

    for on, expected in ((AMENDED, ["soon_after_inception"]), (DAY, [])):
        policy = _policy("IPM01", on - dt.timedelta(days=50))
        incident = _incident(ClaimType.INPATIENT, "J18.9", days=3, on=on)
        assert fraud_signals([], incident, policy, rule_set_on(on), set()) == expected


def test_allowance_days_a_year_and_a_lump_sum_paid_once() -> None:
    docs = {DocType.INPATIENT_INVOICE, DocType.DISCHARGE_SUMMARY, DocType.CLAIM_FORM, DocType.ID_CARD}
    docs |= {DocType.BANK_CARD}
    # HCA01: 180 days x 200 = 36000 a year; 35600 paid leaves 400 of 6 x 200 = 1200: partial 400.00
    cash = expected_outcome(
        rules=RULES,
        policy=_policy("HCA01", DAY - dt.timedelta(days=400), sum_insured="50000", prior="35600"),
        incident=_incident(ClaimType.INPATIENT, "J18.9", days=6),
        bills=[],
        document_types=docs,
        fraud_patterns=[],
    )
    assert (cash.decision, cash.payable) == (Decision.PARTIAL, D("400.00"))
    # CI01 第四条: 仅给付一次, a policy that has paid pays nothing more
    CI_DOCS = {DocType.DIAGNOSIS_CERTIFICATE, DocType.DISCHARGE_SUMMARY, DocType.CLAIM_FORM}
    CI_DOCS |= {DocType.ID_CARD, DocType.BANK_CARD}
    again = expected_outcome(
        rules=RULES,
        policy=_policy("CI01", DAY - dt.timedelta(days=400), sum_insured="300000", prior="1000"),
        incident=_incident(ClaimType.CRITICAL_ILLNESS, "C34.9", days=5),
        bills=[],
        document_types=CI_DOCS,
        fraud_patterns=[],
    )
    assert (again.decision, again.reason_codes) == (Decision.DENY, ["ALREADY_PAID"])


def test_an_excluded_fee_category_is_refused_whatever_its_class() -> None:
    opm = RULES.products["OPM01"]
    benefit = opm.benefits[0].model_copy(update={"excluded_categories": ["材料费"]})
    rules = RuleSetTerms(
        version="test",
        effective_from=DAY,
        early_claim_days=15,
        watched_providers=(),
        products={"OPM01": opm.model_copy(update={"benefits": [benefit]})},
    )
    # 材料费 200 refused; 甲 300 - 100 deductible = 200 x 80% = 160.00
    e = expected_outcome(
        rules=rules,
        policy=_policy("OPM01", DAY - dt.timedelta(days=400)),
        incident=_incident(ClaimType.OUTPATIENT),
        bills=[_bill("0", _item("甲", "300"), _item("甲", "200", "材料费"))],
        document_types=OUTPATIENT_DOCS,
        fraud_patterns=[],
    )
    assert e.payable == D("160.00")
    assert e.benefit_lines[0].reason_code == "CATEGORY_NOT_COVERED"


def test_an_injury_of_any_type_has_no_waiting_period_nor_early_claim_check() -> None:
    # 意外伤害所致 = principal diagnosis S00-T98: no waiting period, no 既往症 check (soon_after_inception)
    docs = {DocType.INPATIENT_INVOICE, DocType.DISCHARGE_SUMMARY, DocType.CLAIM_FORM, DocType.ID_CARD}
    docs |= {DocType.BANK_CARD}
    fracture = _incident(ClaimType.INPATIENT, "S82.6", days=5)
    new = _policy("HCA01", DAY - dt.timedelta(days=3), sum_insured="36000")
    cash = expected_outcome(
        rules=RULES, policy=new, incident=fracture, bills=[], document_types=docs, fraud_patterns=[]
    )
    assert (cash.decision, cash.payable) == (Decision.APPROVE, D("1000.00"))
    after = _policy("HCA01", DAY - dt.timedelta(days=35), sum_insured="36000")  # 5 days after the waiting
    assert fraud_signals([], fracture, after, RULES, set()) == []
    flu = _incident(ClaimType.INPATIENT, "J18.9", days=5)
    assert fraud_signals([], flu, after, RULES, set()) == ["soon_after_inception"]
    # a disease as principal diagnosis with an injury only second still waits
    both = flu.model_copy(update={"diagnoses": [("J18.9", "肺炎"), ("S22.3", "肋骨骨折")]})
    ill = expected_outcome(
        rules=RULES, policy=new, incident=both, bills=[], document_types=docs, fraud_patterns=[]
    )
    assert ill.reason_codes == ["WAITING_PERIOD"]
    # a critical illness an injury caused (S06 head injury -> I61 cerebral haemorrhage), inside 90 days
    CI_DOCS = {DocType.DIAGNOSIS_CERTIFICATE, DocType.DISCHARGE_SUMMARY, DocType.CLAIM_FORM, DocType.ID_CARD}
    CI_DOCS |= {DocType.BANK_CARD}
    head = _incident(ClaimType.CRITICAL_ILLNESS, "S06.3", days=5)
    head = head.model_copy(update={"diagnoses": [("S06.3", "局灶性脑损伤"), ("I61.9", "脑出血")]})
    ci = expected_outcome(
        rules=RULES,
        policy=_policy("CI01", DAY - dt.timedelta(days=20), sum_insured="100000"),
        incident=head,
        bills=[],
        document_types=CI_DOCS,
        fraud_patterns=[],
    )
    assert (ci.decision, ci.payable) == (Decision.APPROVE, D("100000.00"))


def _paid(bills: list[BillTruth], product: str = "OPM01", social: bool = True) -> D:
    e = expected_outcome(
        rules=RULES,
        policy=_policy(product, DAY - dt.timedelta(days=400), social=social),
        incident=_incident(ClaimType.OUTPATIENT),
        bills=bills,
        document_types=OUTPATIENT_DOCS,
        fraud_patterns=[],
    )
    return e.payable


def test_the_ratio_follows_how_each_bill_was_settled() -> None:
    # OPM01 第四条（三）: 300 covered - deductible 100 = 200; settled through 医保 80% (even when the fund
    # paid nothing), settled as 自费 50%, not enrolled 50% whatever the bill says
    covered = (_item("甲", "100"), _item("乙", "200"))
    assert _paid([_bill("0", *covered)]) == D("160.00")
    assert _paid([_bill("0", *covered, kind="自费")]) == D("100.00")
    assert _paid([_bill("0", *covered)], social=False) == D("100.00")
    # a layout printing no 医保类型 (重庆): only the fund or the personal account shows the settlement;
    # with neither, how it was settled is verified by a person before any ratio is paid
    unknown = expected_outcome(
        rules=RULES,
        policy=_policy("OPM01", DAY - dt.timedelta(days=400)),
        incident=_incident(ClaimType.OUTPATIENT),
        bills=[_bill("0", *covered, layout="chongqing")],
        document_types=OUTPATIENT_DOCS,
        fraud_patterns=[],
    )
    assert (unknown.decision, unknown.reason_codes) == (Decision.REFER, ["SETTLEMENT_UNKNOWN"])
    assert unknown.assessed == D("100.00")
    assert _paid([_bill("0", *covered, layout="chongqing")], social=False) == D("100.00")  # not enrolled
    assert _paid([_bill("20", *covered, layout="chongqing")]) == D("144.00")  # (300-20-100) x 80%


def test_two_bills_one_settled_the_deductible_falls_on_the_unsettled_first() -> None:
    # 自费 bill 200 covered: deductible 100 first -> 100 x 50% = 50; settled bill 300 - fund 60 = 240 x 80%
    settled = _bill("60", _item("甲", "100"), _item("乙", "200"))
    not_settled = _bill("0", _item("甲", "50"), _item("乙", "150"), kind="自费")
    assert _paid([settled, not_settled]) == D("242.00")


def test_an_accident_treated_in_hospital_needs_the_documents_of_a_stay() -> None:
    # AM01 第七条: 住院 brings the inpatient invoice and discharge summary (no outpatient invoice, no
    # diagnosis certificate); 甲 2000 - 每次免赔额 100 = 1900 x 100% = 1900.00 once they are all in
    policy = _policy("AM01", DAY - dt.timedelta(days=400))
    bill = _bill("0", _item("甲", "2000", "手术费"))
    visit_docs = OUTPATIENT_DOCS | {DocType.DIAGNOSIS_CERTIFICATE}

    def outcome(days: int, docs: set[DocType]) -> ExpectedOutcome:
        incident = _incident(ClaimType.ACCIDENT, "S52.5", days=days)
        return expected_outcome(
            rules=RULES,
            policy=policy,
            incident=incident,
            bills=[bill],
            document_types=docs,
            fraud_patterns=[],
        )

    asked = outcome(4, visit_docs)
    assert asked.decision is Decision.REQUEST_INFO
    assert asked.missing_documents == [DocType.INPATIENT_INVOICE, DocType.DISCHARGE_SUMMARY]
    assert (outcome(4, INPATIENT_DOCS).decision, outcome(4, INPATIENT_DOCS).payable) == (
        Decision.APPROVE,
        D("1900.00"),
    )
    assert outcome(0, visit_docs).payable == D("1900.00")
    assert outcome(0, INPATIENT_DOCS).missing_documents == [
        DocType.OUTPATIENT_INVOICE,
        DocType.DIAGNOSIS_CERTIFICATE,
    ]


def test_critical_illness_paid_in_an_earlier_year_pays_no_more() -> None:
    # CI01 第四条: paid once over the contract's life; nothing this year, the sum insured in an earlier one
    policy = _policy("CI01", DAY - dt.timedelta(days=800), sum_insured="300000")
    paid_before = policy.model_copy(update={"prior_paid_total": D("300000")})
    first, again = (
        expected_outcome(
            rules=RULES,
            policy=p,
            incident=_incident(ClaimType.CRITICAL_ILLNESS, "C34.1", days=5),
            bills=[],
            document_types=CI_DOCS,
            fraud_patterns=[],
        )
        for p in (policy, paid_before)
    )
    assert (first.decision, first.payable) == (Decision.APPROVE, D("300000.00"))
    assert (again.decision, again.reason_codes) == (Decision.DENY, ["ALREADY_PAID"])


def test_cover_ends_at_24_00_of_the_expiry_date() -> None:
    bill = _bill("0", _item("甲", "300"))

    def decide(
        expiry: dt.date | None, effective: dt.date = DAY - dt.timedelta(days=400)
    ) -> tuple[Decision, list[str]]:
        policy = _policy("OPM01", effective).model_copy(update={"expiry_date": expiry})
        e = expected_outcome(
            rules=RULES,
            policy=policy,
            incident=_incident(ClaimType.OUTPATIENT),
            bills=[bill],
            document_types=OUTPATIENT_DOCS,
            fraud_patterns=[],
        )
        return e.decision, e.reason_codes

    assert decide(DAY)[0] is Decision.APPROVE  # the expiry date itself is covered
    assert decide(None)[0] is Decision.APPROVE  # not stated: open cover
    assert decide(DAY - dt.timedelta(days=1)) == (Decision.DENY, ["NOT_IN_FORCE"])
    assert decide(DAY + dt.timedelta(days=300), effective=DAY + dt.timedelta(days=1)) == (
        Decision.DENY,
        ["NOT_IN_FORCE"],
    )

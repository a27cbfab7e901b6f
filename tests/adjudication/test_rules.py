"""Rule sets: version by incident date, each rule's verdict, amendments, history-based duplicates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from helpers.facts import INCIDENT, make_facts

from adjudication.history import MemoryInvoiceHistory
from adjudication.rules import RuleBook, evaluate, load_rule_book
from adjudication.terms import INJURY, PRODUCTS_DIR, caused_by_injury, load_products
from pipeline.errors import BadInputError, ClaimsError
from pipeline.records import Check, ClaimFacts, ClaimType, DocType


def test_version_in_force_on_the_incident_date(book: RuleBook) -> None:
    assert book.versions == ["2025.1", "2026.1"]
    assert book.for_date(dt.date(2025, 9, 1)).version == "2025.1"
    assert book.for_date(dt.date(2026, 3, 31)).version == "2025.1"
    assert book.for_date(dt.date(2026, 4, 1)).version == "2026.1"
    assert book.for_date(dt.date(2030, 1, 1)).version == "2026.1"
    assert book.for_date(dt.date(2020, 1, 1)).version == "2025.1"  # before every version: the first
    with pytest.raises(ClaimsError, match=r"2099\.1"):
        book.get("2099.1")


def test_amendments_change_the_terms_of_a_version_only(book: RuleBook) -> None:
    facts = make_facts()
    assert facts.policy is not None
    old = book.get("2025.1").terms_for(facts.policy, INCIDENT)
    new = book.get("2026.1").terms_for(facts.policy, INCIDENT)
    assert old is not None and new is not None
    assert old.benefits[0].deductible == Decimal("100.00")
    assert new.benefits[0].deductible == Decimal("200.00")
    assert book.get("2026.1").parameters.early_claim_days == 30


def test_a_rule_without_code_is_refused(tmp_path: Path) -> None:
    (tmp_path / "9.yaml").write_text(
        "version: '9'\neffective_from: 2025-01-01\nrules:\n"
        "  - {id: no_such_rule, code: X, action: deny, zh: x, en: x}\n",
        encoding="utf-8",
    )
    with pytest.raises(BadInputError, match="no_such_rule"):
        load_rule_book(tmp_path, PRODUCTS_DIR)


def test_a_rule_set_with_its_own_pay_limit_is_told_where_it_moved(tmp_path: Path) -> None:
    (tmp_path / "9.yaml").write_text(
        "version: '9'\neffective_from: 2025-01-01\nparameters: {auto_pay_limit: '200000.00'}\n"
        "rules:\n  - {id: policy_found, code: POLICY_NOT_FOUND, action: refer, zh: x, en: x}\n",
        encoding="utf-8",
    )
    with pytest.raises(BadInputError, match=r"(?s)9\.yaml.*Settings\.authority"):
        load_rule_book(tmp_path, PRODUCTS_DIR)


def _failed(
    facts: ClaimFacts, book: RuleBook, history: MemoryInvoiceHistory | None = None
) -> dict[str, bool]:
    ev = evaluate(facts, book.for_date(facts.claim.incident_date), history)
    return {h.code: h.fatal for h in ev.hits if not h.passed}


def test_a_clean_claim_passes_every_rule(book: RuleBook) -> None:
    facts = make_facts()
    ev = evaluate(facts, book.get("2025.1"), MemoryInvoiceHistory([facts]))
    assert ev.hits and all(h.passed for h in ev.hits), [h for h in ev.hits if not h.passed]
    assert {h.rule_id for h in ev.hits} >= {
        "policy_in_force",
        "waiting_period",
        "exclusion",
        "duplicate_invoice",
    }


def _no_policy() -> ClaimFacts:
    return make_facts().model_copy(update={"policy": None})


def _unknown_product() -> ClaimFacts:
    f = make_facts()
    assert f.policy is not None
    return f.model_copy(update={"policy": f.policy.model_copy(update={"product_id": "ZZ99"})})


def _with(**update: object) -> ClaimFacts:
    return make_facts().model_copy(update=update)


CASES = [
    # (what, facts, code, fatal)
    ("policy not found", _no_policy, "POLICY_NOT_FOUND", False),
    ("product unknown", _unknown_product, "PRODUCT_UNKNOWN", False),
    (
        "insured differs",
        lambda: _with(claim=make_facts().claim.model_copy(update={"insured": "李四"})),
        "INSURED_MISMATCH",
        False,
    ),
    (
        "claim type not covered",
        lambda: make_facts(ClaimType.INPATIENT, product_id="OPM01", days=3),
        "CLAIM_TYPE_NOT_COVERED",
        True,
    ),
    ("before inception", lambda: make_facts(effective=INCIDENT + dt.timedelta(days=1)), "NOT_IN_FORCE", True),
    ("after expiry", lambda: make_facts(expiry_date=INCIDENT - dt.timedelta(days=1)), "NOT_IN_FORCE", True),
    (
        "missing documents",
        lambda: make_facts(documents=[DocType.OUTPATIENT_INVOICE, DocType.CLAIM_FORM]),
        "MISSING_DOCUMENT",
        False,
    ),
    ("no diagnosis", lambda: make_facts(diagnoses=[]), "NO_DIAGNOSIS", False),
    (
        "waiting period",
        lambda: make_facts(effective=INCIDENT - dt.timedelta(days=29)),
        "WAITING_PERIOD",
        True,
    ),
    ("dental exclusion", lambda: make_facts(diagnoses=["K02.9"]), "EXCLUDED_DENTAL", True),
    (
        "secondary exclusion is informative",
        lambda: make_facts(diagnoses=["J06.9", "F10.2"]),
        "SECONDARY_DIAGNOSIS_EXCLUDED",
        False,
    ),
    (
        "not a covered condition",
        lambda: make_facts(ClaimType.CRITICAL_ILLNESS, diagnoses=["D24"], sum_insured="100000"),
        "NOT_COVERED_CONDITION",
        True,
    ),
    (
        "failed extraction check",
        lambda: _with(failed_checks=[Check(name="items_sum_to_total", passed=False, message="x")]),
        "INVOICE_ITEMS_MISMATCH",
        False,
    ),
    (
        "the QR code of an e-bill disagrees with its print",
        lambda: _with(failed_checks=[Check(name="qr_mismatch", passed=False, message="x")]),
        "QR_MISMATCH",
        False,
    ),
    (
        "several bills pasted on one page",
        lambda: _with(failed_checks=[Check(name="multiple_documents", passed=False, message="x")]),
        "MULTIPLE_DOCUMENTS",
        False,
    ),
    ("payee is not the claimant", lambda: make_facts(payee="王五"), "PAYEE_NOT_CLAIMANT", False),
    (
        "claim right after the waiting period",
        lambda: make_facts(effective=INCIDENT - dt.timedelta(days=35)),
        "EARLY_CLAIM",
        False,
    ),
    ("watched provider", lambda: make_facts(hospital="康泰综合门诊部"), "PROVIDER_WATCHLIST", False),
    (
        "annual limit used up",
        lambda: make_facts(sum_insured="5000", prior_paid="5000"),
        "LIMIT_EXHAUSTED",
        False,
    ),
    (
        "low-confidence reading",
        lambda: _with(low_confidence_fields=["total"]),
        "LOW_CONFIDENCE_FIELDS",
        False,
    ),
    (
        "amount claimed differs",
        lambda: _with(claim=make_facts().claim.model_copy(update={"amount_claimed": Decimal("999.00")})),
        "AMOUNT_DIFFERS",
        False,
    ),
]


@pytest.mark.parametrize(("what", "build", "code", "fatal"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_fails_with_its_code_and_verdict(
    book: RuleBook, what: str, build: object, code: str, fatal: bool
) -> None:
    failed = _failed(build(), book)  # type: ignore[operator]
    assert code in failed, f"{what}: {failed}"
    assert failed[code] is fatal


def test_accidents_have_no_waiting_period(book: RuleBook) -> None:
    facts = make_facts(
        ClaimType.ACCIDENT,
        effective=INCIDENT - dt.timedelta(days=2),
        diagnoses=["S61.0"],
        documents=[
            DocType.OUTPATIENT_INVOICE,
            DocType.EXPENSE_LIST,
            DocType.DIAGNOSIS_CERTIFICATE,
            DocType.CLAIM_FORM,
            DocType.ID_CARD,
            DocType.BANK_CARD,
        ],
    )
    assert _failed(facts, book) == {}


@pytest.mark.parametrize(
    ("what", "days", "documents", "missing"),
    [
        ("a visit asks the outpatient invoice", 0, [], [DocType.OUTPATIENT_INVOICE]),
        ("a stay by its dates", 3, [], [DocType.INPATIENT_INVOICE, DocType.DISCHARGE_SUMMARY]),
        ("a stay by its inpatient invoice", 0, [DocType.INPATIENT_INVOICE], [DocType.DISCHARGE_SUMMARY]),
        ("a stay by its discharge summary", 0, [DocType.DISCHARGE_SUMMARY], [DocType.INPATIENT_INVOICE]),
    ],
)
def test_an_accident_asks_the_documents_of_its_treatment(
    book: RuleBook, what: str, days: int, documents: list[DocType], missing: list[DocType]
) -> None:
    common = [DocType.EXPENSE_LIST, DocType.DIAGNOSIS_CERTIFICATE, DocType.CLAIM_FORM, DocType.ID_CARD]
    facts = make_facts(
        ClaimType.ACCIDENT, diagnoses=["S52.5"], days=days, documents=[*documents, *common, DocType.BANK_CARD]
    )
    ev = evaluate(facts, book.get("2025.1"))
    assert ev.missing_documents == missing, what


def test_an_unreadable_inpatient_invoice_still_shows_a_stay(book: RuleBook) -> None:
    docs = [DocType.EXPENSE_LIST, DocType.DISCHARGE_SUMMARY, DocType.CLAIM_FORM, DocType.ID_CARD]
    facts = make_facts(ClaimType.ACCIDENT, diagnoses=["S52.5"], documents=[*docs, DocType.BANK_CARD])
    facts = facts.model_copy(update={"illegible_documents": [DocType.INPATIENT_INVOICE]})
    ev = evaluate(facts, book.get("2025.1"))
    assert ev.missing_documents == [DocType.INPATIENT_INVOICE]


def test_rule_messages_are_bilingual(book: RuleBook) -> None:
    ev = evaluate(make_facts(effective=INCIDENT - dt.timedelta(days=10)), book.get("2025.1"))
    hit = next(h for h in ev.hits if h.code == "WAITING_PERIOD")
    assert "等待期" in hit.message and "waiting period" in hit.message


def test_duplicate_invoice_only_flags_the_later_claim(book: RuleBook) -> None:
    first = make_facts(claim_id="A")
    again = make_facts(claim_id="B", submitted=first.claim.submitted_at + dt.timedelta(days=20))
    history = MemoryInvoiceHistory([first, again])
    assert "DUPLICATE_INVOICE" not in _failed(first, book, history)
    assert _failed(again, book, history)["DUPLICATE_INVOICE"] is True


def test_same_hospital_date_and_amount_is_a_duplicate(book: RuleBook) -> None:
    first = make_facts(claim_id="A", invoice_number="111")
    again = make_facts(
        claim_id="B", invoice_number="222", submitted=first.claim.submitted_at + dt.timedelta(days=1)
    )
    history = MemoryInvoiceHistory([first, again])
    assert _failed(again, book, history)["DUPLICATE_INVOICE"] is True


def test_shared_account_across_claimants_is_referred(book: RuleBook) -> None:
    mine = make_facts(claim_id="A", invoice_number="1")
    theirs = make_facts(
        claim_id="B", invoice_number="2", claimant_id="110105194912310021", hospital="北京协和医院"
    )
    history = MemoryInvoiceHistory([mine, theirs])
    assert _failed(mine, book, history)["SHARED_PAYEE_ACCOUNT"] is False
    alone = MemoryInvoiceHistory(
        [mine, make_facts(claim_id="C", invoice_number="3", hospital="北京协和医院")]
    )
    assert "SHARED_PAYEE_ACCOUNT" not in _failed(mine, book, alone)  # same claimant: not shared


def test_waiting_period_ends_on_its_last_day(book: RuleBook) -> None:
    # OPM01: 30 days; cover from 1 Aug 2025 -> an illness on 31 Aug is covered, on 30 Aug it is not
    start = INCIDENT - dt.timedelta(days=31)
    assert "WAITING_PERIOD" not in _failed(
        make_facts(effective=start, incident=INCIDENT - dt.timedelta(days=1)), book
    )
    assert "WAITING_PERIOD" in _failed(
        make_facts(effective=start, incident=INCIDENT - dt.timedelta(days=2)), book
    )


def test_reinstatement_restarts_the_waiting_period(book: RuleBook) -> None:
    facts = make_facts(reinstated_at=INCIDENT - dt.timedelta(days=10))
    assert _failed(facts, book)["WAITING_PERIOD"] is True


def test_waiting_period_message_names_its_last_day_and_the_first_covered_day(book: RuleBook) -> None:
    # OPM01: 30 days, the cover start is day 1: from 2025-08-20 the last day is 09-18, covered from 09-19
    ev = evaluate(make_facts(effective=dt.date(2025, 8, 20)), book.get("2025.1"))
    hit = next(h for h in ev.hits if h.code == "WAITING_PERIOD")
    assert "等待期至2025-09-18止，2025-09-19起承担保险责任" in hit.message
    assert "its last day 2025-09-18; covered from 2025-09-19" in hit.message
    # and the engine agrees with what it says: 09-18 waits, 09-19 is covered
    on_last = make_facts(effective=dt.date(2025, 8, 20), incident=dt.date(2025, 9, 18))
    assert "WAITING_PERIOD" in _failed(on_last, book)
    on_first = make_facts(effective=dt.date(2025, 8, 20), incident=dt.date(2025, 9, 19))
    assert "WAITING_PERIOD" not in _failed(on_first, book)


def test_not_in_force_names_the_inception_or_the_reinstatement(book: RuleBook) -> None:
    before = evaluate(make_facts(effective=INCIDENT + dt.timedelta(days=1)), book.get("2025.1"))
    hit = next(h for h in before.hits if not h.passed)
    assert hit.code == "NOT_IN_FORCE" and "早于保单生效日2025-09-02" in hit.message
    assert "WAITING_PERIOD" not in {h.code for h in before.hits if not h.passed}  # one reason, not two
    lapsed = make_facts(reinstated_at=INCIDENT + dt.timedelta(days=4), diagnoses=["S61.0"])
    assert _failed(lapsed, book) == {"NOT_IN_FORCE": True}
    ev = evaluate(lapsed, book.get("2025.1"))
    assert "早于保单复效日2025-09-05" in next(h.message for h in ev.hits if not h.passed)


def test_injury_has_no_waiting_period_whatever_the_claim_type(book: RuleBook) -> None:
    # 意外伤害所致: the principal diagnosis S00-T98; not the claim type
    new = INCIDENT - dt.timedelta(days=5)
    assert _failed(make_facts(effective=new, diagnoses=["S61.0"]), book) == {}
    stay = make_facts(ClaimType.INPATIENT, effective=new, diagnoses=["S82.6"], days=3)
    assert "WAITING_PERIOD" not in _failed(stay, book)
    cash = make_facts(ClaimType.INPATIENT, product_id="HCA01", effective=new, diagnoses=["T14.0"], days=3)
    assert "WAITING_PERIOD" not in _failed(cash, book)
    ci = make_facts(ClaimType.CRITICAL_ILLNESS, effective=new, diagnoses=["S06.3", "I61.9"])
    assert "WAITING_PERIOD" not in _failed(ci, book)
    # a disease first, an injury second: still waits
    assert "WAITING_PERIOD" in _failed(make_facts(effective=new, diagnoses=["J06.9", "S61.0"]), book)


def test_early_claim_is_not_raised_for_an_injury(book: RuleBook) -> None:
    # 5 days after the 30-day waiting period: a disease is checked for 既往症, an injury cannot be one
    start = INCIDENT - dt.timedelta(days=35)
    assert "EARLY_CLAIM" in _failed(make_facts(effective=start), book)
    assert "EARLY_CLAIM" not in _failed(make_facts(effective=start, diagnoses=["S93.4"]), book)


def test_injury_is_the_range_accident_medical_covers() -> None:
    am01 = next(p for p in load_products() if p.product_id == "AM01")
    assert [(r.start, r.end) for r in am01.covered_conditions] == [(INJURY.start, INJURY.end)]
    assert caused_by_injury(["T98.3"]) and caused_by_injury(["s00.0"])
    assert (
        not caused_by_injury(["J06.9", "S61.0"])
        and not caused_by_injury([])
        and not caused_by_injury(["X78"])
    )


def test_cover_ends_at_the_end_of_the_expiry_date_and_the_message_names_it(book: RuleBook) -> None:
    assert "NOT_IN_FORCE" not in _failed(make_facts(expiry_date=INCIDENT), book)  # 24:00 of that day
    assert "NOT_IN_FORCE" not in _failed(make_facts(expiry_date=None), book)  # not stated: open cover
    ev = evaluate(make_facts(expiry_date=dt.date(2025, 8, 31)), book.get("2025.1"))
    hit = next(h for h in ev.hits if h.code == "NOT_IN_FORCE")
    assert hit.message == (
        "出险日期2025-09-01晚于保险期间届满日2025-08-31，不在保险期间内"
        " / incident on 2025-09-01 is after the insurance period ended on 2025-08-31"
    )
    ev = evaluate(
        make_facts(effective=dt.date(2025, 9, 2), expiry_date=dt.date(2026, 9, 1)), book.get("2025.1")
    )
    hit = next(h for h in ev.hits if h.code == "NOT_IN_FORCE")
    assert "早于保单生效日2025-09-02" in hit.message and "took effect on 2025-09-02" in hit.message

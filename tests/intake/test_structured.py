"""A hospital's structured submission (医疗信息直连): the same fields and checks as OCR'd papers, the
same facts, and direct settlement to the hospital (医疗直付) only where the product allows it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from helpers import money
from intake_api import Api
from intake_files import (
    ACCIDENT_POLICY,
    HOSPITAL,
    HOSPITAL_ACCOUNT,
    OUTPATIENT_POLICY,
    PATIENT,
    hospital_submission,
)

from adjudication.decide import decide
from adjudication.rules import load_rule_book
from flows import steps
from intake.schemas import HospitalSubmission
from intake.structured import submission_parts
from pipeline.extract import expense_list, invoice, medical
from pipeline.extract.checks import luhn_valid
from pipeline.extract.facts import assemble_facts
from pipeline.records import (
    Claim,
    ClaimFacts,
    ClaimType,
    DirectSettlement,
    DocType,
    Extraction,
    Outcome,
    Policy,
    Route,
)
from pipeline.settings import Settings
from pipeline.stages import Stage

NOW = dt.datetime(2025, 6, 3, 10, 0, tzinfo=dt.UTC)


def policy(product: str = "OPM01", number: str = OUTPATIENT_POLICY) -> Policy:
    return Policy(
        policy_number=number,
        product_id=product,
        product_version="2025.1",
        policyholder=PATIENT,
        insured=PATIENT,
        insured_id_number="110108197903055584",
        effective_date=dt.date(2020, 1, 1),
        sum_insured=Decimal("20000.00"),
        social_insurance=True,
        cumulative_annualised_premium=Decimal("38781.18"),
        star_tier=3,
        deductible_used_this_year=Decimal("100.00"),
    )


def facts_of(sub: HospitalSubmission, pol: Policy, direct: bool) -> ClaimFacts:
    claim = Claim(
        claim_id="HSP-TEST",
        policy_number=sub.policy_number,
        claimant=sub.claimant,
        claimant_id_number=sub.claimant_id_number,
        claim_type=sub.resolved_claim_type(),
        incident_date=sub.resolved_incident_date(),
        submitted_at=NOW,
        channel="hospital",
    )
    facts = assemble_facts(claim, [p.extraction for p in submission_parts(sub)], pol)
    if direct:  # as flows.steps.extract_step does with the settlement recorded at intake
        facts = facts.model_copy(
            update={
                "direct_settlement": True,
                "payee_name": HOSPITAL,
                "payee_bank": "中国工商银行",
                "payee_account": HOSPITAL_ACCOUNT,
            }
        )
    return facts


def test_parts_carry_the_field_names_the_ocr_extractors_give() -> None:
    parts = submission_parts(HospitalSubmission.model_validate(hospital_submission()))
    by_type: dict[DocType, Extraction] = {p.extraction.doc_type: p.extraction for p in parts}
    assert list(by_type) == [DocType.OUTPATIENT_INVOICE, DocType.EXPENSE_LIST, DocType.DIAGNOSIS_CERTIFICATE]
    known = {
        DocType.OUTPATIENT_INVOICE: {k.name for k in invoice.KEYS},
        DocType.EXPENSE_LIST: {k.name for k in expense_list.KEYS},
        DocType.DIAGNOSIS_CERTIFICATE: {k.name for k in medical.CERTIFICATE_KEYS} | {"hospital"},
    }
    for doc_type, ex in by_type.items():
        names = {f.name for f in ex.fields} - {"diagnosis", "diagnosis_code"}
        assert names <= known[doc_type], names - known[doc_type]
        assert all(f.confidence == 1.0 and f.box is None for f in ex.fields)
        assert not ex.failed_checks, ex.failed_checks
        assert {p.sha256 for p in parts} >= {ex.document_id}
    inv = by_type[DocType.OUTPATIENT_INVOICE]
    assert {c.name for c in inv.checks} >= {
        "words_vs_figures",
        "payer_split",
        "items_sum_to_total",
        "id_checksum",
    }
    assert len(by_type[DocType.EXPENSE_LIST].line_items) == 4
    assert by_type[DocType.DIAGNOSIS_CERTIFICATE].field("diagnosis_code").value == "J06.9"  # type: ignore[union-attr]


def test_the_same_checks_catch_what_does_not_add_up() -> None:
    body = hospital_submission()
    body["invoice"]["cash_paid"] = "200.00"  # the payer split no longer makes the total
    body["invoice"]["total_in_words"] = "贰佰元整"
    body["expense_list"]["total"] = "300.00"  # the items do not make the list's total
    body["visit"]["diagnoses"] = [{"code": "K35.8", "name": "急性上呼吸道感染"}]
    parts = submission_parts(HospitalSubmission.model_validate(body))
    failed = {c.name for p in parts for c in p.extraction.failed_checks}
    assert {"payer_split", "words_vs_figures", "page_items_sum", "icd10_mismatch"} <= failed


def test_the_claims_facts_come_out_as_from_papers() -> None:
    sub = HospitalSubmission.model_validate(hospital_submission())
    facts = facts_of(sub, policy(), direct=False)
    assert facts.claim_type is ClaimType.OUTPATIENT
    assert facts.diagnoses == ["J06.9"]
    assert facts.hospital == HOSPITAL
    (inv,) = facts.invoices
    assert inv.total == Decimal("226.93") and inv.electronic and inv.invoice_number == "0012345678"
    assert [i.insurance_class for i in inv.line_items] == ["甲", "甲", "乙", "甲"]  # the list's items
    assert facts.documents_present == [
        DocType.OUTPATIENT_INVOICE,
        DocType.EXPENSE_LIST,
        DocType.DIAGNOSIS_CERTIFICATE,
    ]
    assert not facts.failed_checks and not facts.low_confidence_fields


def test_direct_settlement_pays_the_hospital_where_the_product_allows_it() -> None:
    sub = HospitalSubmission.model_validate(hospital_submission())
    book = load_rule_book()
    direct = decide(
        facts_of(sub, policy(), direct=True),
        rules=book,
        history=None,
        gate=None,
        fraud=None,
        settings=Settings(),
        now=NOW,
    )
    assert direct.outcome.route is Route.FLASH_PAY, direct.outcome.reasons
    assert direct.outcome.payable == Decimal("181.54")  # 226.93 x 80%: this year's deductible is used up
    assert direct.notice is not None and "医疗直付" in direct.notice and HOSPITAL in direct.notice
    assert all(h.passed for h in direct.adjudication.trace if h.rule_id == "payee_is_claimant")

    # the same facts without direct settlement need the claimant's papers (电子照会)
    own = decide(
        facts_of(sub, policy(), direct=False), rules=book, history=None, gate=None, fraud=None,
        settings=Settings(), now=NOW,
    )  # fmt: skip
    assert own.outcome.route is Route.REQUEST_INFO
    assert own.missing_documents == [DocType.CLAIM_FORM, DocType.ID_CARD, DocType.BANK_CARD]


def test_a_product_without_direct_settlement_keeps_its_documents_and_payee_rules() -> None:
    terms = (
        load_rule_book().for_date(dt.date(2025, 6, 1)).terms_for(policy("AM01", ACCIDENT_POLICY), NOW.date())
    )
    assert terms is not None and not terms.direct_settlement
    assert not terms.settles_directly(ClaimType.ACCIDENT)
    assert terms.documents_required(ClaimType.ACCIDENT, True) == terms.documents_required(ClaimType.ACCIDENT)
    inpatient = load_rule_book().for_date(dt.date(2025, 6, 1)).terms_for(policy("IPM01"), NOW.date())
    assert inpatient is not None and inpatient.settles_directly(ClaimType.INPATIENT)
    assert inpatient.documents_required(ClaimType.INPATIENT, True) == [
        DocType.INPATIENT_INVOICE,
        DocType.EXPENSE_LIST,
        DocType.DISCHARGE_SUMMARY,
    ]


def test_payout_sends_a_direct_settlement_to_the_hospitals_corporate_account(api: Api) -> None:
    sub = HospitalSubmission.model_validate(hospital_submission())
    facts = facts_of(sub, policy(), direct=True)
    api.store.save_claim(facts.claim)
    outcome = Outcome(
        claim_id=facts.claim.claim_id, route=Route.FLASH_PAY, payable=Decimal("181.54"), decided_at=NOW
    )
    money.record(api.store, outcome)
    assert not luhn_valid(HOSPITAL_ACCOUNT)  # a corporate account: a card's check would refuse it
    paid = steps.payout_step(api.store, facts, outcome.claim_id, issued_by="test")
    assert paid is not None and paid.held == [] and paid.instruction is not None
    assert (paid.instruction.payee, paid.instruction.account) == (HOSPITAL, HOSPITAL_ACCOUNT)
    # the claimant's own claim still pays only a Luhn-valid card in the claimant's name
    own = facts.model_copy(
        update={"direct_settlement": False, "claim": facts.claim.model_copy(update={"claim_id": "X"})}
    )
    api.store.save_claim(own.claim)
    money.record(api.store, outcome.model_copy(update={"claim_id": "X"}))
    held = steps.payout_step(api.store, own, "X", issued_by="test")
    assert held is not None and held.instruction is None and any("Luhn" in h for h in held.held)


@pytest.mark.parametrize(("policy_number", "direct"), [(OUTPATIENT_POLICY, True), (ACCIDENT_POLICY, False)])
def test_intake_records_the_parts_and_direct_settlement_only_where_allowed(
    api: Api, policy_number: str, direct: bool
) -> None:
    body = hospital_submission(policy_number)
    if not direct:
        body["claim_type"] = "accident"
    r = api.client.post("/claims/hospital", headers=api.headers("hospital", f"h-{policy_number}"), json=body)
    assert r.status_code == 201, r.text
    accepted = r.json()
    cid = accepted["claim_id"]
    assert accepted["direct_settlement"] is direct
    assert any("no direct settlement" in n for n in accepted["notes"]) is not direct
    claim = api.store.get_claim(cid)
    assert claim is not None and claim.channel == "hospital"
    assert {d.media_type for d in claim.documents} == {"application/json"}
    for d in claim.documents:  # extracted already: the flow reads nothing
        ex = api.store.get_result(cid, Stage.EXTRACT, Extraction, key=d.id)
        assert ex is not None and ex.doc_type is d.doc_type
        assert api.store.files.path(d.id) is not None
    settlement = api.store.get_result(cid, Stage.DIRECT_SETTLEMENT, DirectSettlement)
    assert (settlement is not None) is direct
    if settlement is not None:
        assert (settlement.account, settlement.account_name) == (HOSPITAL_ACCOUNT, HOSPITAL)
    assert api.store.get_result(cid, Stage.POLICY, Policy) is not None

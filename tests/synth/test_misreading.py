"""Claim facts corrupted by a measured error model: seeded, at the model's rates, flagged fields
marked as the reader marks them, and the product's checks redone on the values as read."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest
from helpers.facts import make_facts

from pipeline.extract.icd10 import dictionary
from pipeline.records import ClaimFacts, ClaimType, DocType
from synth.misreading import (
    FAMILIES,
    MEASURED_FILE,
    ErrorModel,
    FieldErrors,
    KindCount,
    digit_error,
    field_family,
    load_error_model,
    misread_measured,
    read_with_errors,
)


def model(
    kind: str = "digit_substituted",
    *,
    rate: float = 1.0,
    to_person: float = 0.0,
    unsure: float = 0.0,
    only: str | None = None,
) -> ErrorModel:
    """Every family (or only the field `only`) misread at `rate` in `kind`'s way, flagged at the
    shares given."""
    k = KindCount(n=1000, to_person=int(1000 * to_person), unsure=int(1000 * unsure))
    misread = FieldErrors(read=int(1000 / rate) if rate else 1000, kinds={kind: k} if rate else {})
    clean = FieldErrors(read=1000)
    if only is not None:
        return ErrorModel(fields={only: misread}, families={f: clean for f in FAMILIES}, min_reads=1)
    return ErrorModel(families={f: misread for f in FAMILIES})


def split_facts() -> ClaimFacts:
    """A paper bill whose payer split adds up: 350 = 100 fund + 50 account + 200 cash."""
    f = make_facts()
    inv = f.invoices[0].model_copy(
        update={
            "fund_paid": Decimal("100.00"),
            "account_paid": Decimal("50.00"),
            "cash_paid": Decimal("200.00"),
        }
    )
    return f.model_copy(update={"invoices": [inv]})


def test_fields_fall_in_families() -> None:
    assert [field_family(n) for n in ("total_amount", "other_paid", "issue_date", "invoice_number")] == [
        "amounts",
        "amounts",
        "dates",
        "codes",
    ]
    assert [field_family(n) for n in ("payer_name", "hospital", "diagnosis", "sex")] == [
        "names",
        "names",
        "text",
        "text",
    ]


@pytest.mark.parametrize("seed", range(20))
def test_a_digit_error_changes_one_digit_and_keeps_the_rest(seed: int) -> None:
    rng = random.Random(seed)
    text = "1234.56"
    swapped = digit_error(text, "digit_swapped", rng)
    assert sorted(swapped) == sorted(text) and swapped != text and swapped.index(".") == 4
    assert len(digit_error(text, "digit_dropped", rng)) == len(text) - 1
    assert len(digit_error(text, "digit_added", rng)) == len(text) + 1
    sub = digit_error(text, "digit_substituted", rng)
    assert len(sub) == len(text) and sum(a != b for a, b in zip(sub, text, strict=True)) == 1
    assert digit_error("2025-08-11", "digit_dropped", rng).count("-") == 2


def test_a_field_read_too_seldom_takes_its_family_figures() -> None:
    m = ErrorModel(
        min_reads=30,
        fields={"fund_paid": FieldErrors(read=10, kinds={"other": KindCount(n=5)})},
        families={"amounts": FieldErrors(read=1000, kinds={"digit_dropped": KindCount(n=10)})},
    )
    assert m.for_field("fund_paid").rate == pytest.approx(0.01)
    assert m.for_field("cash_paid").kinds.keys() == {"digit_dropped"}
    m.min_reads = 5
    assert m.for_field("fund_paid").rate == pytest.approx(0.5)


def test_the_same_seed_reads_the_same_errors() -> None:
    f, m = make_facts(), model(rate=0.3)
    a = read_with_errors(f, random.Random(7), m)
    b = read_with_errors(f, random.Random(7), m)
    assert a == b
    assert isinstance(misread_measured(f, random.Random(7), m), ClaimFacts)


def test_misreadings_follow_the_model_rate() -> None:
    f, m, rng = make_facts(), model(rate=0.1, only="total_amount"), random.Random(3)
    n = 1500
    hits = sum(any(x.field == "total_amount" for x in read_with_errors(f, rng, m)[1]) for _ in range(n))
    assert 0.07 < hits / n < 0.13
    read, done = read_with_errors(f, random.Random(1), model(rate=0.0))
    assert (read, done) == (f, [])  # a reader that never errs leaves the facts alone


def test_e_invoices_are_never_misread() -> None:
    f = make_facts()
    f = f.model_copy(update={"invoices": [f.invoices[0].model_copy(update={"electronic": True})]})
    _, done = read_with_errors(f, random.Random(1), model(rate=1.0))
    assert done and not [x for x in done if x.doc.endswith("invoice")]


def test_a_flagged_misreading_is_marked_as_the_reader_marks_it() -> None:
    f = make_facts()
    read, done = read_with_errors(f, random.Random(2), model(rate=1.0, to_person=1.0))
    assert done and all(x.flag == "to_person" for x in done)
    assert {f"{x.doc}.{x.field}" for x in done} <= set(read.low_confidence_fields)
    sent = {c.fields[0] for c in read.failed_checks if c.name == "plausible" and c.severity == "error"}
    assert {x.field for x in done} <= sent
    # unsure only: listed as low confidence, and sent to a person only for the key fields
    read, done = read_with_errors(
        f, random.Random(2), model("text_misread", rate=1.0, unsure=1.0, only="bank_name")
    )
    assert [x.field for x in done] == ["bank_name"] and read.low_confidence_fields == ["claim_form.bank_name"]
    assert not [c for c in read.failed_checks if c.name == "plausible"]


def test_an_unflagged_total_misread_fails_the_checks_a_wrong_total_fails() -> None:
    f = split_facts()
    read, done = read_with_errors(f, random.Random(4), model(rate=1.0, only="total_amount"))
    assert [x.field for x in done] == ["total_amount"] and not done[0].flag
    assert read.invoices[0].total != f.invoices[0].total and not read.low_confidence_fields
    failed = {c.name for c in read.failed_checks if c.severity == "error"}
    assert {"payer_split", "items_sum_to_total"} <= failed


def test_a_cash_figure_misread_breaks_the_split_only() -> None:
    f = split_facts()
    read, done = read_with_errors(f, random.Random(5), model("digit_swapped", rate=1.0, only="cash_paid"))
    assert [x.kind for x in done] == ["digit_swapped"]
    assert read.invoices[0].cash_paid != Decimal("200.00")
    assert [c.name for c in read.failed_checks] == ["payer_split"]


def test_an_unread_total_is_the_items_sum_and_goes_to_a_person() -> None:
    f = split_facts()
    read, _ = read_with_errors(f, random.Random(1), model("value_missing", rate=1.0, only="total_amount"))
    assert read.invoices[0].total == Decimal("350.00")
    names = {c.name for c in read.failed_checks}
    assert {"invoice_total_unread", "decisive_fields"} <= names


def test_a_misread_diagnosis_is_looked_up_again_and_a_misread_account_fails_luhn() -> None:
    f = make_facts(ClaimType.INPATIENT, days=3, diagnoses=["J18.9", "K76.0"], account="6222020000000000001")
    read, _ = read_with_errors(f, random.Random(1), model("value_missing", rate=1.0, only="diagnosis"))
    assert read.diagnoses == []
    for seed in range(5):  # a name read with a character wrong is looked up again, as the pipeline does
        read, done = read_with_errors(
            f, random.Random(seed), model("text_misread", rate=1.0, only="diagnosis")
        )
        assert len(done) == 2 and set(read.diagnoses) <= set(dictionary().values())
    read, done = read_with_errors(f, random.Random(1), model(rate=1.0, only="account_number"))
    assert [x.field for x in done] == ["account_number"] and read.payee_account != f.payee_account
    assert {c.name for c in read.failed_checks} & {"luhn", "same_account"}


def test_the_committed_model_loads_with_its_sources(tmp_path: Path) -> None:
    m = load_error_model(MEASURED_FILE)
    assert {s.name for s in m.sources} == {"extract", "real"} and all(s.fields_read > 0 for s in m.sources)
    assert set(m.families) == set(FAMILIES) and sum(f.read for f in m.families.values()) > 0
    with pytest.raises(FileNotFoundError, match=r"bench\.misreadings"):
        load_error_model(tmp_path / "none.json")


def test_an_unread_form_account_is_taken_from_the_bank_card() -> None:
    f = make_facts()  # claim form and bank card
    read, done = read_with_errors(
        f, random.Random(1), model("value_missing", rate=1.0, only="account_number")
    )
    assert [x.field for x in done] == ["account_number"] and read.payee_account == f.payee_account
    alone = f.model_copy(
        update={"documents_present": [d for d in f.documents_present if d != DocType.BANK_CARD]}
    )
    read, _ = read_with_errors(
        alone, random.Random(1), model("value_missing", rate=1.0, only="account_number")
    )
    assert read.payee_account is None


def test_the_claims_hospital_is_the_bills_when_no_record_names_one() -> None:
    """As `assemble_facts` takes it: with no discharge summary or certificate, the claim's hospital is
    the first bill's as read, and the claim form's hospital is never read for it."""
    f = make_facts()
    assert not {DocType.DISCHARGE_SUMMARY, DocType.DIAGNOSIS_CERTIFICATE} & set(f.documents_present)
    read, done = read_with_errors(f, random.Random(3), model("text_misread", rate=1.0, only="hospital"))
    assert [x.doc for x in done] == ["outpatient_invoice"]
    assert read.hospital == read.invoices[0].hospital != f.hospital
    certified = f.model_copy(
        update={"documents_present": [*f.documents_present, DocType.DIAGNOSIS_CERTIFICATE]}
    )
    _, done = read_with_errors(certified, random.Random(3), model("text_misread", rate=1.0, only="hospital"))
    assert sorted(x.doc for x in done) == ["diagnosis_certificate", "outpatient_invoice"]

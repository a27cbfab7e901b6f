"""bench.misreadings: each miss put in one kind, counted per field read, flagged or not, and written
as the error model synth.misreading reads."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bench.misreadings import (
    aggregate,
    classify,
    corpus_fields_read,
    digit_kind,
    extract_misses,
    main,
    real_misses,
    report_fields_read,
)
from synth.misreading import Source, load_error_model

EXTRACT_MISSES = [  # as bench.extract --misses writes them
    {"field": "total_amount", "ok": False, "want": "1234.50", "got": "1243.50", "cause": "ocr",
     "file": "C0001/outpatient_invoice_1.jpg", "severity": "mild", "to_person": False},
    {"field": "fund_paid", "ok": False, "want": "200.00", "got": "", "cause": "ocr",
     "file": "C0001/outpatient_invoice_1.jpg", "severity": "mild", "to_person": False},
    {"field": "issue_date", "ok": False, "want": "2025-08-11", "got": "2025-08-17", "cause": "pairing",
     "file": "C0002/inpatient_invoice_1.webp", "severity": "hard", "to_person": True},
    {"field": "diagnosis_2", "ok": False, "want": "非酒精性脂肪肝病", "got": "非酒精性脂肪肝", "cause": "ocr",
     "file": "C0002/discharge_summary_1_p2.webp", "severity": "moderate", "to_person": False},
    {"field": "total_amount", "ok": False, "want": "88.00", "got": "", "cause": "ocr",
     "file": "C0003/inpatient_invoice_1.pdf", "severity": "clean", "to_person": False},
]  # fmt: skip
EXTRACT_REPORT = {
    "synthetic": {
        "corpus": "data/bench-extract/corpus-s1-n2",
        "by_field": {
            "outpatient_invoice.total_amount": {"exact": 0.9, "n": 10},
            "inpatient_invoice.total_amount": {"exact": 1.0, "n": 10},
            "inpatient_invoice/pdf.total_amount": {"exact": 0.9, "n": 10},
            "outpatient_invoice.fund_paid": {"exact": 0.9, "n": 10},
            "inpatient_invoice.issue_date": {"exact": 0.9, "n": 10},
            "discharge_summary.diagnosis": {"exact": 1.0, "n": 5},
            "discharge_summary.diagnosis_2": {"exact": 0.8, "n": 5},
        },
    }
}
REAL_LABELS = [
    {"file": "a.jpg", "doc_type": "inpatient_invoice",
     "fields": {"total_amount": "500.00", "cash_paid": "300.00", "fund_paid": "200.00",
                "hospital": "某某医院"}},
    {"file": "b.jpg", "doc_type": "other", "fields": {"total_amount": "10.00"}},
]  # fmt: skip
REAL_MISSES = [  # as bench.real --misses writes them
    {"file": "a.jpg", "doc_type": "inpatient_invoice", "person": False, "field": "fund_paid", "key": True,
     "want": "200.00", "got": "300.00", "ok": False, "found": True, "confidence": 0.95},
    {"file": "a.jpg", "doc_type": "inpatient_invoice", "person": False, "field": "hospital", "key": True,
     "want": "某某医院", "got": "某其医院", "ok": False, "found": True, "confidence": 0.6},
    {"file": "b.jpg", "doc_type": "other", "person": True, "field": "total_amount", "key": True,
     "want": "10.00", "got": "", "ok": False, "found": False, "confidence": None},
]  # fmt: skip


@pytest.mark.parametrize(
    ("field", "want", "got", "kind"),
    [
        ("total_amount", "1234.50", "1243.50", "digit_swapped"),
        ("total_amount", "1234.50", "124.50", "digit_dropped"),
        ("total_amount", "234.50", "2034.50", "digit_added"),
        ("invoice_number", "0091376649", "0091376640", "digit_substituted"),
        ("issue_date", "2025-08-11", "2025-03-11", "digit_substituted"),
        ("fund_paid", "200.00", "", "value_missing"),
        ("patient_name", "王慧兰", "王惠兰", "text_misread"),
        ("hospital", "上海市浦江人民医院", "心血管内科", "other"),
        ("total_amount", "1234.50", "98.17", "other"),
        ("total_amount", "259.00", "353.00", "other"),
    ],
)
def test_each_miss_falls_in_one_kind(field: str, want: str, got: str, kind: str) -> None:
    assert classify(field, want, got) == kind


def test_another_fields_value_is_a_wrong_field() -> None:
    assert classify("fund_paid", "200.00", "300.00", others=["500.00", "300.00"]) == "wrong_field"
    assert classify("issue_date", "2025-08-11", "2025-08-17", cause="pairing") == "wrong_field"
    assert digit_kind("12345678", "87654321") is None  # not one digit's error


def test_extract_misses_count_per_field_read_without_pdfs() -> None:
    rows, read = extract_misses(EXTRACT_MISSES, report_fields_read(EXTRACT_REPORT))
    assert [(r["doc_type"], r["field"], r["kind"]) for r in rows] == [
        ("outpatient_invoice", "total_amount", "digit_swapped"),
        ("outpatient_invoice", "fund_paid", "value_missing"),
        ("inpatient_invoice", "issue_date", "wrong_field"),
        ("discharge_summary", "diagnosis", "text_misread"),
    ]
    assert [r["to_person"] for r in rows] == [False, False, True, False]
    assert read == Counter({"total_amount": 20, "fund_paid": 10, "issue_date": 10, "diagnosis": 10})


def test_real_misses_leave_out_what_is_no_claim_document_and_count_the_unsure() -> None:
    rows, read = real_misses(REAL_MISSES, REAL_LABELS)
    assert [(r["field"], r["kind"], r["unsure"]) for r in rows] == [
        ("fund_paid", "wrong_field", False),  # the cash figure read as the fund's
        ("hospital", "text_misread", True),
    ]
    assert read == Counter({"total_amount": 1, "cash_paid": 1, "fund_paid": 1, "hospital": 1})


def test_aggregate_gives_rates_per_field_and_family() -> None:
    rows_e, read_e = extract_misses(EXTRACT_MISSES, report_fields_read(EXTRACT_REPORT))
    rows_r, read_r = real_misses(REAL_MISSES, REAL_LABELS)
    sources = [
        Source(name="extract", file="e", misses=4, fields_read=50),
        Source(name="real", file="r", misses=2, fields_read=4),
    ]
    m = aggregate(rows_e + rows_r, read_e + read_r, sources, min_reads=12)
    fund = m.fields["fund_paid"]
    assert (fund.read, fund.misses, fund.flagged) == (11, 2, 0)
    assert set(fund.kinds) == {"value_missing", "wrong_field"}
    assert m.fields["hospital"].kinds["text_misread"].unsure == 1
    assert m.fields["issue_date"].kinds["wrong_field"].to_person == 1
    # a family pools the fields read too seldom to speak for themselves: not total_amount (21 reads)
    amounts = m.families["amounts"]
    assert (amounts.read, amounts.misses) == (12, 2) and amounts.rate == pytest.approx(2 / 12)
    assert m.for_field("fund_paid") is amounts and m.for_field("total_amount") is m.fields["total_amount"]
    assert m.for_field("hospital") is m.families["names"]


def test_the_command_writes_a_model_synth_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    misses, report, out = tmp_path / "m.jsonl", tmp_path / "extract.out", tmp_path / "model.json"
    misses.write_text(
        "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in EXTRACT_MISSES), encoding="utf-8"
    )
    report.write_text("log line\n" + json.dumps(EXTRACT_REPORT) + "\n", encoding="utf-8")  # stdout of --json
    assert main(["--extract", str(misses), "--extract-report", str(report), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("field") and any(line.startswith("total_amount") for line in printed)
    summary = json.loads(printed[-1])
    assert (summary["fields_read"], summary["misses"]) == (50, 4)
    model = load_error_model(out)
    assert model.sources[0].name == "extract" and model.fields["total_amount"].read == 20


def test_the_command_names_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--extract", str(tmp_path / "none.jsonl")])
    assert "none.jsonl: no such file" in capsys.readouterr().err


def test_fields_read_can_be_counted_from_the_corpus(tmp_path: Path) -> None:
    from synth.documents import generate_corpus

    generate_corpus(tmp_path / "c", 2, seed=3)
    read = corpus_fields_read(tmp_path / "c")
    assert read["hospital"] > 0 and read["patient_name"] + read["payer_name"] > 0
    assert "title" not in read and not [f for f in read if f[-1].isdigit()]  # drawn only; numbered as one

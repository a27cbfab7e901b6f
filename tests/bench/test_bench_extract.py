"""bench.extract's scoring: a truth field is matched by its normalised value, and a miss is put down to
the classifier, the OCR, the pairing or the parsing."""

from __future__ import annotations

import datetime as dt

from helpers.pages import page_of

from bench.extract import got_value, norm_text, score_document, truth_value
from pipeline.records import DocType, Extraction, Field
from synth.truth import DocumentTruth, FieldTruth


def test_values_are_compared_normalised() -> None:
    assert norm_text("ＺＹ 2025\n001") == "ZY2025001"
    assert truth_value("diagnosis_2", "2.急性 上呼吸道感染") == "急性上呼吸道感染"  # the list number goes
    assert truth_value("diagnosis_code", "2.J06") == "2.J06"
    assert (
        got_value(dt.date(2025, 6, 1)) == "2025-06-01"
        and got_value(None) == ""
        and got_value(" 张 三") == "张三"
    )


def _box(x: float, y: float) -> tuple[tuple[float, float], ...]:
    return ((x, y), (x + 200, y), (x + 200, y + 28), (x, y + 28))


def test_each_truth_field_is_scored_with_the_cause_of_a_miss() -> None:
    page = page_of(("门诊号：MZ2025060100", 100, 100), ("姓名：李静芳", 100, 200))
    doc = DocumentTruth(
        file="a.jpg",
        doc_type=DocType.OUTPATIENT_INVOICE,
        media_type="image/jpeg",
        layout="x",
        group="g",
        fields=[
            FieldTruth(name="hospital_number", value="MZ2025060100", text="MZ2025060100", box=_box(220, 100)),
            FieldTruth(name="patient_name", value="李静芳", text="李静芳", box=_box(220, 200)),
            FieldTruth(name="issue_date", value="2025-06-01", text="2025年6月1日", box=_box(900, 40)),
            FieldTruth(name="title", value="门诊收费票据", text="门诊收费票据"),  # never scored
        ],
    )
    ex = Extraction(
        document_id="a",
        doc_type=DocType.OUTPATIENT_INVOICE,
        fields=[
            Field(name="hospital_number", value="MZ2025060100", box=_box(220, 100)),
            Field(name="patient_name", value="李静", box=_box(220, 200)),
        ],
    )
    rows = {r["field"]: r for r in score_document(doc, [page], ex)}
    assert set(rows) == {"hospital_number", "patient_name", "issue_date"}
    assert rows["hospital_number"]["ok"] and rows["hospital_number"]["cause"] is None
    assert (rows["patient_name"]["ok"], rows["patient_name"]["cause"]) == (
        False,
        "parsing",
    )  # read, cut short
    assert rows["issue_date"]["cause"] == "ocr"  # never on the page read
    wrong_type = ex.model_copy(update={"doc_type": DocType.EXPENSE_LIST})
    assert score_document(doc, [page], wrong_type)[1]["cause"] == "doc_type"

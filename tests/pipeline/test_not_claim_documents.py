"""A document typed `other` is set aside with its reason, never read as a guessed invoice."""

from __future__ import annotations

from helpers.pages import page_of

from pipeline.extract.documents import extract, extract_document
from pipeline.records import DocType


def test_a_lab_report_is_not_a_claim_document() -> None:
    page = page_of(
        ("某某医院检验报告单", 500, 40), ("血常规", 500, 90), ("白细胞计数 5.6 参考范围 3.5-9.5", 100, 200)
    )
    ex = extract_document([page], DocType.OTHER)
    (check,) = ex.checks
    assert check.name == "not_a_claim_document" and not check.passed
    assert "lab report" in check.message
    assert ex.needs_review and ex.fields == [] and ex.line_items == []


def test_a_blank_page_says_so() -> None:
    ex = extract_document([page_of(("1", 800, 1000))], DocType.OTHER)
    assert [c.name for c in ex.failed_checks] == ["blank_page"]
    assert not ex.illegible  # nothing to photograph again


def test_other_through_the_classifier_is_never_extracted() -> None:
    page = page_of(("G1418 南昌西站 二等座", 100, 100), ("¥81.0元", 100, 160))
    ex = extract([page], lambda pages: (DocType.OTHER, 0.93), min_confidence=0.8)
    assert ex.doc_type is DocType.OTHER and ex.fields == []
    assert "travel ticket" in ex.failed_checks[0].message

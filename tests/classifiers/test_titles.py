"""The printed title picks between the classifier's two most probable types, and only between them."""

from __future__ import annotations

import pytest
from helpers.pages import page_of

from classifiers.titles import settle_with_title, title_type
from pipeline.records import DocType

CLASSES = ["discharge_summary", "diagnosis_certificate", "inpatient_invoice", "outpatient_invoice", "other"]


@pytest.mark.parametrize(
    ("title", "doc_type"),
    [
        ("河南省医疗住院收费票据（电子）", DocType.INPATIENT_INVOICE),
        ("住收费票据（电子）", DocType.INPATIENT_INVOICE),  # 院 lost under a fold
        ("湖南省医疗门诊收费票据", DocType.OUTPATIENT_INVOICE),
        ("上海市医疗门(急)诊收费票据", DocType.OUTPATIENT_INVOICE),
        ("出院诊断证明书", DocType.DIAGNOSIS_CERTIFICATE),
        ("出院记录", DocType.DISCHARGE_SUMMARY),
        ("票据名称：福建省医疗住院收费票据（电子）", DocType.INPATIENT_INVOICE),
        ("票据代码：410602", None),  # a label and its value, no title
    ],
)
def test_title_type(title: str, doc_type: DocType | None) -> None:
    assert title_type([page_of((title, 300, 40))]) == doc_type


def test_an_id_card_is_known_by_its_printed_labels_wherever_they_are() -> None:
    card = page_of(("姓名代用名", 100, 100), ("公民身份证号码", 100, 900), ("430512198908131367", 500, 900))
    assert title_type([card]) is DocType.ID_CARD
    assert title_type([page_of(("签发机关 长沙市公安局", 100, 900))]) is DocType.ID_CARD


def test_a_title_low_on_the_page_is_no_title() -> None:
    assert title_type([page_of(("门诊收费票据", 300, 900))]) is None


def test_the_title_picks_between_the_two_most_probable_only() -> None:
    inpatient = [page_of(("河南省医疗住院收费票据（电子）", 300, 40))]
    doc_type, conf = settle_with_title(CLASSES, [0.02, 0.01, 0.38, 0.57, 0.02], inpatient, sure=0.8)
    assert doc_type is DocType.INPATIENT_INVOICE and conf == pytest.approx(0.95)
    confirmed = settle_with_title(CLASSES, [0.02, 0.01, 0.57, 0.38, 0.02], inpatient, sure=0.8)
    assert confirmed == (DocType.INPATIENT_INVOICE, pytest.approx(0.95))
    sure = settle_with_title(CLASSES, [0.9, 0.02, 0.03, 0.03, 0.02], inpatient, sure=0.8)  # no say
    assert sure == (DocType.DISCHARGE_SUMMARY, pytest.approx(0.9))
    third = settle_with_title(CLASSES, [0.5, 0.3, 0.15, 0.03, 0.02], inpatient, sure=0.8)  # not in the two
    assert third == (DocType.DISCHARGE_SUMMARY, pytest.approx(0.5))
    untitled = settle_with_title(CLASSES, [0.02, 0.01, 0.38, 0.57, 0.02], [page_of(("x", 0, 0))], sure=0.8)
    assert untitled == (DocType.OUTPATIENT_INVOICE, pytest.approx(0.57))

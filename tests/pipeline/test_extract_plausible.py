"""Values that cannot be what their field says go to a person, however sure the reader was."""

from __future__ import annotations

import pytest

from pipeline.extract.plausible import IMPLAUSIBLE_CONFIDENCE, implausible, review_fields
from pipeline.records import Field, FieldKind


@pytest.mark.parametrize(
    ("name", "value", "plausible"),
    [
        ("hospital", "北京协和医院", True),
        ("hospital", "山东省肿瘤防治研究院（山东省肿瘤医院）", True),  # its other name in brackets
        ("hospital", "社区卫生服务中心", True),
        ("hospital", "贵州民院", False),  # 贵州省人民医院 with its middle under the seal
        ("hospital", "瘤医院", False),  # the name's start lost: nothing of its own before 医院
        ("hospital", "0盒)实收:400.00找零:10.00", False),
        ("hospital", "都州大学第一阵民医院", False),  # 人 read as 阵: one character off 第一人民医院
        ("total_in_words", "贰万肆仟壹佰捌拾玖元陆角伍分", True),
        ("total_in_words", "贰万肆仟泰佰玖拾武元泰角整", False),  # 叁 read as 泰, 贰 as 武
        ("payer_name", "张三", True),
        ("payer_name", "欧阳娜娜", True),
        ("patient_name", "阿卜杜拉·买买提", True),
        ("payer_name", "统一社会信用", False),  # the label beside 交款人 read as its value
        ("patient_name", "2型糖尿病", False),
    ],
)
def test_implausible(name: str, value: str, plausible: bool) -> None:
    assert (implausible(name, value) is None) is plausible


def test_doubtful_fields_go_to_a_person_with_their_value_kept() -> None:
    fields = {
        "hospital": Field(name="hospital", value="贵州民院", confidence=0.99),
        "total_amount": Field(name="total_amount", kind=FieldKind.MONEY, value="12.00", confidence=0.6),
        "payer_name": Field(name="payer_name", value="张三", confidence=0.98),
    }
    check = review_fields(fields, 0.8)
    assert check is not None and not check.passed and check.fields == ["hospital", "total_amount"]
    assert "贵州民院" in check.message and "confidence 0.60" in check.message
    assert fields["hospital"].value == "贵州民院" and fields["hospital"].confidence == IMPLAUSIBLE_CONFIDENCE
    sure = {"payer_name": Field(name="payer_name", value="张三", confidence=0.98)}
    assert review_fields(sure, 0.8) is None


def test_a_derived_value_unsure_of_its_lookup_sends_nobody() -> None:
    """An ICD code looked up from the diagnosis's name carries the lookup's score, not a reading's."""
    derived = {"diagnosis_code": Field(name="diagnosis_code", value="J06.9", confidence=0.6)}
    assert review_fields(derived, 0.8) is None
    check = review_fields({"payer_name": Field(name="payer_name", value="张三", confidence=0.6)}, 0.8)
    assert check is not None and check.severity == "error"  # adjudication refers the claim

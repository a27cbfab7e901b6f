"""The money block of real bills: every fund in a field of its own, refunds, labels glued in a line."""

from __future__ import annotations

from decimal import Decimal

import pytest
from helpers.pages import page_of

from pipeline.extract.documents import extract_document
from pipeline.extract.invoice import read_invoice
from pipeline.extract.settlement import (
    OTHER_PAID,
    SINK,
    drop_sinks,
    funds_in_doubt,
    other_amounts,
    unread_funds,
)
from pipeline.records import DocType, Field, FieldKind
from synth.paper_kit import FUND_LABELS

TOP = (
    ("河北省医疗住院收费票据（电子）", 500, 60),
    ("金额合计（大写）叁万元整", 100, 500),
    ("（小写）30000.00", 900, 500),
)


def _values(fields: dict) -> dict[str, object]:
    return {k: f.value for k, f in fields.items()}


def test_a_fund_beside_the_pool_is_never_booked_as_the_personal_account() -> None:
    """统筹 + 现金 + 大额(病)保险 = 合计: the 大额 amount is its own field, the account stays 0."""
    page = page_of(
        *TOP,
        ("医保统筹基金支付：17500.00", 120, 600),
        ("现金支付：10000.00个人账户支付：0", 900, 560),
        ("大额（病）保险报销：2500.00", 900, 600),
        ("其他医保支付：0", 900, 640),
    )
    fields, _, _ = read_invoice([page])
    v = _values(fields)
    assert v["cash_paid"] == Decimal("10000.00") and v["account_paid"] == Decimal("0.00")
    assert v["serious_illness_paid"] == Decimal("2500.00") and v["other_insurance_paid"] == Decimal("0.00")
    ex = extract_document([page], DocType.INPATIENT_INVOICE)
    split = next(c for c in ex.checks if c.name == "payer_split")
    assert split.passed  # the fund completes the split


def test_an_unread_fund_leaves_the_gap_alone() -> None:
    """The account went unread and a fund's label is printed without a readable amount: the gap is
    not worked out into the account (it may be the fund's), and the split is only a warning."""
    page = page_of(
        *TOP,
        ("医保统筹基金支付：17500.00", 120, 600),
        ("现金支付：10000.00", 900, 560),
        ("大额（病）保险报销：", 900, 600),
    )
    fields, _, _ = read_invoice([page])
    assert "account_paid" not in fields
    ex = extract_document([page], DocType.INPATIENT_INVOICE)
    split = next(c for c in ex.checks if c.name == "payer_split")
    assert not split.passed and split.severity == "warning"


def test_running_totals_and_balances_are_not_payments() -> None:
    page = page_of(
        *TOP,
        ("公务员医疗补助：0大额医疗支付：0统筹支付累计：0账户余额：88.00", 120, 560),
        ("医保统筹基金支付：20000.00", 120, 600),
        ("个人账户支付：0", 700, 600),
        ("个人现金支付：10000.00", 1100, 600),
    )
    v = _values(read_invoice([page])[0])
    assert v["fund_paid"] == Decimal("20000.00")
    assert v["civil_servant_paid"] == Decimal("0.00") and v["serious_illness_paid"] == Decimal("0.00")
    assert not any(k.startswith("_") for k in v)


def test_a_two_character_label_inside_a_line_is_a_value() -> None:
    """医保类型：自费 is the insurance type 自费, not a self-pay label."""
    page = page_of(*TOP, ("医保类型：自费", 120, 560), ("自费：1200.00", 120, 600))
    v = _values(read_invoice([page])[0])
    assert v["insurance_type"] == "自费" and v["self_pay"] == Decimal("1200.00")


def test_settlement_lines_and_shares_are_read() -> None:
    page = page_of(
        *TOP,
        ("住院时间：2021-03-01~2021-03-06预缴金额：10000.00", 120, 560),
        ("补缴金额：0", 900, 560),
        ("退费金额：3000.00", 1200, 560),
        ("起付标准：1000", 120, 600),
        ("乙类首自付：400.50", 500, 600),
        ("按比例自付：1599.50", 900, 600),
        ("公医记帐：120.00", 120, 640),
        ("个人缴费：7000.00", 500, 640),
    )
    v = _values(read_invoice([page])[0])
    assert v["prepaid"] == Decimal("10000.00") and v["supplementary_paid"] == Decimal("0.00")
    assert v["refund"] == Decimal("3000.00") and v["deductible"] == Decimal("1000.00")
    assert v["class_b_copay"] == Decimal("400.50") and v["ratio_copay"] == Decimal("1599.50")
    assert v["public_medical_paid"] == Decimal("120.00") and v["cash_paid"] == Decimal("7000.00")


def test_the_total_is_read_from_the_words_when_no_figures_are_printed() -> None:
    page = page_of(
        ("合计（大写）：壹万叁仟零捌拾伍元伍角捌分", 60, 600),
        ("医保统筹支付：9248.85", 60, 660),
        ("大额医疗支付：0.00", 600, 660),
    )
    f = read_invoice([page])[0]
    assert f["total_amount"].value == Decimal("13085.58")
    assert f["total_amount"].confidence < 0.8  # one reading only: a person confirms it


def test_payee_that_is_no_institution_is_passed_over() -> None:
    """收款单位（章） with the seal's 章 misread glued to it: the institution is the next line."""
    page = page_of(*TOP, ("收款单位健章", 100, 900), ("收费专用章", 330, 880), ("滨海市急救中心", 420, 900))
    assert read_invoice([page])[0]["hospital"].value == "滨海市急救中心"
    cut = page_of(*TOP, ("收款单位（章）：瘤医院", 100, 900))
    assert "hospital" not in read_invoice([cut])[0]  # a name cut by the seal is no name
    till = page_of(*TOP, ("收款单位：", 100, 900), ("0盒)实收:400.00找零:10.00", 260, 900))
    assert "hospital" not in read_invoice([till])[0]  # a till's line is no payee


def test_garbled_words_are_settled_by_a_split_the_funds_complete() -> None:
    """统筹 + 现金 + 大额 = 合计 confirms the figures; the words, misread and closed with 整, follow them."""
    page = page_of(
        ("金额合计（大写）贰万叁仟肆佰伍拾陆元柒角捌分整", 100, 500),  # 贰→武, 叁→泰 below
        ("（小写）23456.78", 900, 500),
        ("医保统筹基金支付：10000.00", 120, 600),
        ("现金支付：12000.00个人账户支付：0", 900, 560),
        ("大额（病）保险报销：1456.78", 900, 600),
    )
    words = page.lines[0].model_copy(update={"text": "金额合计（大写）武万泰仟肆佰伍拾陆元柒角捌分整"})
    page = page.model_copy(update={"lines": [words, *page.lines[1:]]})
    f = read_invoice([page])[0]
    assert f["total_in_words"].value == "贰万叁仟肆佰伍拾陆元柒角捌分整"


def test_a_misread_label_glued_to_a_value_is_cut_off() -> None:
    page = page_of(*TOP, ("医保类型：滨海市医保住院料室：", 120, 560))
    assert read_invoice([page])[0]["insurance_type"].value == "滨海市医保"


@pytest.mark.parametrize(("name", "label"), [(n, lab) for n, labels in FUND_LABELS.items() for lab in labels])
def test_every_fund_label_the_paper_bills_print_lands_in_its_own_field(name: str, label: str) -> None:
    """Each fund as the provincial paper forms label it: never the account, the pool or the cash."""
    page = page_of(
        *TOP,
        ("统筹金", 180, 600),
        ("17500.00", 330, 600),
        ("其中：个人帐户", 120, 640),
        ("0.00", 330, 640),
        (label, 120, 680),
        ("2500.00", 330, 680),
        ("个人缴费：10000.00", 900, 600),
        ("预收款：12000.00", 900, 640),
        ("应补交：0.00", 900, 680),
        ("应退款：2000.00", 900, 720),
    )
    v = _values(read_invoice([page])[0])
    assert v[name] == Decimal("2500.00")
    assert v["fund_paid"] == Decimal("17500.00") and v["account_paid"] == Decimal("0.00")
    assert v["cash_paid"] == Decimal("10000.00") and v["prepaid"] == Decimal("12000.00")
    assert v["refund"] == Decimal("2000.00") and v["supplementary_paid"] == Decimal("0.00")


def test_the_cash_block_of_a_shanghai_clinic_bill_is_read_share_by_share() -> None:
    """现金支付中 分类自负 / 自负 / 自费 are parts of the cash, not the cash; 应收 / 实收 / 找零 are the
    cashier's, read into nothing."""
    page = page_of(
        *TOP,
        ("统筹支付：17500.00", 80, 600),
        ("个人账户支付：2500.00", 600, 600),
        ("现金支付：10000.00", 1100, 600),
        ("现金支付中", 80, 650),
        ("分类自负：1000.00", 330, 650),
        ("自负：8000.00", 750, 650),
        ("自费：1000.00", 1170, 650),
        ("应收：10000.00", 80, 700),
        ("实收：10000.00", 500, 700),
        ("找零：0.00", 920, 700),
    )
    v = _values(read_invoice([page])[0])
    assert v["cash_paid"] == Decimal("10000.00") and v["class_b_copay"] == Decimal("1000.00")
    assert v["copay"] == Decimal("8000.00") and v["self_pay"] == Decimal("1000.00")
    assert v["fund_paid"] == Decimal("17500.00") and v["account_paid"] == Decimal("2500.00")


def _paid(name: str, value: str) -> Field:
    return Field(name=name, kind=FieldKind.MONEY, value=value)


def test_other_funds_read_are_the_non_zero_ones() -> None:
    fields = {
        "fund_paid": _paid("fund_paid", "500.00"),  # 统筹 itself is no other fund
        OTHER_PAID: _paid(OTHER_PAID, "20.00"),
        "serious_illness_paid": _paid("serious_illness_paid", "0.00"),
        "medical_aid_paid": _paid("medical_aid_paid", "35.50"),
    }
    assert other_amounts(fields) == [Decimal("20.00"), Decimal("35.50")]


def test_a_fund_printed_but_not_read_puts_the_split_in_doubt() -> None:
    page = page_of(("统筹基金支付：500.00", 100, 500), ("公务员医疗补助：", 100, 560))
    fields = {"fund_paid": _paid("fund_paid", "500.00")}
    assert unread_funds([page], fields) == ["civil_servant_paid"]
    assert funds_in_doubt([page], fields)
    read = {**fields, "civil_servant_paid": _paid("civil_servant_paid", "12.00")}
    assert unread_funds([page], read) == [] and funds_in_doubt([page], read)  # still named on the bill
    plain = page_of(("统筹基金支付：500.00", 100, 500), ("现金支付：88.00", 100, 560))
    assert not funds_in_doubt([plain], fields)


def test_balances_and_running_totals_are_dropped() -> None:
    sink = f"{SINK}:个人账户余额"
    fields = {sink: _paid(sink, "1200.00"), "cash_paid": _paid("cash_paid", "88.00")}
    drop_sinks(fields)
    assert list(fields) == ["cash_paid"]

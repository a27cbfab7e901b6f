"""The money block of a medical bill (结算信息 / 其他信息): who paid what, the funds beside 统筹, refunds.

Bills print the payer split in many words, and many funds besides the pooled fund (统筹基金): the
large-amount insurance (大额(病)保险报销), the critical-illness supplement (大病补充保险报销), the civil
servants' subsidy (公务员补助), medical aid (医疗救助), public medical care (公医记帐) and "other"
insurance (其他医保支付), together printed as 其他支付 on the national e-bill. Each is read into a
field of its own, so no fund's amount is ever booked as another's; the settlement lines around them
(预缴 prepaid, 补缴 paid on top, 退费 refunded; 起付标准, 乙类首自付, 按比例自付: the patient's shares)
are read too. Labels printed glued inside one line (`现金支付：22560.99个人账户支付：0`) are found
anywhere in it. Labels that look like a payment but are running totals or balances (统筹支付累计,
账户余额) are read into nothing, so their figures go nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from ocr.elements import Page
from pipeline.extract.pairing import Key, norm
from pipeline.records import Field, FieldKind, money

M = FieldKind.MONEY

SPLIT = ("fund_paid", "account_paid", "cash_paid")
"""The payment channels: 统筹 + 个人账户 + 现金 (+ the other funds) = 合计."""
OTHER_FUNDS = (
    "serious_illness_paid",
    "supplement_paid",
    "civil_servant_paid",
    "medical_aid_paid",
    "other_insurance_paid",
    "public_medical_paid",
)
"""Funds paying beside 统筹, one by one."""
OTHER_PAID = "other_paid"
"""其他支付: the other funds together, as the national e-bill prints them."""
SINK = "_not_a_payment"
"""The key of labels read into nothing (running totals, balances, subtotals)."""


def _money(name: str, *labels: str) -> tuple[Key, ...]:
    """A money key found anywhere in a line; its two-character labels (自费, 自付) only opening one,
    since inside a line they are as often a value (医保类型：自费) as a label."""
    long, short = tuple(x for x in labels if len(x) > 2), tuple(x for x in labels if len(x) <= 2)
    return tuple(
        Key(name, labs, M, anywhere=anywhere) for labs, anywhere in ((long, True), (short, False)) if labs
    )


_SINK_LABELS = (
    "统筹支付累计", "大额医疗支付累计", "个人账户余额", "账户余额", "当年账户结余", "历年账户结余",
    "统筹合计", "现金支付中", "医院承担", "师职补助", "产前检查费", "起付线以上", "医疗小计", "自付小计",
    "超大额", "超限额",
)  # fmt: skip
"""Running totals, balances and subtotals printed among the payments: each claims its own figure
(a key of its own, since a line holds one hit per key)."""

MONEY_KEYS: tuple[Key, ...] = (
    *_money("fund_paid", "医保统筹基金支付", "统筹基金支付", "医保统筹支付", "统筹支付", "统筹基金",
            "统筹金"),
    *_money("account_paid", "个人账户支付", "个人帐户支付", "个人账户", "个人帐户"),
    *_money("cash_paid", "个人现金支付", "现金支付", "个人缴费", "个人支付"),
    *_money("self_pay", "个人自费", "自费"),
    *_money("copay", "个人自付", "个人自负", "自付", "自负"),
    *_money(OTHER_PAID, "其他支付"),
    *_money("serious_illness_paid", "大额（病）保险报销", "大额医疗支付", "大病保险报销", "大额保险报销",
            "大病保险支付", "大额补助"),
    *_money("supplement_paid", "大病补充保险报销", "大额补充保险金额", "大病补充保险", "补充保险报销"),
    *_money("civil_servant_paid", "公务员医疗补助", "公务员补助", "公务员报销金额", "公务员报销"),
    *_money("medical_aid_paid", "医疗救助金额", "医疗救助", "大病救助", "民政救助"),
    *_money("other_insurance_paid", "其他医保支付", "其他基金支付", "其他基金"),
    *_money("public_medical_paid", "公医记帐", "公医记账", "公费医疗记账", "公费记账"),
    *_money("prepaid", "预缴金额", "预交金额", "预缴款", "预交款", "预收款"),
    *_money("supplementary_paid", "补缴金额", "补交金额", "应补交"),
    *_money("refund", "退费金额", "退款金额", "应退款", "应退金额"),
    *_money("deductible", "起付标准", "起付线", "本次起付线"),
    *_money("class_b_copay", "乙类首自付", "乙类先自付", "分类自负"),
    *_money("ratio_copay", "按比例自付"),
    *(Key(f"{SINK}:{label}", (label,), anywhere=True) for label in _SINK_LABELS),
)  # fmt: skip
"""Money labels of the settlement block, longest first within a key (the longest match wins)."""
DROPPED = tuple(f"{SINK}:{label}" for label in _SINK_LABELS)


def other_amounts(fields: dict[str, Field]) -> list[Decimal]:
    """The non-zero amounts read of the funds beside 统筹 (其他支付 and each fund)."""
    out = []
    for name in (OTHER_PAID, *OTHER_FUNDS):
        f = fields.get(name)
        if f is not None and f.value is not None and money(f.value) != 0:  # type: ignore[arg-type]
            out.append(money(f.value))  # type: ignore[arg-type]
    return out


def unread_funds(pages: Sequence[Page], fields: dict[str, Field]) -> list[str]:
    """Funds whose label is printed on the pages but whose amount was not read: until they are,
    a gap in the split may be theirs, and is never worked out into another field."""
    text = norm("".join(ln.text for p in pages for ln in p.lines))
    missing = []
    for key in MONEY_KEYS:
        if key.name not in (OTHER_PAID, *OTHER_FUNDS) or key.name in fields:
            continue
        if any(norm(label) in text for label in key.labels):
            missing.append(key.name)
    return missing


def drop_sinks(fields: dict[str, Field]) -> None:
    for name in DROPPED:
        fields.pop(name, None)


FUND_HINTS = re.compile(r"大额|大病|公务员|救助|补偿|补充保险|其他基金|其他医保|公医|记[帐账]|报销")
"""Words of a fund beside 统筹, however garbled the rest of its label: 公员报金额 (公务员报销金额)."""


def funds_in_doubt(pages: Sequence[Page], fields: dict[str, Field]) -> bool:
    """The bill names funds beside 统筹: a split that does not add up may owe it to one of them,
    printed but not read (a label over two lines, a misread one), rather than to the print."""
    if unread_funds(pages, fields):
        return True
    return any(FUND_HINTS.search(norm(ln.text)) for p in pages for ln in p.lines)

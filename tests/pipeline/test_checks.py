"""Field validators: known answers, round trips, and no crash on whatever OCR hands them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocr.elements import Page, TextLine
from pipeline.extract import checks as c
from pipeline.extract.checks import check_legibility
from pipeline.records import DocType, Extraction, Field, FieldKind, LineItem


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("壹仟贰佰叁拾肆元伍角陆分", "1234.56"),
        ("人民币(大写)：壹佰元整", "100.00"),
        ("⊗叁仟元整", "3000.00"),
        ("壹拾万零伍元", "100005.00"),
        ("贰万零壹拾元零捌分", "20010.08"),
        ("伍角", "0.50"),
        ("零元整", "0.00"),
        ("壹亿零壹元整", "100000001.00"),
        ("玖仟玖佰玖拾玖元玖角玖分", "9999.99"),
    ],
)
def test_amount_words(words: str, value: str) -> None:
    assert c.parse_amount_words(words) == Decimal(value)


@pytest.mark.parametrize("junk", ["", "元", "合计", "壹伍元", "abc", "壹仟贰佰叁拾肆元伍", "12.50"])
def test_unreadable_amount_words_are_none(junk: str) -> None:
    assert c.parse_amount_words(junk) is None


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_amount_words_round_trip(cents: int) -> None:
    value = Decimal(cents) / 100
    assert c.parse_amount_words(c.amount_words(value)) == value


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parsers_never_raise(text: str) -> None:
    c.parse_amount_words(text)
    c.parse_date(text)
    c.parse_figure(text)
    c.id_number_valid(text)
    c.luhn_valid(text)


def test_id_numbers() -> None:
    assert c.id_check_digit("11010519491231002") == "X"
    assert c.id_number_valid("11010519491231002X")
    assert c.id_number_valid("11010519491231002x")
    assert not c.id_number_valid("110105194912310021")
    assert not c.id_number_valid("110105194913310025")  # month 13
    assert c.id_birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert c.id_sex("11010519491231002X") == "女"


def test_luhn() -> None:
    assert c.luhn_valid("4111 1111 1111 1111")
    assert c.luhn_valid("6222020200112233445") is c.luhn_valid("6222020200112233445")
    assert not c.luhn_valid("4111111111111112")
    assert not c.luhn_valid("1234")


def test_dates_and_figures() -> None:
    assert c.parse_date("入院日期:2026年02月03日") == dt.date(2026, 2, 3)
    assert c.parse_date("2026-2-3") == dt.date(2026, 2, 3)
    assert c.parse_date("20260203") == dt.date(2026, 2, 3)
    assert c.parse_date("2026年13月03日") is None
    assert c.parse_figure("¥1,234.50") == Decimal("1234.50")
    assert c.parse_figure("小写：88.8元") == Decimal("88.80")
    assert c.parse_figure("无") is None


def _fields(**values: object) -> dict[str, Field]:
    kinds = {
        "total_amount": FieldKind.MONEY,
        "fund_paid": FieldKind.MONEY,
        "account_paid": FieldKind.MONEY,
        "cash_paid": FieldKind.MONEY,
        "copay": FieldKind.MONEY,
        "self_pay": FieldKind.MONEY,
        "birth_date": FieldKind.DATE,
    }
    return {
        k: Field(name=k, kind=kinds.get(k, FieldKind.TEXT), value=v, raw_text=str(v))
        for k, v in values.items()
    }


def test_checks_pass_and_fail_with_named_findings() -> None:
    ok = _fields(
        total_amount="1234.56",
        total_in_words="壹仟贰佰叁拾肆元伍角陆分",
        fund_paid="1000",
        copay="200",
        self_pay="34.56",
        id_number="11010519491231002X",
        birth_date="1949-12-31",
        sex="女",
        card_number="4111111111111111",
    )
    assert c.check_words_vs_figures(ok).passed
    assert c.check_payer_split(ok).passed
    assert c.check_id_number(ok).passed
    assert c.check_luhn(ok).passed

    bad = _fields(
        total_amount="1234.56",
        total_in_words="壹仟贰佰叁拾伍元伍角陆分",
        fund_paid="1000",
        copay="200",
        id_number="11010519491231002X",
        birth_date="1950-01-01",
        card_number="4111111111111112",
    )
    assert "1235.56" in c.check_words_vs_figures(bad).message
    assert not c.check_payer_split(bad).passed
    assert c.check_id_number(bad).name == "id_birth_date"
    assert not c.check_luhn(bad).passed
    assert c.check_words_vs_figures(_fields(total_amount="1")) is None  # nothing to compare: no finding
    # the channel split: 统筹 + 个人账户 + 现金 = 合计, whatever the 自费 share
    channels = _fields(total_amount="100", fund_paid="60", account_paid="10", cash_paid="30", self_pay="5")
    assert c.check_payer_split(channels).passed
    wrong_sex = _fields(id_number="11010519491231002X", sex="男")
    assert c.check_id_number(wrong_sex).name == "id_sex"


def test_items_dates_and_people() -> None:
    items = [LineItem(name="a", amount=Decimal("10.10")), LineItem(name="b", amount=Decimal("5"))]
    assert c.check_items_sum(items, Decimal("15.10")).passed
    assert "15.10" in c.check_items_sum(items, Decimal("16")).message
    d = dt.date
    assert c.check_date_order([("admission", d(2026, 1, 1)), ("discharge", d(2026, 1, 5))]).passed
    assert c.check_date_order([("admission", d(2026, 1, 6)), ("discharge", d(2026, 1, 5))]).fields == [
        "admission",
        "discharge",
    ]
    inv = Extraction(
        document_id="a" * 64,
        doc_type=DocType.OUTPATIENT_INVOICE,
        fields=[Field(name="payer_name", value="张三")],
    )
    idc = Extraction(
        document_id="b" * 64, doc_type=DocType.ID_CARD, fields=[Field(name="name", value="张 三")]
    )
    assert c.check_same_person([inv], "张三").passed
    assert c.check_same_person([idc], "张三", fields=c.CLAIMANT_FIELDS, check_name="same_claimant").passed
    other = Extraction(
        document_id="c" * 64,
        doc_type=DocType.DISCHARGE_SUMMARY,
        fields=[Field(name="patient_name", value="李四")],
    )
    different = c.check_same_person([inv, other])
    assert "李四" in different.message and different.severity == "error"
    misread = Extraction(
        document_id="d" * 64, doc_type=DocType.CLAIM_FORM, fields=[Field(name="insured_name", value="张二")]
    )
    assert c.check_same_person([inv, misread]).severity == "warning"  # one character apart: OCR?


def _page(scores: list[float], source: str = "ocr") -> Page:
    lines = [
        TextLine(text=f"行{i}", box=((0, 40 * i), (90, 40 * i), (90, 40 * i + 30), (0, 40 * i + 30)), score=s)
        for i, s in enumerate(scores)
    ]
    return Page(number=1, width=800, height=600, lines=lines, source=source)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scores", "legible"),
    [
        ([0.99] * 10, True),
        ([0.99] * 9 + [0.5], True),  # one uncertain line: a logo or a stamp
        ([0.99] * 6 + [0.6], True),  # a bank card's decorative line
        ([0.99] * 9 + [0.6, 0.7], True),  # two of eleven: under a fifth
        ([0.99] * 6 + [0.6, 0.7], False),  # two of eight
        ([0.99] * 6 + [0.6, 0.7, 0.75], False),  # three of nine: a third of the page is a guess
        ([0.75], False),  # one line, and that unsure
        ([], False),  # nothing found at all
    ],
)
def test_legibility(scores: list[float], legible: bool) -> None:
    check = check_legibility([_page(scores)])
    assert check is not None and check.passed is legible
    if not legible:
        assert "page 1" in check.message and "clearer photo" in check.message


def test_text_layer_pages_are_always_legible() -> None:
    assert check_legibility([_page([0.2, 0.2, 0.2], source="pdf_text")]) is None


def test_a_photo_missing_most_key_fields_is_not_legible() -> None:
    sparse, core = [_page([0.99] * 4)], ("name", "id_number", "birth_date")
    one_missing = check_legibility(sparse, core, ("birth_date",))
    assert one_missing is not None and one_missing.passed
    check = check_legibility(sparse, core, ("name", "id_number"))
    assert check is not None and not check.passed
    assert "2 of 3 key fields not found (name, id_number) and only 4 lines read" in check.message


def test_a_page_read_well_whose_fields_were_not_found_is_no_retake() -> None:
    """Many confident lines and no key field: a layout the extractors do not know, which a person
    reads without effort; asking the claimant to photograph it again would not help."""
    core = ("invoice_number", "payer_name", "total_amount", "issue_date")
    read_well = check_legibility([_page([0.97] * 40)], core, core)
    assert read_well is not None and read_well.passed
    little_text = check_legibility([_page([0.97] * 7)], core, core)
    assert little_text is not None and not little_text.passed

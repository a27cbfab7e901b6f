"""Properties of the field parsers and checks, over inputs hypothesis invents.

Round trips where a writer exists (amounts in words from `synth.amounts` and `checks.amount_words`,
dates and figures as invoices print them), what a check digit promises (GB 11643 catches every
single wrong digit and every swap of neighbours; Luhn every single wrong digit), and no exception
on whatever OCR could hand over. `test_checks.py` holds the known answers.
"""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from pipeline.extract import checks as c
from synth.amounts import amount_in_words

FAST = settings(max_examples=300, deadline=None)

# amounts in words ---------------------------------------------------------------------------------

cents = st.integers(min_value=0, max_value=10**16 - 1)  # up to 万亿: beyond any invoice, not any parser


def yuan(n: int) -> Decimal:
    return Decimal(n) / 100


@FAST
@given(cents)
@example(123_450_000_000_000)  # 壹万亿贰仟叁佰肆拾伍亿元整: a second 亿 once replaced the first
@example(1_000_010_000_000_000)  # 壹拾万亿零壹亿元整
def test_amount_words_round_trip_through_the_synthetic_writer(n: int) -> None:
    value = yuan(n)
    assert c.parse_amount_words(amount_in_words(value)) == value


@FAST
@given(cents)
def test_both_writers_print_the_same_words(n: int) -> None:
    assert c.amount_words(yuan(n)) == amount_in_words(yuan(n))


@FAST
@given(
    cents,
    st.sampled_from(["人民币", "大写：", "合计(大写)", "⊗", "（人民币）", ""]),
    st.sampled_from(["", "整", " "]),
)
def test_amount_words_read_through_print_decoration(n: int, prefix: str, suffix: str) -> None:
    words = amount_in_words(yuan(n))
    assert c.parse_amount_words(prefix + words + suffix) == yuan(n)


AMOUNT_ALPHABET = (
    "零壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆角分整一二三四五六七八九十百千两负 人民币()¥:大写合计金额0123456789."
)


@FAST
@given(st.text(alphabet=AMOUNT_ALPHABET, max_size=30))
def test_amount_words_from_the_amount_alphabet_never_raise(text: str) -> None:
    """OCR garbles words into other amount characters: a parse is None or a sane amount."""
    value = c.parse_amount_words(text)
    assert value is None or (value >= 0 and value == value.quantize(Decimal("0.01")))


# GB 11643 ID numbers --------------------------------------------------------------------------------


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    region = draw(st.from_regex(r"[1-6][0-9]{5}", fullmatch=True))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31)))
    serial = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    first17 = f"{region}{born:%Y%m%d}{serial}"
    return first17 + c.id_check_digit(first17)


@FAST
@given(id_numbers())
def test_a_made_id_number_is_valid_and_says_who(number: str) -> None:
    assert c.id_number_valid(number)
    assert c.id_birth_date(number) == dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert c.id_sex(number) == ("男" if int(number[16]) % 2 else "女")
    fullwidth = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９ｘ"))
    assert c.id_number_valid(f" {fullwidth[:6]} {fullwidth[6:]} ")  # as OCR and people type it


@FAST
@given(id_numbers(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_every_single_wrong_character_fails_the_id_check(number: str, at: int, char: str) -> None:
    assume(number[at] != char and (char != "X" or at == 17))
    assert not c.id_number_valid(number[:at] + char + number[at + 1 :])


@FAST
@given(id_numbers(), st.integers(min_value=0, max_value=15))
def test_every_swap_of_neighbours_fails_the_id_check(number: str, at: int) -> None:
    a, b = number[at], number[at + 1]
    assume(a != b)
    swapped = number[:at] + b + a + number[at + 2 :]
    assert not c.id_number_valid(swapped)


# Luhn (bank cards) -----------------------------------------------------------------------------------


def luhn_digit(body: str) -> str:
    for d in "0123456789":
        if c.luhn_valid(body + d):
            return d
    raise AssertionError(f"no Luhn digit for {body}")


card_bodies = st.from_regex(r"[1-9][0-9]{10,17}", fullmatch=True)


@FAST
@given(card_bodies)
def test_exactly_one_check_digit_makes_a_card_valid(body: str) -> None:
    valid = [d for d in "0123456789" if c.luhn_valid(body + d)]
    assert len(valid) == 1
    card = body + valid[0]
    grouped = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    assert c.luhn_valid(grouped) and c.luhn_valid(card.replace(card[:4], card[:4] + "-", 1))


@FAST
@given(card_bodies, st.data())
def test_every_single_wrong_digit_fails_luhn(body: str, data: st.DataObject) -> None:
    card = body + luhn_digit(body)
    at = data.draw(st.integers(min_value=0, max_value=len(card) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != card[at]]))
    assert not c.luhn_valid(card[:at] + digit + card[at + 1 :])


# dates and figures ---------------------------------------------------------------------------------

NO_DIGITS = st.text(alphabet=st.characters(exclude_categories=("Nd", "No", "Nl", "Cs")), max_size=8)
DATE_FORMATS = [
    "{d:%Y}年{d:%m}月{d:%d}日",
    "{d:%Y-%m-%d}",
    "{d.year}/{d.month}/{d.day}",
    "{d:%Y.%m.%d}",
    "{d:%Y%m%d}",
]


@FAST
@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)),
    st.sampled_from(DATE_FORMATS),
    NO_DIGITS,
    NO_DIGITS,
)
def test_printed_dates_read_back(day: dt.date, fmt: str, before: str, after: str) -> None:
    text = before + fmt.format(d=day) + after
    assume(c.parse_date(before + after) is None)  # the decoration is not itself a date
    assert c.parse_date(text) == day
    fullwidth = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert c.parse_date(fullwidth) == day


@FAST
@given(st.text(max_size=60))
def test_parse_date_gives_a_real_date_or_none(text: str) -> None:
    day = c.parse_date(text)
    assert day is None or isinstance(day, dt.date)


@FAST
@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from(["¥{:,.2f}", "{:.2f}元", "小写：{:.2f}", "￥{:.2f}", "{:,.2f}"]),
)
def test_printed_figures_read_back(value: Decimal, fmt: str) -> None:
    assert c.parse_figure(fmt.format(value)) == value


@FAST
@given(st.text(alphabet=string.digits + ".,-¥元 ", max_size=40))
def test_parse_figure_never_raises_on_digit_soup(text: str) -> None:
    value = c.parse_figure(text)
    assert value is None or value == value.quantize(Decimal("0.01"))

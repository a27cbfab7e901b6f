from __future__ import annotations

import pytest

from ocr.numbers import failed_numbers, id_check_digit, id_number_valid, long_numbers, luhn_valid

VALID_ID = "42011119880813911X"


def test_gb11643_check_digit_and_birth_date() -> None:
    assert id_check_digit("11010519491231002") == "X"
    assert id_number_valid(VALID_ID) and id_number_valid(VALID_ID.lower())
    assert not id_number_valid("420111198808139110")  # check digit wrong
    assert not id_number_valid("420111198813139115")  # month 13: no birth date, whatever the check


def test_luhn() -> None:
    assert luhn_valid("6222 0229 0056 9239 410") == luhn_valid("6222022900569239410")
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_long_numbers_keep_the_texts_offsets() -> None:
    text = "社会保障号码：４２０１１１ 19880813911X 电话13800138000"
    [(start, end, digits)] = long_numbers(text)
    assert digits == VALID_ID and text[start:end].replace(" ", "") == "４２０１１１19880813911X"


@pytest.mark.parametrize(
    ("text", "suspect"),
    [
        ("社会保障号码42011119880813911X", False),  # passes GB 11643
        ("6222 0229 0056 9239 410", False),  # a bank card: passes Luhn
        ("社会保障号码4201111880813911X", True),  # 17 digits: one of 111 merged away
        ("身份证号：420111197710324735", True),  # 18 digits, check digit fails
        ("票据号码 4019883836", False),  # too short to be an ID or a card
        ("91440101664041243T", False),  # a 统一社会信用代码: letters and digits, not an ID
        ("身份证号：4201111977103247355", True),  # 19 digits: one read twice (drop it: a valid ID)
        ("开户行及账号 4000023309200123456", False),  # a bank account failing Luhn: longer than an ID
    ],
)
def test_failed_numbers(text: str, suspect: bool) -> None:
    assert bool(failed_numbers(text)) is suspect

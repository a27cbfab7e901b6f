"""Fake people: names, resident ID numbers (居民身份证号码), bank cards, phones and addresses.

Every identity is invented but valid in form, so the extraction checks (GB 11643 check digit,
Luhn) can be exercised on it: an ID number that fails its checksum here is a planted error, never
an accident.
"""

from __future__ import annotations

import datetime as dt
import random

from pydantic import BaseModel, ConfigDict

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀燕玲桂丹萍红玉兰琴云莉婷雪慧颖欣悦晶洁佳"

# (GB/T 2260 county code, province, city, district): enough variety for addresses and invoices
AREAS: list[tuple[str, str, str, str]] = [
    ("110105", "北京市", "北京市", "朝阳区"),
    ("110108", "北京市", "北京市", "海淀区"),
    ("310115", "上海市", "上海市", "浦东新区"),
    ("310104", "上海市", "上海市", "徐汇区"),
    ("440106", "广东省", "广州市", "天河区"),
    ("440304", "广东省", "深圳市", "福田区"),
    ("330106", "浙江省", "杭州市", "西湖区"),
    ("320102", "江苏省", "南京市", "玄武区"),
    ("510107", "四川省", "成都市", "武侯区"),
    ("420111", "湖北省", "武汉市", "洪山区"),
]
STREETS = ["建设路", "人民路", "解放路", "中山路", "和平街", "长江路", "文化路", "光明街", "新华路", "幸福路"]

# (name, IIN prefix): UnionPay debit BINs; the numbers after them are random
BANKS: list[tuple[str, str]] = [
    ("中国工商银行", "622202"),
    ("中国建设银行", "621700"),
    ("中国农业银行", "622848"),
    ("中国银行", "621661"),
    ("招商银行", "621485"),
    ("交通银行", "622262"),
]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 check character of an 18-character resident ID number."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_number_valid(number: str) -> bool:
    return len(number) == 18 and number[:17].isdigit() and id_check_digit(number[:17]) == number[17].upper()


def luhn_check_digit(partial: str) -> str:
    """The digit that makes `partial + digit` pass the Luhn test (bank card numbers)."""
    total = 0
    for i, c in enumerate(reversed(partial)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    digits = number.replace(" ", "")
    return digits.isdigit() and len(digits) >= 2 and luhn_check_digit(digits[:-1]) == digits[-1]


class Person(BaseModel):
    """An invented person with the identity documents a claim asks for."""

    model_config = ConfigDict(frozen=True)

    name: str
    sex: str  # 男 / 女
    birth_date: dt.date
    id_number: str
    ethnicity: str = "汉"
    province: str
    address: str
    phone: str
    id_issuer: str
    id_valid_from: dt.date
    id_valid_to: dt.date | None  # None: 长期 (no expiry, 46 and older)

    @property
    def age(self) -> int:
        return self.age_on(dt.date(2026, 1, 1))

    def age_on(self, day: dt.date) -> int:
        return (
            day.year
            - self.birth_date.year
            - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))
        )


class BankCard(BaseModel):
    model_config = ConfigDict(frozen=True)

    bank: str
    number: str
    holder: str
    valid_thru: str  # MM/YY


def make_person(rng: random.Random, on: dt.date, min_age: int = 1, max_age: int = 75) -> Person:
    """A person aged between min_age and max_age on `on`, with a valid ID number."""
    sex = rng.choice("男女")
    given = GIVEN_MALE if sex == "男" else GIVEN_FEMALE
    name = rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))
    age = rng.randint(min_age, max_age)
    birth = on - dt.timedelta(days=age * 365 + rng.randint(0, 364))
    code, province, city, district = rng.choice(AREAS)
    seq = rng.randint(0, 99) * 10 + rng.randrange(1 if sex == "男" else 0, 10, 2)
    first17 = f"{code}{birth:%Y%m%d}{seq:03d}"
    issued = on - dt.timedelta(days=rng.randint(100, 3600))
    years = 5 if age < 16 else 10 if age < 26 else 20 if age < 46 else None
    valid_to = (
        None
        if years is None
        else issued.replace(year=issued.year + years)
        if not (issued.month == 2 and issued.day == 29)
        else dt.date(issued.year + years, 2, 28)
    )
    address = (
        f"{province if province != city else ''}{city}{district}{rng.choice(STREETS)}"
        f"{rng.randint(1, 300)}号{rng.randint(1, 30)}栋{rng.randint(1, 28)}0{rng.randint(1, 4)}室"
    )
    return Person(
        name=name,
        sex=sex,
        birth_date=birth,
        id_number=first17 + id_check_digit(first17),
        province=province,
        address=address,
        phone=f"1{rng.choice('35789')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}",
        id_issuer=f"{city}公安局{district}分局",
        id_valid_from=issued,
        id_valid_to=valid_to,
    )


def make_bank_card(rng: random.Random, holder: str, on: dt.date) -> BankCard:
    bank, iin = rng.choice(BANKS)
    partial = iin + "".join(str(rng.randint(0, 9)) for _ in range(18 - len(iin)))
    return BankCard(
        bank=bank,
        number=partial + luhn_check_digit(partial),
        holder=holder,
        valid_thru=f"{rng.randint(1, 12):02d}/{(on.year + rng.randint(1, 8)) % 100:02d}",
    )


def group_digits(number: str, size: int = 4) -> str:
    """'6222020012345678901' -> '6222 0200 1234 5678 901', as embossed on a card."""
    return " ".join(number[i : i + size] for i in range(0, len(number), size))


def random_digits(rng: random.Random, n: int) -> str:
    """`n` random digits, leading zeros kept: serial numbers of policies, invoices and stays."""
    return f"{rng.randrange(10**n):0{n}d}"

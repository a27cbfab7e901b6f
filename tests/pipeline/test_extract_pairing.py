"""Key-value pairing on fake OCR pages: right, below, glued, garbled, and boxes that point at the value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ocr.elements import Page, TextLine
from pipeline.extract.pairing import Key, clean_value, fuzzy_find, pair_page, repair_geometry, sub_box
from pipeline.records import FieldKind


def line(
    text: str, x: float, y: float, w: float | None = None, h: float = 30, score: float = 0.99
) -> TextLine:
    w = w if w is not None else 24 * len(text)
    return TextLine(text=text, box=((x, y), (x + w, y), (x + w, y + h), (x, y + h)), score=score)


def page(*lines: TextLine) -> Page:
    return Page(number=1, width=1600, height=1000, lines=list(lines))


KEYS = (
    Key("payer_name", ("交款人",)),
    Key("insurance_type", ("医保类型",)),
    Key("hospital_number", ("住院号", "门诊号"), pattern=r"([A-Za-z]{0,3}\d{4,})"),
    Key("fund_paid", ("医保统筹基金支付",), FieldKind.MONEY),
    Key("self_pay", ("个人自费", "自费"), FieldKind.MONEY),
    Key("visit_date", ("就诊日期",), FieldKind.DATE),
    Key(
        "amount",
        ("金额",),
        FieldKind.MONEY,
        pattern=r"([¥￥]\d+\.\d{2})",
        right=False,
        below=True,
        max_below=5,
    ),
)


def pairs(p: Page) -> dict[str, object]:
    return {x.key.name: x.value for x in pair_page(p, KEYS)}


def test_value_right_of_its_key() -> None:
    got = pairs(
        page(
            line("交款人", 100, 100),
            line("张三", 260, 102),
            line("门诊号", 500, 100),
            line("MZ0123", 660, 101),
        )
    )
    assert got == {"payer_name": "张三", "hospital_number": "MZ0123"}


def test_glued_keys_and_values() -> None:
    got = pairs(page(line("住院号ZY123456", 100, 100), line("就诊日期：2025年06月14日", 600, 100)))
    assert got == {"hospital_number": "ZY123456", "visit_date": dt.date(2025, 6, 14)}


def test_garbled_key_is_still_found() -> None:
    got = pairs(page(line("医保统筹基全支付", 100, 100), line("112.63", 400, 100)))
    assert got == {"fund_paid": Decimal("112.63")}
    assert fuzzy_find("医保统筹基金支付", "医保统筹基全支付", 1) == (0, 8, 1)
    assert fuzzy_find("住院号", "住院治疗", 0) is None  # short labels must be exact


def test_value_below_a_column_header() -> None:
    got = pairs(page(line("金额", 900, 100), line("2987.18", 900, 160), line("¥2987.18", 890, 400)))
    assert got == {"amount": Decimal("2987.18")}  # the ¥ total, not the item row above it


def test_a_value_that_looks_like_a_key_is_a_value() -> None:
    # 医保类型 | 自费 | 门诊号 ... : 自费 is the insurance type here, not the 个人自费 label
    got = pairs(
        page(
            line("医保类型", 100, 100),
            line("自费", 260, 100),
            line("门诊号", 500, 100),
            line("MZ9999", 660, 100),
        )
    )
    assert got["insurance_type"] == "自费"
    assert "self_pay" not in got


def test_a_key_without_value_pairs_with_nothing() -> None:
    assert pairs(page(line("交款人", 100, 100), line("门诊号", 500, 100))) == {}


def test_sub_box_of_a_glued_value() -> None:
    ln = line("住院号ZY123456", 100, 100, w=300)
    (p0, p1, _, _) = pair_page(page(ln), KEYS)[0].value_box
    assert p0[0] > 100 and abs(p1[0] - 400) < 1  # the value's part of the line, not the whole line
    assert sub_box(ln, 0, len(ln.text)) == ln.box


def test_clean_value_and_flat_pdf_boxes() -> None:
    assert clean_value("()南京玄武安和医院") == "南京玄武安和医院"
    assert clean_value("：李建国☆") == "李建国"
    flat = TextLine(text="票据代码：", box=((10, 89), (100, 89), (100, 89), (10, 89)), score=1.0)
    fixed = repair_geometry(page(flat, line("36923941", 120, 66, h=20)))
    assert fixed.lines[0].bbox[3] - fixed.lines[0].bbox[1] > 10
    got = {p.key.name: p.value for p in pair_page(fixed, (Key("code", ("票据代码",), pattern=r"(\d{8})"),))}
    assert got == {"code": "36923941"}


def test_a_short_label_with_a_closed_value_survives_one_misread_character() -> None:
    from pipeline.extract.forms import ID_CARD_KEYS

    garbled = page(line("性测", 100, 100), line("女", 250, 100), line("国族汉", 500, 100))
    got = pair_page(garbled, ID_CARD_KEYS)
    assert {p.key.name: p.value for p in got} == {"sex": "女", "ethnicity": "汉"}
    # both on one line, the second label in the middle of it
    got = pair_page(page(line("性别女民族汉", 100, 100)), ID_CARD_KEYS)
    assert {p.key.name: p.value for p in got} == {"sex": "女", "ethnicity": "汉"}
    # one character of two is not a label, and a garbled label without a closed value is not either
    assert not pair_page(page(line("性", 100, 100), line("女", 250, 100)), ID_CARD_KEYS)
    assert not pair_page(page(line("娃名", 100, 100), line("张三", 250, 100)), ID_CARD_KEYS)


def test_a_misread_seal_bracket_does_not_stick_to_the_value() -> None:
    assert clean_value("皇)南京玄武安和医院") == "南京玄武安和医院"
    assert clean_value("康):北京市朝华医院") == "北京市朝华医院"
    assert clean_value("北京(朝阳)医院") == "北京(朝阳)医院"
    assert clean_value("药品)") == "药品)"
    # the bracket whole, and nothing after it: no value here, the value is the next line
    assert clean_value("（意）") == clean_value("(元):") == ""
    keys = (Key("hospital", ("收款单位",)),)
    got = pair_page(page(line("收款单位（意）", 100, 100), line("武汉洪山协和医院", 280, 100)), keys)
    assert {p.key.name: p.value for p in got} == {"hospital": "武汉洪山协和医院"}


def test_a_three_character_label_survives_a_misread_middle_character() -> None:
    from pipeline.extract.invoice import KEYS as INVOICE_KEYS

    got = pair_page(
        page(line("交教人", 40, 135), line("蔡宇", 135, 140), line("收款人：李娜", 600, 540)), INVOICE_KEYS
    )
    assert {p.key.name: p.value for p in got} == {"payer_name": "蔡宇", "cashier": "李娜"}
    # only the middle character, only at the head of a line
    assert not pair_page(page(line("交款", 40, 135), line("蔡宇", 135, 140)), INVOICE_KEYS)
    assert not pair_page(page(line("收款处", 40, 135), line("李娜", 135, 140)), INVOICE_KEYS)
    assert not pair_page(page(line("文款人", 40, 135), line("蔡宇", 135, 140)), INVOICE_KEYS)


def _option(text: str, x: float, h: float = 34) -> TextLine:
    return line(text, x, 818 - (h - 34), w=105, h=h)


def test_the_ticked_claim_type_is_the_option_the_tick_rises_above() -> None:
    from pipeline.extract.forms import claim_type

    # the ticked box and one empty box both went unread: the tick's overhang tells them apart
    row = [
        _option("门急诊医疗", 104, h=37),
        _option("□住院医疗", 285),
        _option("□ 意外医疗", 465),
        _option("重大疾病", 646),
    ]
    got = claim_type([page(*row)])
    assert got is not None and got.value == "outpatient" and got.confidence < 0.9
    # no option clearly taller: no guess
    even = [_option("门急诊医疗", 104, h=35), _option("□住院医疗", 285), _option("重大疾病", 646)]
    assert claim_type([page(*even)]) is None
    # a tick read as a character decides, whatever the heights
    read = [_option("☑门急诊医疗", 104), _option("□住院医疗", 285, h=40), _option("□重大疾病", 646)]
    assert claim_type([page(*read)]).value == "outpatient"


def test_a_box_the_first_reading_saw_marks_an_option_unticked() -> None:
    """An unsure line is read again from a blurred crop, which can lose the thin □: the first
    reading, kept beside the text, still says the option is not the ticked one."""
    from pipeline.extract.forms import claim_type

    blurred = _option("重大疾病", 646).model_copy(update={"raw_text": "□重大疾病"})
    row = [_option("门急诊医疗", 104, h=35), _option("□住院医疗", 285), blurred]
    got = claim_type([page(*row)])
    assert got is not None and got.value == "outpatient"
    # without the first reading two options have no box, neither clearly ticked: no guess
    assert claim_type([page(*row[:2], _option("重大疾病", 646))]) is None

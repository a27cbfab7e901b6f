"""Amounts in Chinese capital numerals (大写金额), as printed beside the figures on every invoice.

A total printed twice, in words and in figures, is the oldest anti-tamper device on a Chinese
receipt; the generator prints both, and plants disagreements on purpose.
"""

from __future__ import annotations

from decimal import Decimal

from pipeline.records import money

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿", "万亿")


def _four(n: int) -> str:
    """0..9999 as capitals, with inner zeros collapsed ('壹仟零伍')."""
    out = []
    zero = False
    for pos in range(3, -1, -1):
        d = n // 10**pos % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[d] + _SMALL_UNITS[pos])
    return "".join(out)


def amount_in_words(value: Decimal | int | str) -> str:
    """Yuan amount in capitals, e.g. 1234.56 -> 壹仟贰佰叁拾肆元伍角陆分, 100 -> 壹佰元整."""
    amount = money(value)
    if amount < 0:
        return "负" + amount_in_words(-amount)
    cents = int(amount * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    parts: list[str] = []
    if yuan:
        groups = []
        g = yuan
        while g:
            groups.append(g % 10000)
            g //= 10000
        text = ""
        need_zero = False
        for i in range(len(groups) - 1, -1, -1):
            grp = groups[i]
            if grp == 0:
                need_zero = bool(text)
                continue
            if text and (need_zero or grp < 1000):
                text += "零"
            text += _four(grp) + _GROUP_UNITS[i]
            need_zero = False
        parts.append(text + "元")
    if not jiao and not fen:
        return ("".join(parts) or "零元") + "整"
    if jiao:
        parts.append(DIGITS[jiao] + "角")
    elif yuan:
        parts.append("零")
    if fen:
        parts.append(DIGITS[fen] + "分")
    return "".join(parts)

"""Validators for extracted fields: each failed check is a named finding that later stages act on.

The parsers here (Chinese amounts in words, ID numbers, dates) are written for OCR output: they never
raise on garbage, they return None, and the check that used them fails with a message saying why.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal

from ocr.elements import Page
from ocr.numbers import id_birth_date, id_number_valid, luhn_valid, normalise_id
from ocr.numbers import id_check_digit as id_check_digit  # re-exported: the checks' public API
from pipeline.records import Check, Extraction, Field, LineItem, money

# --- GB 11643 resident ID numbers (the check digit itself: ocr/numbers.py) ------------------------


def id_sex(number: str) -> str | None:
    """男 or 女 from the 17th digit (odd is male)."""
    n = normalise_id(number)
    return None if len(n) != 18 or not n[16].isdigit() else ("男" if int(n[16]) % 2 else "女")


# --- amounts in Chinese words (大写) ---------------------------------------------------------------

_DIGITS = {
    "零": 0, "〇": 0, "壹": 1, "一": 1, "贰": 2, "貳": 2, "二": 2, "两": 2, "叁": 3, "參": 3, "三": 3,
    "肆": 4, "四": 4, "伍": 5, "五": 5, "陆": 6, "陸": 6, "六": 6, "柒": 7, "七": 7, "捌": 8, "八": 8,
    "玖": 9, "九": 9,
}  # fmt: skip
_SMALL_UNITS = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}
_BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_FRACTION = {"角": Decimal("0.1"), "分": Decimal("0.01")}
_NOISE = re.compile(r"[\s:：()（）人民币圆整正¥￥⊗⊕○×]")
AMOUNT_CHARS = frozenset(_DIGITS) | set(_SMALL_UNITS) | set(_BIG_UNITS) | set(_FRACTION) | set("元圆整正")
"""Every character an amount in words can be written with: any other one in a reading is a misread."""


def parse_amount_words(text: str) -> Decimal | None:
    """Chinese capital amount (壹仟贰佰叁拾肆元伍角陆分, 零元整) to Decimal yuan; None if unreadable."""
    s = unicodedata.normalize("NFKC", text)
    s = s.replace("大写", "").replace("合计", "").replace("金额", "")
    s = s.replace("圆", "元")
    s = _NOISE.sub("", s)
    if not s:
        return None
    yuan_part, _, frac_part = s.partition("元")
    if not _:  # no 元: only 角/分 forms like 伍角 are allowed
        yuan_part, frac_part = "", s
    try:
        whole = _parse_integer_words(yuan_part)
        frac = _parse_fraction_words(frac_part)
    except ValueError:
        return None
    if whole is None and frac is None:
        return None
    return money(Decimal(whole or 0) + (frac or Decimal(0)))


def _parse_integer_words(s: str) -> int | None:
    if not s:
        return None
    yi = wan = cur = 0  # the 亿 part, the 万 part, and what is below 万
    digit: int | None = None
    for ch in s:
        if ch in _DIGITS:
            if digit is not None and _DIGITS[ch] != 0:
                raise ValueError("two digits without a unit")
            digit = _DIGITS[ch] or None  # 零 only separates
        elif ch in _SMALL_UNITS:
            cur += (1 if digit is None else digit) * _SMALL_UNITS[ch]
            digit = None
        elif ch in _BIG_UNITS:
            part = cur + (digit or 0)
            if _BIG_UNITS[ch] == 10_000:
                wan, cur = part, 0
            else:  # 壹万亿贰仟亿: a second 亿 adds to the first (亿 groups of 万亿), never replaces it
                yi, wan, cur = yi + wan * 10_000 + part, 0, 0
            digit = None
        else:
            raise ValueError(f"not an amount character: {ch!r}")
    return yi * 100_000_000 + wan * 10_000 + cur + (digit or 0)


def _parse_fraction_words(s: str) -> Decimal | None:
    if not s:
        return None
    value = Decimal(0)
    digit: int | None = None
    seen = False
    for ch in s:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _FRACTION:
            if digit is None:
                raise ValueError("unit without digit")
            value += digit * _FRACTION[ch]
            digit, seen = None, True
        else:
            raise ValueError(f"not an amount character: {ch!r}")
    if digit not in (None, 0):
        raise ValueError("trailing digit without unit")
    return value if seen else Decimal(0)


def amount_words(value: Decimal) -> str:
    """Decimal yuan to the capital form printed on Chinese invoices (for messages and round trips)."""
    value = money(value)
    if value < 0:
        raise ValueError("negative amount")
    digits = "零壹贰叁肆伍陆柒捌玖"
    whole = int(value)
    jiao, fen = divmod(int((value - whole) * 100), 10)
    out = _integer_words(whole, digits) + "元" if whole else ""
    if jiao == 0 and fen == 0:
        return (out or "零元") + "整"
    if jiao:
        out += digits[jiao] + "角"
    elif whole:
        out += "零"
    if fen:
        out += digits[fen] + "分"
    return out


def _integer_words(n: int, digits: str) -> str:
    units = ("", "拾", "佰", "仟")
    bigs = ("", "万", "亿", "万亿")
    groups: list[int] = []
    while n:
        n, group = divmod(n, 10_000)
        groups.append(group)
    out = ""
    gap = False  # a zero group or a short group after a higher one is read with 零
    for level in range(len(groups) - 1, -1, -1):
        group = groups[level]
        if group == 0:
            gap = bool(out)
            continue
        if out and (gap or group < 1000):
            out += "零"
        four = ""
        zero = False
        for i in range(3, -1, -1):
            d = group // 10**i % 10
            if d:
                four += ("零" if zero and four else "") + digits[d] + units[i]
                zero = False
            else:
                zero = True
        out += four + bigs[level]
        gap = False
    return out


# --- dates and figures ---------------------------------------------------------------------------

_DATE_RE = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})")


def parse_date(text: str) -> dt.date | None:
    """2026年02月20日, 2026-02-20, 2026/2/20 or 20260220 to a date; None if none is there."""
    s = unicodedata.normalize("NFKC", text)
    m = _DATE_RE.search(s)
    if m is None:
        m8 = re.search(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)", s)
        if m8 is None:
            return None
        m = m8
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


_FIGURE_RE = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|-?\d+(?:\.\d{1,2})?")


def parse_figure(text: str) -> Decimal | None:
    """The amount in figures in '¥1,234.50', '1234.5元', '小写：1234.50'; None if there is none."""
    s = unicodedata.normalize("NFKC", text).replace(" ", "")
    m = _FIGURE_RE.search(s)
    if m is None:
        return None
    try:
        return money(m.group(0).replace(",", ""))
    except ValueError:
        return None


# --- the checks ----------------------------------------------------------------------------------


def _value(fields: dict[str, Field], name: str) -> object:
    f = fields.get(name)
    return None if f is None else f.value


def check_id_number(
    fields: dict[str, Field], name: str = "id_number", birth: str = "birth_date", sex: str = "sex"
) -> Check | None:
    """GB 11643 check digit, and the birth date and sex printed beside the number agree with it."""
    number = _value(fields, name)
    if number is None:
        return None
    ok = id_number_valid(str(number))
    check = Check(
        name="id_checksum",
        passed=ok,
        fields=[name],
        message="" if ok else f"ID number {number} fails the GB 11643 check digit or has no valid birth date",
    )
    born = _value(fields, birth)
    if ok and isinstance(born, dt.date) and id_birth_date(str(number)) != born:
        return Check(
            name="id_birth_date",
            passed=False,
            fields=[name, birth],
            message=f"birth date {born} does not agree with ID number {number}",
        )
    printed_sex = _value(fields, sex)
    if ok and printed_sex in ("男", "女") and id_sex(str(number)) != printed_sex:
        return Check(
            name="id_sex",
            passed=False,
            fields=[name, sex],
            message=f"sex {printed_sex} does not agree with ID number {number} ({id_sex(str(number))})",
        )
    return check


def check_luhn(fields: dict[str, Field], name: str = "card_number") -> Check | None:
    number = _value(fields, name)
    if number is None:
        return None
    ok = luhn_valid(str(number))
    return Check(
        name="luhn",
        passed=ok,
        fields=[name],
        message="" if ok else f"card number {number} fails the Luhn check",
    )


def check_words_vs_figures(
    fields: dict[str, Field], words: str = "total_in_words", figures: str = "total_amount"
) -> Check | None:
    """The amount in capitals (大写) and in figures (小写) are the same amount."""
    w, f = fields.get(words), fields.get(figures)
    if w is None or f is None or f.value is None:
        return None
    parsed = parse_amount_words(str(w.value if w.value is not None else w.raw_text))
    if parsed is None:
        return Check(
            name="words_vs_figures",
            passed=False,
            fields=[words, figures],
            message=f"amount in words {w.raw_text!r} cannot be read",
            severity="warning",
        )
    ok = parsed == money(f.value)  # type: ignore[arg-type]
    return Check(
        name="words_vs_figures",
        passed=ok,
        fields=[words, figures],
        message="" if ok else f"amount in words {parsed} differs from the figures {f.value}",
    )


def check_items_sum(
    items: Sequence[LineItem],
    total: Decimal | None,
    tolerance: Decimal = Decimal("0.01"),
    *,
    name: str = "items_sum_to_total",
    field: str = "total_amount",
) -> Check | None:
    if not items or total is None:
        return None
    s = sum((i.amount for i in items), Decimal(0))
    ok = abs(s - total) <= tolerance
    return Check(
        name=name,
        passed=ok,
        fields=[field],
        message="" if ok else f"line items add up to {s}, the {field} says {total}",
    )


def check_payer_split(
    fields: dict[str, Field], others: Sequence[Decimal] = (), *, funds_in_doubt: bool = False
) -> Check | None:
    """Who paid must add up to the invoice total.

    Two conventions are printed: by payment channel, 医保统筹基金支付 (fund_paid) + 个人账户支付
    (account_paid) + 个人现金支付 (cash_paid) = total; or by share, 医保统筹支付 + 个人自付 (copay) +
    个人自费 (self_pay) = total. The channel split is used when the invoice prints it. `others` are
    the amounts paid by funds beside 统筹 (大额(病)保险, 公务员补助, 医疗救助, 其他支付 ...): bills differ
    in which of them 统筹 already counts, so the split holds when some of them complete it. With
    `funds_in_doubt` (the bill names funds that were not all read) a split short of the total is a
    warning, not an error: the gap may be an unread fund's.
    """
    total = _value(fields, "total_amount")
    channels = [n for n in ("fund_paid", "account_paid", "cash_paid") if _value(fields, n) is not None]
    if len(channels) >= 2 and "cash_paid" in channels:
        parts = channels
    else:
        parts = [n for n in ("fund_paid", "copay", "self_pay", "other_paid") if _value(fields, n) is not None]
    if total is None or len(parts) < 2:
        return None
    s = sum((money(_value(fields, n)) for n in parts), Decimal(0))  # type: ignore[arg-type]
    extra = money(total) - s  # type: ignore[arg-type]
    ok = extra == 0 or (bool(others) and extra in fund_completions(others))
    named = [*parts, "other funds"] if others and extra else parts
    return Check(
        name="payer_split",
        passed=ok,
        fields=["total_amount", *parts],
        message="" if ok else f"{' + '.join(named)} do not add up to the total {total} (short by {extra})",
        severity="warning" if funds_in_doubt and extra > 0 else "error",
    )


def fund_completions(amounts: Sequence[Decimal], limit: int = 6) -> set[Decimal]:
    """What the funds beside 统筹 may add to a split: the sum of any of them (bills print 其他支付
    beside its parts, and some count a fund inside 统筹), 0 included."""
    values = [money(a) for a in amounts if money(a) != 0][:limit]
    sums = {Decimal("0.00")}
    for r in range(1, len(values) + 1):
        for combo in itertools.combinations(values, r):
            sums.add(money(sum(combo, Decimal(0))))
    return sums


def check_date_order(dates: Sequence[tuple[str, dt.date | None]]) -> Check | None:
    """Dates that must not go backwards, e.g. admission <= discharge <= invoice date."""
    known = [(n, d) for n, d in dates if d is not None]
    if len(known) < 2:
        return None
    for (n1, d1), (n2, d2) in itertools.pairwise(known):
        if d1 > d2:
            return Check(
                name="date_order",
                passed=False,
                fields=[n1, n2],
                message=f"{n1} {d1} is after {n2} {d2}",
            )
    return Check(name="date_order", passed=True, fields=[n for n, _ in known])


PATIENT_FIELDS = ("payer_name", "patient_name", "insured_name")
"""Fields naming the insured person, the patient of the medical documents."""
CLAIMANT_FIELDS = ("name", "claimant_name", "account_holder")
"""Fields naming the claimant: the ID card holder (身份证 is the claimant's) and the payee."""


def check_same_person(
    extractions: Iterable[Extraction],
    claimant: str | None = None,
    *,
    fields: Sequence[str] = PATIENT_FIELDS,
    check_name: str = "same_person",
    source: str = "claim.insured",
) -> Check | None:
    """One person across the claim: every document naming the patient (or the claimant) agrees.

    `claimant` is the name the claim metadata gives for that role. Names one character apart
    (an OCR misread of a three-character name) are a warning, different names an error.
    """
    names: dict[str, set[str]] = {}
    for ex in extractions:
        for fname in fields:
            f = ex.field(fname)
            if f is not None and f.value:
                names.setdefault(_norm_name(str(f.value)), set()).add(f"{ex.doc_type.value}.{fname}")
    if claimant:
        names.setdefault(_norm_name(claimant), set()).add(source)
    if len(names) < 2:
        return None if not names else Check(name=check_name, passed=True, fields=list(fields))
    listing = "; ".join(f"{n} ({', '.join(sorted(w))})" for n, w in sorted(names.items()))
    keys = list(names)
    near = all(_one_apart(a, b) for a, b in itertools.combinations(keys, 2))
    return Check(
        name=check_name,
        passed=False,
        fields=list(fields),
        message=f"different names across documents: {listing}",
        severity="warning" if near else "error",
    )


def _one_apart(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 1 and len(a) >= 2


def _norm_name(s: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", s))


# --- legibility of a photographed page -------------------------------------------------------------

UNSURE_LINE = 0.8
"""A line read with less confidence than this counts as uncertain."""
MAX_UNSURE_SHARE = 0.2
"""A page with at least `MIN_UNSURE_LINES` uncertain lines making up this share of its lines is too
blurred, small or dark to read. On the extraction benchmark's photos (`python -m bench.extract`)
every page below the line lost most of its fields and pages above it lost almost none; a bank card's
one decorative line (1 in 5-7) must not trip it, hence the minimum count."""
MIN_UNSURE_LINES = 2
MIN_MEAN_SCORE = 0.85
"""A page whose lines average less than this is not legible either (a page of one or two lines)."""
SPARSE_LINES_PER_KEY_FIELD = 2
"""Key fields not found point at the photo only when little text was read on it: fewer confidently
read lines than twice the document's key fields (a card photographed too small shows two lines of
its twelve). A page of many confidently read lines whose fields were not found is a layout the
extractors do not know, which a person reads without effort: no retake is asked of it. Calibrated on
both sets: on the synthetic photos (`bench.extract`, seeds 5151 and 7373) every poor photo the
missing-fields rule caught alone had at most two confident lines; on the real development bills
(`bench.real`) every document it sent back had 19 or more, and a person reads all of them."""


def check_legibility(
    pages: Sequence[Page], core: Sequence[str] = (), missing: Sequence[str] = ()
) -> Check | None:
    """Whether the photographed pages can be read reliably, or the claimant should photograph them again.

    A page that is mostly uncertain lines yields wrong values far more often than right ones, and
    the fix is a clearer photo (重新拍摄), not a person guessing from a blur. So does a photo on
    which most of the document's `core` fields were not found at all and little text was read
    (text too small or too blurred to be detected: what is left reads confidently, but it is a
    fraction of the page); fields missing from a page read well are the extractors' problem, and a
    person's, never the claimant's.
    Text-layer pages are always legible; None when there is no photographed page.
    """
    photographed = [p for p in pages if p.source == "ocr"]
    if not photographed:
        return None
    bad: list[str] = []
    confident = sum(ln.score >= UNSURE_LINE for p in photographed for ln in p.lines)
    if core and 2 * len(missing) >= len(core) and confident < SPARSE_LINES_PER_KEY_FIELD * len(core):
        bad.append(
            f"{len(missing)} of {len(core)} key fields not found ({', '.join(missing)}) and only"
            f" {confident} lines read with confidence"
        )
    for p in photographed:
        scores = [ln.score for ln in p.lines]
        unsure = sum(s < UNSURE_LINE for s in scores)
        mean = sum(scores) / len(scores) if scores else 0.0
        if not scores:
            bad.append(f"page {p.number}: no text found")
        elif mean < MIN_MEAN_SCORE or unsure >= max(MIN_UNSURE_LINES, MAX_UNSURE_SHARE * len(scores)):
            bad.append(f"page {p.number}: {unsure} of {len(scores)} lines uncertain, mean score {mean:.2f}")
    why = "too blurred, small or dark to read reliably; ask for a clearer photo"
    return Check(
        name="legible", passed=not bad, message=f"{why} ({'; '.join(bad)})" if bad else "", severity="warning"
    )


# --- documents that are no claim document --------------------------------------------------------

BLANK_PAGE_CHARS = 8
"""A document whose pages hold fewer printed characters than this is a blank (or near-blank) page:
the back of a sheet, a cover, a photo of the table. Generic: a claim document prints hundreds."""

OTHER_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "a lab report (检验报告/化验单)",
        ("检验报告", "化验单", "血常规", "尿常规", "参考范围", "参考值", "检验者"),
    ),
    ("a prescription (处方笺)", ("处方笺", "处方", "Rp", "用法用量")),
    ("a travel ticket (车票/机票)", ("铁路", "车票", "检票", "航班", "登机牌", "行程单", "二等座", "经停")),
    ("an invoice of another kind (发票)", ("住宿", "餐饮", "运输服务", "客运", "增值税", "发票")),
    ("a receipt (收据/小票)", ("收据", "小票", "收银", "找零")),
)
"""What a document that is not a claim document most often is, by words its kind prints: only the
message names it (the finding is the same), so a person knows what was set aside at a glance."""


def check_not_claim_document(pages: Sequence[Page]) -> Check:
    """A document typed `other` is set aside with a reason a person can read, never taken for an
    invoice: `blank_page` when hardly anything is printed, else `not_a_claim_document`."""
    text = unicodedata.normalize("NFKC", "".join(ln.text for p in pages for ln in p.lines))
    printed = re.sub(r"[\s\W_]", "", text)
    if len(printed) < BLANK_PAGE_CHARS:
        return Check(
            name="blank_page",
            passed=False,
            message=f"a blank or near-blank page ({len(printed)} characters printed): not a claim document",
            severity="warning",
        )
    kind = next((k for k, words in OTHER_KINDS if any(w in text for w in words)), None)
    return Check(
        name="not_a_claim_document",
        passed=False,
        message=f"{kind or 'this document'} is not a claim document; set aside, not read as one",
        severity="warning",
    )

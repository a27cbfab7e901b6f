"""Values that cannot be what their field says, and values the reader is not sure of.

OCR is as sure of some wrong readings as of right ones: a hospital's name half under its red seal
reads confidently as its two visible ends (贵州省人民医院 as 贵州民院), a name one character off
the words institutions are named with (大学附属医院 as 大子附属医院, `institutions.near_miss`), an
amount in words with a character no amount is written with (叁 as 泰). Confidence alone cannot
catch these; the shape of the value can. Such a field keeps its value for the person who looks at
it, with its confidence capped, and the document goes to a person (`needs_review`) with a failed
`plausible` check, as does a document with a key field (one a decision or a payment rests on) read
with less confidence than `FIELD_MIN_CONFIDENCE`: a value the reader is unsure of is confirmed by a
person, never paid on unseen. The check fails with severity `error`, so adjudication refers the
claim (`extraction_checks`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from pipeline.extract.base import HOSPITAL_SUFFIX
from pipeline.extract.institutions import near_miss
from pipeline.records import Check, Field

IMPLAUSIBLE_CONFIDENCE = 0.5
"""The confidence an implausible value keeps: below any threshold that lets a value through."""

HOSPITAL_NAME = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9()（）·]{2,40}?" + HOSPITAL_SUFFIX.pattern)
"""An institution's name: at least two characters of its own before what it is (医院, 卫生院 …)."""
AMOUNT_WORDS = re.compile(r"^[零壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆角分整正]+$")
"""An amount in words (大写) uses these characters and no other."""

PERSON_NAME = re.compile(
    r"^(?!.*(?:代码|号码|信用|社会|日期|金额|医保|支付|合计|类型|编号|单位|医院|科室|性别|姓名|交款|收款))"
    r"[\u4e00-\u9fff·•A-Za-z ]{1,20}$"
)
"""A person's name: letters (Han, or Latin for a foreigner's), never a form's label words, which a
label read as its neighbour's value brings (交款人统一社会信用代码 paired as 交款人 | 统一社会信用)."""

_VALIDATORS: dict[str, tuple[re.Pattern[str], str]] = {
    "hospital": (HOSPITAL_NAME, "no institution's name ends like this"),
    "total_in_words": (AMOUNT_WORDS, "a character no amount in words is written with"),
    "payer_name": (PERSON_NAME, "a form's label, not a person's name"),
    "patient_name": (PERSON_NAME, "a form's label, not a person's name"),
}


def implausible(name: str, value: object) -> str | None:
    """Why `value` cannot be a `name`, or None when it can (or nothing is known of its shape)."""
    rule = _VALIDATORS.get(name)
    if rule is None or value is None:
        return None
    pattern, why = rule
    text = re.sub(r"\s", "", str(value))
    # a name may carry its other name in brackets: 山东省肿瘤防治研究院（山东省肿瘤医院）
    alias = re.fullmatch(r"(.+?)[（(]([^（）()]+)[）)]", text)
    candidates = [text, *(alias.groups() if alias else ())]
    if not any(pattern.match(c) for c in candidates):
        return why
    if name == "hospital" and (word := near_miss(text)) is not None:
        return f"one character off {word}, a word of institutions' names"
    return None


KEY_FIELDS = frozenset(
    {
        "total_amount", "fund_paid", "account_paid", "cash_paid", "self_pay", "copay", "invoice_number",
        "issue_date", "visit_date", "admission_date", "discharge_date", "hospital", "payer_name",
        "patient_name", "diagnosis", "card_number", "account_number", "id_number", "name",
    }
)  # fmt: skip
"""What a decision or a payment rests on. A value derived rather than read (an ICD code looked up
from the diagnosis's name) carries the lookup's score, not a reading's, and is no key field."""


def review_fields(
    fields: dict[str, Field], min_confidence: float, key: Collection[str] = KEY_FIELDS
) -> Check | None:
    """Cap the confidence of implausible values; a failed check naming every field a person must
    confirm (implausible, or a `key` field read with less than `min_confidence`), or None."""
    doubts: list[str] = []
    for name, f in fields.items():
        why = implausible(name, f.value)
        if why is not None:
            fields[name] = f.model_copy(update={"confidence": min(f.confidence, IMPLAUSIBLE_CONFIDENCE)})
            doubts.append(f"{name} {f.value!r}: {why}")
        elif name in key and f.confidence < min_confidence:
            doubts.append(f"{name} read with confidence {f.confidence:.2f}")
    if not doubts:
        return None
    return Check(
        name="plausible",
        passed=False,
        message="a person confirms: " + "; ".join(doubts),
        fields=[d.split(" ", 1)[0] for d in doubts],
        severity="error",
    )


READING_DOUBTS = frozenset({"plausible", "decisive_fields", "invoice_total_unread"})
"""Failed checks that say a value was read unsure or not at all (not that the documents disagree): a
person confirms the reading before anything is decided on it, a denial included."""


def reading_unconfirmed(checks: Iterable[Check]) -> list[str]:
    """The fields of `checks` whose reading a person must still confirm (empty: all read surely)."""
    return [f for c in checks if not c.passed and c.name in READING_DOUBTS for f in c.fields or [c.name]]

"""Key-value pairing and the document extractors over pages hypothesis invents: no crash on any
lines OCR could return (empty, overlapping, zero-sized, far off the page, any text), and the
approximate label search keeps its promise. `test_extract_pairing.py` holds the known layouts."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ocr.elements import Page, TextLine
from pipeline.extract.documents import EXTRACTORS, extract_document, extraction_json
from pipeline.extract.invoice import KEYS as INVOICE_KEYS
from pipeline.extract.pairing import clean_value, edit_distance, fuzzy_find, pair_page, parse_value
from pipeline.records import DocType, FieldKind

FAST = settings(max_examples=150, deadline=None)

# label words and values the extractors look for, mixed with noise, so that labels are found
WORDS = [
    "姓名", "交款人", "金额", "合计", "医保统筹基金支付", "个人自费", "就诊日期", "住院号", "入院日期",
    "出院日期", "诊断", "票据号码", "银行卡号", "身份证号", "¥123.45", "2026年02月03日", "壹佰元整",
    "11010519491231002X", "6222020200112233445", "张三", ":", "（", "）", "|",
]  # fmt: skip
texts = st.one_of(
    st.text(max_size=24),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map("".join),
)
coords = st.floats(min_value=-50, max_value=3000, allow_nan=False, allow_infinity=False)


@st.composite
def lines(draw: st.DrawFn) -> TextLine:
    x, y = draw(coords), draw(coords)
    w = draw(st.floats(min_value=0, max_value=900, allow_nan=False))
    h = draw(st.sampled_from([0.0, 0.5, 12.0, 30.0, 31.0, 200.0]))
    return TextLine(
        text=draw(texts),
        box=((x, y), (x + w, y), (x + w, y + h), (x, y + h)),
        score=draw(st.floats(min_value=0, max_value=1)),
    )


pages = st.builds(
    lambda ls, n: Page(number=n, width=1600, height=2200, lines=ls),
    st.lists(lines(), max_size=25),
    st.integers(min_value=1, max_value=3),
)


@FAST
@given(pages)
def test_pairing_invoice_keys_on_any_page_never_raises(page: Page) -> None:
    for pair in pair_page(page, INVOICE_KEYS):
        field = pair.to_field()
        assert field.page == page.number and 0 <= field.confidence <= 1.0
        json.dumps(field.model_dump(mode="json"), ensure_ascii=False)


@FAST
@given(st.lists(pages, min_size=1, max_size=3), st.sampled_from(sorted(EXTRACTORS, key=str)))
def test_every_extractor_takes_any_pages(doc: list[Page], doc_type: DocType) -> None:
    ex = extract_document(doc, doc_type, document_id="a" * 64)
    assert ex.doc_type is doc_type
    json.dumps(extraction_json(ex), ensure_ascii=False, default=str)


@FAST
@given(
    st.text(max_size=30),
    st.sampled_from(list(FieldKind)),
    st.sampled_from([None, r"(\d{4,})", r"([¥￥]\d+\.\d{2})"]),
)
def test_parse_value_never_raises(text: str, kind: FieldKind, pattern: str | None) -> None:
    parsed = parse_value(text, kind, pattern)
    assert parsed is None or isinstance(parsed[1], str)
    clean_value(text)


@FAST
@given(
    st.text(alphabet="发票金额合计住院号张三四五¥0123456789", min_size=1, max_size=8),
    st.text(max_size=30),
    st.integers(0, 3),
)
def test_fuzzy_find_reports_the_edits_of_the_span_it_returns(label: str, text: str, max_errors: int) -> None:
    found = fuzzy_find(label, text, max_errors)
    if label in text:
        assert found is not None and found[2] == 0
    if found is not None:
        start, end, errors = found
        assert 0 <= start <= end <= len(text) and errors <= max_errors
        assert edit_distance(label, text[start:end]) == errors, (label, text, found)

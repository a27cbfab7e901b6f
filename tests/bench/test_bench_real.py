"""The real-bills bench scores as the issue says: normalised exact match, key fields, codes apart."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from bench.real import normalise, score
from pipeline.records import Field


def test_normalise_money_dates_brackets_and_width() -> None:
    assert normalise("total_amount", "¥1,234.5") == "1234.50"
    assert normalise("issue_date", "2021年3月9日") == "2021-03-09"
    assert normalise("issue_date", dt.date(2021, 3, 9)) == "2021-03-09"
    assert normalise("hospital", "（ 山东省肿瘤医院 ）") == "山东省肿瘤医院"
    assert normalise("payer_name", "ＡＢ") == "AB"


def _read(**values: str) -> SimpleNamespace:
    return SimpleNamespace(fields=[Field(name=k, value=v, confidence=0.99) for k, v in values.items()])


def test_a_coded_diagnosis_is_right_when_name_and_code_are_read() -> None:
    label = {"fields": {"diagnosis": "(C50.801)乳腺恶性肿瘤，上部", "total_amount": "12.00"}}
    both = score(label, _read(diagnosis="乳腺恶性肿瘤，上部", diagnosis_code="C50.801", total_amount="12"))
    assert [r["ok"] for r in both] == [True, True]
    no_code = score(label, _read(diagnosis="乳腺恶性肿瘤，上部"))
    assert not no_code[0]["ok"] and no_code[0]["key"]
    wrong_code = score(label, _read(diagnosis="乳腺恶性肿瘤，上部", diagnosis_code="C50.900"))
    assert not wrong_code[0]["ok"]


def test_the_sweep_sends_documents_with_a_key_field_below_each_threshold() -> None:
    from bench.real import confidence_sweep

    def doc(person: bool, *fields: tuple[bool, float]) -> dict[str, object]:
        rows = [{"key": True, "found": True, "ok": ok, "confidence": c} for ok, c in fields]
        return {"person": person, "fields": rows}

    docs = [doc(False, (True, 0.99), (False, 0.96)), doc(False, (True, 0.999)), doc(True, (False, 0.5))]
    rows = {r["threshold"]: r for r in confidence_sweep(docs)}
    assert rows[0.8]["sent_to_person"] == round(1 / 3, 4) and rows[0.8]["silent_errors"] == round(1 / 3, 4)
    assert rows[0.97]["sent_to_person"] == round(2 / 3, 4) and rows[0.97]["silent_errors"] == 0.0

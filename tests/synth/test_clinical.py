"""Clinical wording: every way a record writes a catalogue diagnosis maps back to its ICD-10 code."""

from __future__ import annotations

import random

import pytest

from pipeline.extract.icd10 import code_for, core_name
from synth import catalog, clinical


@pytest.mark.parametrize("code", sorted(clinical.WORDINGS))
def test_every_wording_keeps_its_code(code: str) -> None:
    names = {d.icd10: d.name for pool in catalog.DIAGNOSES.values() for d in pool}
    names |= {"I10": "原发性高血压", "E78.5": "高脂血症", "K76.0": "脂肪肝"}  # the book's secondary ones
    rng = random.Random(code)
    for _ in range(60):
        printed = clinical.printed_diagnosis(code, names.get(code, ""), rng)
        found = code_for(printed)
        assert found is not None and found[0] == code, (printed, core_name(printed), found)


def test_wordings_vary_side_stage_and_treatment() -> None:
    rng = random.Random(5)
    seen = {clinical.printed_diagnosis("C50.9", "乳腺恶性肿瘤", rng) for _ in range(200)}
    assert len(seen) > 40
    assert any("期" in s for s in seen) and any(s.startswith(("左", "右")) for s in seen)
    assert any(s.endswith(("术后", "化疗后", "化疗")) for s in seen)


def test_core_name_strips_only_what_qualifies() -> None:
    assert core_name("左乳癌（T2N2M0）ⅢA期术后") == "乳癌"
    assert core_name("右肺小细胞肺癌（广泛期）化疗后") == "肺小细胞肺癌"
    assert core_name("胃癌伴幽门梗阻") == "胃癌"
    assert core_name("高血压病3级（很高危）") == "高血压病"
    assert core_name("肺炎") == "肺炎"

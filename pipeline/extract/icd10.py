"""ICD-10 codes for Chinese diagnosis names, from the dictionary shipped with the project (icd10.csv).

Discharge summaries (出院小结) and diagnosis certificates (诊断证明书) print a diagnosis name and
usually its code; OCR garbles codes more than names (`I10` read as `110`, `S52.5` as `552.5`), so a
printed code is repaired by shape, and the name is looked up to fill in or confirm it.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

from pipeline.extract.pairing import norm, similar

ICD10_CSV = Path(__file__).with_name("icd10.csv")
_CODE = re.compile(r"^[A-Z]\d{2}(?:\.\d{1,3}(?:x\d{3})?)?$")
"""ICD-10 as Chinese records print it: the category, a subcategory, and the national clinical
version's extension where used (C50.801, C79.500x001): kept whole, as printed."""
_LETTER_FOR_DIGIT = {"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "6": "G"}


@lru_cache(maxsize=1)
def dictionary() -> dict[str, str]:
    """Normalised diagnosis name -> ICD-10 code."""
    with ICD10_CSV.open(encoding="utf-8") as fh:
        return {norm(row["name"]): row["code"].strip() for row in csv.DictReader(fh)}


_BRACKETED = re.compile(r"[(（][^()（）]*[)）]")
_STAGE = re.compile(
    r"[cpyr]?T[0-4xis][a-c]?N[0-3x][a-c]?M[01x][a-c]?|[IV]+[ABC]?期|[广局][泛限]期|[1-4一二三]级|[,，、]?\s*$"
)
_STATUS = re.compile(
    r"(?:(?:PCI|内固定|根治|切除|改良根治|介入|支架植入|置管)?术后|新辅助化疗后?|第\d+(?:周期|次)(?:新辅助)?化疗|化疗后|放疗后"
    r"|维持(?:性)?治疗|靶向治疗中?|化疗中|综合治疗后?)$"
)
_SIDE = re.compile(r"^(?:左侧|右侧|双侧|左|右|双)(?=.{2})")
_COMPLICATION = re.compile(r"(?<=.{2})(?:伴|合并|并发).*$")


def core_name(name: str) -> str:
    """The diagnosis a record's wording names, without what only qualifies it: side (左/右/双侧),
    bracketed notes, TNM and stage (T2N1M0, ⅢA期, 广泛期, 3级), treatment status (术后, 化疗后,
    第2周期化疗) and a complication (伴…): `左乳癌（T2N2M0）ⅢA期术后` names 乳癌."""
    s = norm(re.sub(r"[?？*＊]", "", name))
    s = _BRACKETED.sub("", s)
    s = _COMPLICATION.sub("", s)
    for _ in range(3):
        before = s
        s = _STAGE.sub("", s)
        s = _STATUS.sub("", s)
        if s == before:
            break
    return _SIDE.sub("", s)


def code_for(name: str, min_similarity: float = 0.75) -> tuple[str, float] | None:
    """The code of the closest dictionary name and how close it is (1.0 = exact); None if none is close.

    The wording is tried as printed, then reduced to its core name (`core_name`), exact before fuzzy.
    """
    n = norm(re.sub(r"[?？]", "", name))
    if not n:
        return None
    d = dictionary()
    if n in d:
        return d[n], 1.0
    core = core_name(name)
    head = re.split(r"[,;，；、]", core)[0]  # 乳腺恶性肿瘤，上部: the site's detail after a comma
    for c in (core, head):
        if c in d:
            return d[c], 0.95
    scored = [(similar(k, c), k) for c in {n, core, head} if c for k in d]
    score, best = max(scored)
    return (d[best], score) if score >= min_similarity else None


def normalise_code(text: str) -> str | None:
    """A printed code in canonical shape (`J18.9`), repairing OCR's digit-for-letter errors; else None."""
    s = norm(text).upper().replace("，", ".").replace(",", ".").replace("·", ".")
    m = re.search(r"[A-Z0-9]\d{2}(?:\.\d{1,3}(?:X\d{3})?)?", s)
    if m is None:
        return None
    code = m.group(0)
    if code[0].isdigit():
        code = _LETTER_FOR_DIGIT.get(code[0], code[0]) + code[1:]
    code = re.sub(r"X(?=\d{3}$)", "x", code)  # the extension's x is printed small
    return code if _CODE.match(code) else None


def valid_code(code: str) -> bool:
    return bool(_CODE.match(code))

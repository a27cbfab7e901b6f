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
_CODE = re.compile(r"^[A-Z]\d{2}(?:\.\d{1,2})?$")
_LETTER_FOR_DIGIT = {"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "6": "G"}


@lru_cache(maxsize=1)
def dictionary() -> dict[str, str]:
    """Normalised diagnosis name -> ICD-10 code."""
    with ICD10_CSV.open(encoding="utf-8") as fh:
        return {norm(row["name"]): row["code"].strip() for row in csv.DictReader(fh)}


def code_for(name: str, min_similarity: float = 0.75) -> tuple[str, float] | None:
    """The code of the closest dictionary name and how close it is (1.0 = exact); None if none is close."""
    n = norm(re.sub(r"[?？]", "", name))
    if not n:
        return None
    d = dictionary()
    if n in d:
        return d[n], 1.0
    best = max(d, key=lambda k: similar(k, n))
    score = similar(best, n)
    return (d[best], score) if score >= min_similarity else None


def normalise_code(text: str) -> str | None:
    """A printed code in canonical shape (`J18.9`), repairing OCR's digit-for-letter errors; else None."""
    s = norm(text).upper().replace("，", ".").replace(",", ".").replace("·", ".")
    m = re.search(r"[A-Z0-9]\d{2}(?:\.\d{1,2})?", s)
    if m is None:
        return None
    code = m.group(0)
    if code[0].isdigit():
        code = _LETTER_FOR_DIGIT.get(code[0], code[0]) + code[1:]
    return code if _CODE.match(code) else None


def valid_code(code: str) -> bool:
    return bool(_CODE.match(code))

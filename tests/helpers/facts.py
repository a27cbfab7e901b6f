"""Hand-made claim facts for the tests: a clean claim unless told otherwise.

The builder is the golden cases' own (`adjudication.golden.case_facts`), so a test and a golden case
that say the same facts mean the same claim.
"""

from __future__ import annotations

from decimal import Decimal

from adjudication.golden import INCIDENT, INPATIENT_DOCS, OUTPATIENT_DOCS, PRODUCT, case_facts, line_items

__all__ = ["INCIDENT", "INPATIENT_DOCS", "OUTPATIENT_DOCS", "PRODUCT", "D", "items", "make_facts"]

D = Decimal
make_facts = case_facts
items = line_items

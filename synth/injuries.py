"""Injuries claimed under health products: an outpatient visit, a stay or a critical illness whose
principal diagnosis is an injury (意外伤害所致, ICD-10 S00-T98), some on a policy still in its waiting period.

The wordings exempt such claims from the waiting period (等待期) and from the pre-existing-condition
check (既往症), so the book needs them, new policies included, for the bench to see that rule at work.
Drawn from a stream of their own (`side`), so every claim that is not an injury stays as it was.
"""

from __future__ import annotations

import datetime as dt
import random

from pipeline.records import ClaimType
from synth import catalog
from synth.policies import term_of
from synth.truth import IncidentTruth, PolicyTruth

__all__ = ["INJURY_SHARE", "NEW_POLICY_SHARE", "injured", "injury_stream", "new_policy"]

INJURY_SHARE = {ClaimType.OUTPATIENT: 0.05, ClaimType.INPATIENT: 0.12, ClaimType.CRITICAL_ILLNESS: 0.05}
"""Of the claims of each health type with no planted problem in the way, the share that are injuries."""
NEW_POLICY_SHARE = 0.35
"""Of those injuries, the share on a policy still inside its waiting period: accidents keep no calendar."""
KEEPS_ITS_DIAGNOSIS = {"exclusion", "waiting_period", "soon_after_inception"}
"""Planted problems that need the disease they were drawn with (an injury would not show them)."""


def injury_stream(seed: int, index: int) -> random.Random:
    """The claim's own stream for the injury draws, apart from its main one."""
    return random.Random(f"{seed}:{index}:injury")


def injured(
    side: random.Random, incident: IncidentTruth, diagnosis: catalog.Diagnosis, problem: str | None
) -> tuple[IncidentTruth, catalog.Diagnosis, bool]:
    """The incident as an injury (its principal diagnosis S00-T98) for some health claims; and whether
    the policy is new (still inside its waiting period). Otherwise the incident unchanged."""
    ct = incident.claim_type
    if ct not in INJURY_SHARE or problem in KEEPS_ITS_DIAGNOSIS or side.random() >= INJURY_SHARE[ct]:
        return incident, diagnosis, False
    injury = side.choice(catalog.INJURY_DIAGNOSES[ct])
    diagnoses = [(injury.icd10, injury.name)]
    caused = catalog.CAUSED_CONDITIONS.get(injury.icd10)
    name = injury.name
    if caused:  # a critical illness the injury led to
        diagnoses.append(caused)
        name = f"{injury.name}致{caused[1]}"
    diagnoses += [d for d in incident.diagnoses[1:] if ct is ClaimType.INPATIENT]  # a stay's other findings
    update = {
        "diagnoses": diagnoses,
        "accident_cause": side.choice(catalog.ACCIDENT_CAUSES),
        "department": catalog.DEPARTMENTS.get(injury.icd10[0], "外科"),
        "description": incident.description.replace(diagnosis.name, name, 1),
    }
    return incident.model_copy(update=update), injury, side.random() < NEW_POLICY_SHARE


def new_policy(side: random.Random, policy: PolicyTruth, waiting: int, incident: dt.date) -> PolicyTruth:
    """The policy taken out within `waiting` days before the incident (cover start is day 1), in its
    first one-year term, nothing paid nor deductible used yet."""
    if waiting <= 0:
        return policy
    effective = incident - dt.timedelta(days=side.randint(0, waiting - 1))
    number = f"{policy.policy_number[:3]}{effective:%Y}{policy.policy_number[7:]}"
    fresh = {"prior_paid_this_year": 0, "deductible_used_this_year": 0, "prior_paid_total": 0}  # nothing yet
    expiry = term_of(effective, incident)[1]  # its first term
    update = {"effective_date": effective, "expiry_date": expiry, "policy_number": number, **fresh}
    return policy.model_copy(update=update)

"""Injuries claimed under health products: drawn on their own stream, with an injury as the principal
diagnosis, some on a policy still inside its waiting period."""

from __future__ import annotations

import datetime as dt

from pipeline.records import ClaimType
from synth.book import make_book
from synth.injuries import INJURY_SHARE, injury_stream, new_policy


def _injury(diagnoses: list[tuple[str, str]]) -> bool:
    code = diagnoses[0][0] if diagnoses else ""
    return "S00" <= code[:3] <= "T98"


def test_a_book_holds_injuries_of_every_health_type_some_inside_the_waiting_period() -> None:
    book = make_book(1500, seed=11)
    injuries = [c for c in book if c.incident.claim_type in INJURY_SHARE and _injury(c.incident.diagnoses)]
    assert {c.incident.claim_type for c in injuries} == set(INJURY_SHARE)
    new = [c for c in injuries if (c.incident.incident_date - c.policy.effective_date).days < 30]
    assert new, "no injury on a policy still in its waiting period"
    for c in new:  # the wordings: an injury does not wait, so none of these is refused for it
        assert not {"WAITING_PERIOD", "EARLY_CLAIM"} & set(c.expected.reason_codes), c.claim_id


def test_the_injury_stream_is_the_claims_own_and_a_new_policy_is_in_its_first_term() -> None:
    assert injury_stream(1, 2).random() == injury_stream(1, 2).random() != injury_stream(1, 3).random()
    (claim,) = make_book(1, seed=3)
    incident = dt.date(2026, 5, 10)
    fresh = new_policy(injury_stream(3, 0), claim.policy, 90, incident)
    assert 0 <= (incident - fresh.effective_date).days < 90
    assert fresh.expiry_date is not None and fresh.effective_date <= incident <= fresh.expiry_date
    assert fresh.prior_paid_this_year == fresh.prior_paid_total == 0
    assert new_policy(injury_stream(3, 0), claim.policy, 0, incident) == claim.policy  # no waiting period
    assert ClaimType.ACCIDENT not in INJURY_SHARE  # accident cover has no waiting period to escape

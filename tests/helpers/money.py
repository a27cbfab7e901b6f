"""Decisions and review tasks put in a test store the way the runner records them."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from pipeline import decisions
from pipeline.records import Outcome
from pipeline.stages import Stage
from pipeline.store import CaseStore


def record(
    store: CaseStore,
    outcome: Outcome,
    *,
    priority: int = 0,
    due_at: dt.datetime | None = None,
    bundle: BaseModel | None = None,
) -> int:
    """The runner's decision (a claim routed to a person gets its review task); returns its version."""
    rec = decisions.record_machine_decision(
        store,
        outcome,
        routing=decisions.Routing(priority, due_at, outcome.reasons),
        result=None
        if bundle is None
        else (Stage.DECISION, lambda v: bundle.model_copy(update={"decision_version": v})),
    )
    assert rec.new, f"claim {outcome.claim_id} was settled: {rec.settled}"
    return rec.version

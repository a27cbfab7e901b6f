"""The case store's stage keys: what each stage's output is filed under (`stage_results.stage`).

One enum, so a stage written by the runner and read by the review app, the intake notices or a
benchmark is the same word everywhere. Values are plain strings (a `StrEnum`): they are the rows'
keys in the database and must never change once data exists.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    POLICY = "policy"
    """The policy extract matched to the claim (a batch's policies.csv, or the intake's)."""
    EXTRACT = "extract"
    """One document's extraction, keyed by the document's SHA-256."""
    FACTS = "facts"
    """The claim's facts assembled from its documents and policy."""
    FRAUD = "fraud"
    """The fraud model's score."""
    DECISION = "decision"
    """The machine's decision bundle (adjudication, triage, outcome, notice) and its version."""
    DIRECT_SETTLEMENT = "direct_settlement"
    """A hospital's direct-settlement request with its account (医疗直付), recorded at intake."""
    REVIEW_APPLIED = "review_applied"
    """An adjuster's decision applied (outcome, payment, notice), keyed by the decision's time."""


RESUMED_STAGES = (Stage.FACTS, Stage.FRAUD, Stage.DECISION)
"""What a claim redoes when new documents answer a request: its facts, fraud score and decision
(every document already read keeps its extraction)."""

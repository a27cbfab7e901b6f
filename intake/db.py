"""The intake API's tables, kept importable here; they live in the spine (`pipeline.intake_tables`)."""

from __future__ import annotations

from pipeline.intake_tables import (
    DONE,
    PROCESSING,
    QUEUED,
    STALE_PROCESSING,
    ApiKeyRow,
    DocumentRequestRow,
    IdempotencyRow,
    IntakeClaimRow,
    finish_claims,
    queued_claims,
    take_queued,
)

__all__ = [
    "DONE",
    "PROCESSING",
    "QUEUED",
    "STALE_PROCESSING",
    "ApiKeyRow",
    "DocumentRequestRow",
    "IdempotencyRow",
    "IntakeClaimRow",
    "finish_claims",
    "queued_claims",
    "take_queued",
]

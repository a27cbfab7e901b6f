"""The review app's tables, kept importable here; they live in the spine (`pipeline.review_tables`)."""

from __future__ import annotations

from pipeline.review_tables import UserRow, WebSessionRow, require_schema

__all__ = ["UserRow", "WebSessionRow", "require_schema"]

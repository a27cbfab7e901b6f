"""Our top-level packages (DESIGN.md's rooms) in the table's order: what the architecture and
coverage tests walk."""

from __future__ import annotations

ROOMS = (
    "ocr",
    "pipeline",
    "classifiers",
    "fraud",
    "adjudication",
    "synth",
    "review",
    "intake",
    "flows",
    "bench",
)

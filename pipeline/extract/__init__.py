"""Structured extraction: document types, key-value pairing, per-type field extractors and checks."""

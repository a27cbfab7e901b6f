"""Generators of data nobody must hand-write: claim documents with truth, and claims histories."""

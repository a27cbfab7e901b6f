"""Generators of data nobody must hand-write: claim documents with truth, and claims histories."""

HOLDOUT_SEED = 90_001
"""The seed of the doc-type and gate models' frozen holdouts (`doc_samples.doc_type_holdout_set`,
`facts.gate_holdout_pairs`); no trainer may use it (`flows.models` refuses it), so the documents and
claims a model is judged on are never those it learnt from."""

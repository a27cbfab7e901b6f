"""The spine: records, settings, case store, ingest, extraction, payout and the model registry."""

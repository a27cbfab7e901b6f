"""Fraud risk: features over the claims history and a LightGBM model with per-claim reasons."""

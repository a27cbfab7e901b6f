"""A live claim as a row of the claims history: the same columns, and times in Beijing wall-clock."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from helpers.facts import make_facts

from fraud.features import REQUIRED_COLUMNS
from fraud.rows import ROW_COLUMNS, history_frame, history_row


def test_a_claim_maps_onto_the_history_columns() -> None:
    facts = make_facts(diagnoses=["J06.9"], submitted=dt.datetime(2025, 9, 2, 1, 30, tzinfo=dt.UTC))
    row = history_row(facts, phone="13800000000", agent_id="A1")
    assert set(row) >= set(ROW_COLUMNS) and set(REQUIRED_COLUMNS) <= set(row)
    assert row["claim_time"] == pd.Timestamp("2025-09-02 09:30:00")  # UTC 01:30 is 09:30 in Beijing
    assert (row["claimant_id"], row["provider_id"], row["bank_account"]) == (
        "11010519491231002X",
        "上海市浦江人民医院",
        "6222020000000000001",
    )
    assert (row["invoice_no"], row["amount_claimed"], row["diagnosis"]) == (
        "11000000-0000000001",
        350.0,
        "J06.9",
    )
    assert (row["phone"], row["agent_id"], row["failed_checks"], row["words_figures_mismatch"]) == (
        "13800000000",
        "A1",
        0,
        False,
    )
    assert pd.isna(row["reinstated_at"])


def test_many_claims_make_a_typed_frame() -> None:
    frame = history_frame([make_facts(claim_id="T1"), make_facts(claim_id="T2", invoice_number="0000000002")])
    assert list(frame.columns) == list(ROW_COLUMNS) and list(frame["claim_id"]) == ["T1", "T2"]
    for col in ("claim_time", "policy_start", "reinstated_at"):
        assert pd.api.types.is_datetime64_any_dtype(frame[col])

"""The synthetic claims history: deterministic, chunked, with every planted pattern at a realistic rate."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from synth.history import COLUMNS, PATTERNS, HistorySummary, generate_history


def test_same_seed_same_history_other_seed_other(tmp_path: Path) -> None:
    a = generate_history(12_000, tmp_path / "a.parquet", seed=3, chunk_rows=5_000)
    b = generate_history(12_000, tmp_path / "b.parquet", seed=3, chunk_rows=5_000)
    c = generate_history(12_000, tmp_path / "c.parquet", seed=4, chunk_rows=5_000)
    ta, tb, tc = (pq.read_table(s.path) for s in (a, b, c))
    assert ta.equals(tb)
    assert not ta.equals(tc)
    assert a.patterns == b.patterns


def test_written_in_chunks_as_row_groups(tmp_path: Path) -> None:
    s = generate_history(12_000, tmp_path / "h.parquet", seed=1, chunk_rows=5_000)
    meta = pq.ParquetFile(s.path).metadata
    assert s.chunks == meta.num_row_groups == math.ceil(12_000 / 5_000)
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [5_000, 5_000, 2_000]
    assert not list(tmp_path.glob("*.incoming"))
    table = pq.read_table(s.path)
    assert {name: table.schema.field(name).type for name in COLUMNS} == COLUMNS


def test_columns_keys_and_time_order(history: pd.DataFrame) -> None:
    assert list(history.columns) == list(COLUMNS)
    assert history["claim_id"].is_unique
    assert history["claim_time"].is_monotonic_increasing
    assert (history["policy_start"] < history["claim_time"]).all()
    assert history["reinstated_at"].isna().mean() > 0.9  # nullable, and most policies never lapsed
    assert (history["amount_claimed"] > 0).all()
    assert ((history["fraud_pattern"] != "") == history["is_fraud"]).all()


def test_base_rate_and_every_pattern(history: pd.DataFrame, history_summary: HistorySummary) -> None:
    assert 0.01 <= history["is_fraud"].mean() <= 0.03
    counts = history.loc[history["is_fraud"], "fraud_pattern"].value_counts()
    assert set(counts.index) == set(PATTERNS)
    assert (counts >= 20).all(), counts
    assert history_summary.patterns == {p: int(counts[p]) for p in PATTERNS}
    assert history_summary.fraud_rows == int(history["is_fraud"].sum())


def test_patterns_look_like_what_they_claim(history: pd.DataFrame) -> None:
    by = history.groupby("fraud_pattern")
    ring = history[history["fraud_pattern"] == "ring_account"]
    shared = history[history["bank_account"].isin(ring["bank_account"])].groupby("bank_account")[
        "claimant_id"
    ]
    assert (shared.nunique() >= 2).mean() > 0.9  # ring accounts are used by several claimants
    ring_phone = history[history["fraud_pattern"] == "ring_phone"]
    assert (
        history[history["phone"].isin(ring_phone["phone"])].groupby("phone")["claimant_id"].nunique().max()
        >= 3
    )
    split = by.get_group("flash_pay_split")["amount_claimed"]
    assert split.between(2600, 3000, inclusive="left").all()
    early = by.get_group("early_inception")
    assert ((early["claim_time"] - early["policy_start"]).dt.days <= 45).all()
    reinst = by.get_group("early_reinstatement")
    assert ((reinst["claim_time"] - reinst["reinstated_at"]).dt.days <= 45).all()
    dup = by.get_group("duplicate_invoice")
    first_seen = history.groupby("invoice_no")["claim_time"].min()
    assert (first_seen[dup["invoice_no"]].to_numpy() < dup["claim_time"].to_numpy()).all()
    assert by.get_group("forged_documents")["failed_checks"].min() >= 2
    assert by.get_group("altered_invoice")["words_figures_mismatch"].mean() > 0.7
    assert by.get_group("altered_invoice")["qr_mismatch"].mean() > 0.3
    clean = history[~history["is_fraud"]]
    assert clean["words_figures_mismatch"].mean() < 0.02
    assert clean["qr_mismatch"].mean() < 0.01  # an e-bill's QR code disagreeing with its print is rare
    assert (clean["failed_checks"] > 0).mean() > 0.01  # honest OCR noise, so a check failure is no proof


def test_drift_over_months(history: pd.DataFrame) -> None:
    first = history[history["claim_time"] < "2023-07-01"]
    last = history[history["claim_time"] >= "2024-07-01"]
    assert last["is_fraud"].mean() > first["is_fraud"].mean()

    def share(part: pd.DataFrame, pattern: str) -> float:
        return float((part["fraud_pattern"] == pattern).sum() / part["is_fraud"].sum())

    assert share(last, "flash_pay_split") > share(first, "flash_pay_split")
    assert share(last, "ring_account") < share(first, "ring_account")
    out = history[(history["claim_type"] == "outpatient") & ~history["is_fraud"]]
    assert (
        out.loc[out["claim_time"] >= "2024-07-01", "amount_claimed"].median()
        > out.loc[out["claim_time"] < "2023-07-01", "amount_claimed"].median()
    )


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_history(0, tmp_path / "x.parquet")
    assert np.isfinite(generate_history(1, tmp_path / "one.parquet").fraud_rate)


def test_an_entity_is_a_pure_function_of_its_id() -> None:
    """No table of claimants is held: the same id gives the same attributes, in any order or batch."""
    from synth.history_world import World, uniform_of

    ids = np.arange(50_000, dtype=np.int64)
    u = uniform_of(7, 1, ids)
    assert ((u >= 0) & (u < 1)).all() and abs(u.mean() - 0.5) < 0.01
    np.testing.assert_array_equal(uniform_of(7, 1, ids[::-1]), u[::-1])
    world = World(20_000, 7, pd.Timestamp("2024-01-01").to_pydatetime(), 86_400 * 365)
    some = ids[:1000]
    np.testing.assert_array_equal(world.agent(some[::-1]), world.agent(some)[::-1])
    start = world.policy_start(some)
    reinstated = world.reinstated_at(some, start)
    lapsed = reinstated >= 0
    assert lapsed.any() and (reinstated[lapsed] > start[lapsed]).all()  # reinstated after it started

"""A claims history (理赔历史) of any size with planted fraud patterns, for the fraud model.

Claims arrive in time order and are written chunk by chunk to ONE parquet file with one row group
per chunk (`pyarrow.parquet.ParquetWriter`): one file is one snapshot to hash for a model card, and
readers can still split it by row group (`pyarrow.parquet.ParquetFile.iter_batches`,
`dask.dataframe.read_parquet(..., split_row_groups=True)`). Memory is bounded by `chunk_rows`:
every attribute of a claimant, policy, account or phone is a pure function of its id (a counter-based
hash), so no table of entities is ever held; only the rings and the tail of recent invoices (for
planted duplicates) are kept, and both are small. The patterns, their drift and that world of
entities are in `synth/history_world.py`; drawing the claims and writing them, here.

Planted fraud patterns (`fraud_pattern`, empty for clean claims):

- `ring_account` / `ring_phone`: rings of 3-8 claimants sharing one bank account (or phone),
  active for a few months, often through one agent and one provider (团伙骗保);
- `provider_upcoding`: a few providers code claims up to inpatient and bill more (高套编码);
- `inflated_bill`: an ordinary diagnosis with a bill several times its usual size (虚增费用);
- `duplicate_invoice`: an invoice number already claimed, by the same or another claimant (重复报销);
- `altered_invoice`: an amount altered on the invoice, so words and figures disagree (涂改发票);
- `early_inception` / `early_reinstatement`: a claim days after the policy starts or is reinstated
  (带病投保, 复效后短期出险);
- `flash_pay_split`: repeated claims just under the 3000-yuan flash-pay limit (拆单闪赔);
- `forged_documents`: documents that fail the extraction checks (ID checksum, Luhn, totals).

The base rate drifts from about 1.4% to 2.6% over the months, the pattern mix shifts (phone rings
and flash-pay splitting grow, account rings fade) and amounts inflate, so a model validated on
later months meets the drift it will meet in service. Clean claims carry look-alike noise (families
sharing an account, honest claims soon after inception, honest bills near 3000, OCR check failures)
so no single column gives the label away.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from synth.history_world import (
    CLAIM_TYPES,
    DAY,
    DIAG_BASE,
    DIAG_BY_TYPE,
    DIAG_CODE,
    MIX_END,
    MIX_START,
    PATTERNS,
    RATE_END,
    RATE_START,
    TYPE_P,
    World,
    splitmix,
    uniform_of,
)

logger = logging.getLogger(__name__)

__all__ = ["COLUMNS", "PATTERNS", "HistorySummary", "generate_history", "read_history"]

COLUMNS: dict[str, pa.DataType] = {
    "claim_id": pa.string(),
    "claim_time": pa.timestamp("ms"),
    "claimant_id": pa.string(),
    "policy_id": pa.string(),
    "policy_start": pa.timestamp("ms"),
    "reinstated_at": pa.timestamp("ms"),
    "agent_id": pa.string(),
    "provider_id": pa.string(),
    "bank_account": pa.string(),
    "phone": pa.string(),
    "claim_type": pa.string(),
    "diagnosis": pa.string(),
    "amount_claimed": pa.float64(),
    "invoice_no": pa.string(),
    "n_documents": pa.int16(),
    "failed_checks": pa.int8(),
    "words_figures_mismatch": pa.bool_(),
    "qr_mismatch": pa.bool_(),
    "is_fraud": pa.bool_(),
    "fraud_pattern": pa.string(),
}
SCHEMA = pa.schema(list(COLUMNS.items()))


class HistorySummary(BaseModel):
    """What was written, so a benchmark or model card can cite it."""

    path: Path
    layout: str = "one parquet file, one row group per chunk"
    rows: int
    chunks: int
    seed: int
    start: dt.datetime
    end: dt.datetime
    fraud_rows: int
    fraud_rate: float
    patterns: dict[str, int] = Field(default_factory=dict)
    bytes: int
    seconds: float


def _times(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Seconds since the epoch as timestamp[ms]: parquet has no seconds unit, so say ms outright."""
    return pa.array(seconds, pa.int64(), mask=mask).cast(pa.timestamp("s")).cast(pa.timestamp("ms"))


def _ids(prefix: str, values: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(values, pa.int64()), pa.string()), width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def generate_history(
    rows: int,
    out: Path,
    seed: int = 0,
    chunk_rows: int = 500_000,
    *,
    start: dt.date = dt.date(2023, 1, 1),
    months: int = 24,
) -> HistorySummary:
    """Write `rows` claims in time order to the parquet file `out`, one row group per chunk.

    Deterministic for a given (rows, seed, chunk_rows, start, months).
    """
    if rows < 1 or chunk_rows < 1 or months < 1:
        raise ValueError("rows, chunk_rows and months must be positive")
    t_start = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    begin = dt.datetime(start.year, start.month, start.day)
    end_month = start.month - 1 + months
    end = dt.datetime(start.year + end_month // 12, end_month % 12 + 1, 1)
    world = World(rows, seed, begin, int((end - begin).total_seconds()))
    counts = np.zeros(len(PATTERNS), dtype=np.int64)
    tail: dict[str, np.ndarray] | None = None
    tmp = out.with_name(out.name + ".incoming")
    n_chunks = 0
    with pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
        for lo in range(0, rows, chunk_rows):
            hi = min(rows, lo + chunk_rows)
            table, pattern_idx, tail = _chunk(world, lo, hi, n_chunks, tail)
            writer.write_table(table, row_group_size=hi - lo)
            counts += np.bincount(pattern_idx[pattern_idx >= 0], minlength=len(PATTERNS))
            n_chunks += 1
            logger.debug("history chunk %d: rows %d-%d", n_chunks, lo, hi)
    tmp.replace(out)  # a history appears whole or not at all
    fraud = int(counts.sum())
    summary = HistorySummary(
        path=out,
        rows=rows,
        chunks=n_chunks,
        seed=seed,
        start=begin,
        end=end,
        fraud_rows=fraud,
        fraud_rate=fraud / rows,
        patterns={p: int(c) for p, c in zip(PATTERNS, counts, strict=True)},
        bytes=out.stat().st_size,
        seconds=time.perf_counter() - t_start,
    )
    logger.info(
        "history: %d rows, %.2f%% fraud, %s in %.1fs", rows, 100 * summary.fraud_rate, out, summary.seconds
    )
    return summary


def read_history(path: Path, columns: list[str] | None = None):  # type: ignore[no-untyped-def]
    """The history as a pandas DataFrame (strings as pandas strings, times as datetime64[s])."""
    import pandas as pd

    return pd.read_parquet(path, columns=columns)


@dataclass
class _Claims:
    """One chunk's claims as columns while the fraud patterns are planted in them (in place)."""

    t: np.ndarray
    frac: np.ndarray
    gidx: np.ndarray
    claimant: np.ndarray
    ctype: np.ndarray
    diag: np.ndarray
    provider: np.ndarray
    inflation: np.ndarray
    amount: np.ndarray
    n_docs: np.ndarray
    failed: np.ndarray
    wfm: np.ndarray
    agent_override: np.ndarray
    start_override: np.ndarray
    reinst_override: np.ndarray


def _chunk(
    w: World, lo: int, hi: int, chunk_no: int, tail: dict[str, np.ndarray] | None
) -> tuple[pa.Table, np.ndarray, dict[str, np.ndarray]]:
    """Rows lo..hi of the history, as an Arrow table; also the pattern per row and the invoice tail."""
    rng = np.random.default_rng([w.seed, 1, chunk_no])
    n = hi - lo
    gidx = np.arange(lo, hi, dtype=np.int64)
    frac = (gidx + rng.random(n)) / w.rows  # position in time, 0..1; strictly increasing
    t = w.t0 + (frac * w.span_s).astype(np.int64)
    pattern, P, n_before = _patterns(rng, n, frac, tail)
    c = _clean_claims(w, rng, n, t, frac, gidx)
    _plant(w, rng, c, P)
    qr_mismatch = _qr_mismatch(w, chunk_no, n, P)
    invoice, new_tail = _invoices(w, rng, c, P, n_before, tail)
    return _table(w, c, pattern, P, invoice, qr_mismatch), pattern, new_tail


def _patterns(
    rng: np.random.Generator, n: int, frac: np.ndarray, tail: dict[str, np.ndarray] | None
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Which claims are fraud and by which pattern; also how many invoices a duplicate could copy."""
    # which claims are fraud, and by which pattern (both drift with time)
    is_fraud = rng.random(n) < RATE_START + (RATE_END - RATE_START) * frac
    mix = MIX_START[None, :] * (1 - frac[:, None]) + MIX_END[None, :] * frac[:, None]
    cum = np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1)
    pattern = (rng.random(n)[:, None] > cum).sum(axis=1)
    pattern = np.where(is_fraud, np.minimum(pattern, len(PATTERNS) - 1), -1)
    P = {name: pattern == k for k, name in enumerate(PATTERNS)}
    # a duplicate needs an earlier invoice; the very first claims of a history cannot be one
    n_tail = 0 if tail is None else len(tail["invoice"])
    no_source = P["duplicate_invoice"] & (n_tail + np.cumsum(~P["duplicate_invoice"]) < 1)
    pattern[no_source] = PATTERNS.index("altered_invoice")
    P["duplicate_invoice"] &= ~no_source
    P["altered_invoice"] |= no_source
    n_before = n_tail + np.cumsum(~P["duplicate_invoice"])  # invoices a duplicate could copy
    return pattern, P, n_before


def _clean_claims(
    w: World, rng: np.random.Generator, n: int, t: np.ndarray, frac: np.ndarray, gidx: np.ndarray
) -> _Claims:
    """The honest claims the patterns are then planted in."""
    # clean claims: a claimant among those whose policy has started, a diagnosis and an amount
    joined = w.n_existing + (w.n_claimants - w.n_existing) * np.clip(frac - 0.01, 0, 1)
    claimant = (rng.random(n) * joined).astype(np.int64)
    ctype = (rng.random(n)[:, None] > np.cumsum(TYPE_P)[None, :]).sum(axis=1)
    ctype = np.minimum(ctype, len(CLAIM_TYPES) - 1)
    diag = np.empty(n, dtype=np.int64)
    for k, choices in enumerate(DIAG_BY_TYPE):  # a loop over 4 claim types, not over rows
        m = ctype == k
        diag[m] = choices[rng.integers(0, len(choices), m.sum())]
    provider = np.where(
        rng.random(n) < 0.7,
        w.home_provider(claimant),
        (rng.random(n) ** 1.6 * w.n_providers).astype(np.int64),
    )
    inflation = 1.0 + 0.12 * frac
    amount = DIAG_BASE[diag] * inflation * np.exp(rng.normal(-0.1, 0.45, n))
    n_docs = np.select(
        [ctype == 0, ctype == 1, ctype == 2],
        [2 + rng.poisson(1.0, n), 4 + rng.poisson(2.0, n), 3 + rng.poisson(1.5, n)],
        4 + rng.poisson(1.0, n),
    )
    u = rng.random(n)
    failed = np.where(u < 0.007, 2, np.where(u < 0.05, 1, 0))
    wfm = rng.random(n) < 0.006
    agent_override = np.full(n, -1, dtype=np.int64)
    start_override = np.full(n, -1, dtype=np.int64)
    reinst_override = np.full(n, -2, dtype=np.int64)  # -2: use the claimant's own
    return _Claims(
        t,
        frac,
        gidx,
        claimant,
        ctype,
        diag,
        provider,
        inflation,
        amount,
        n_docs,
        failed,
        wfm,
        agent_override,
        start_override,
        reinst_override,
    )


def _plant(w: World, rng: np.random.Generator, c: _Claims, P: dict[str, np.ndarray]) -> None:
    """Each fraud pattern but duplicates, written over its claims (in place)."""
    n = len(c.t)
    (
        t,
        frac,
        gidx,
        claimant,
        ctype,
        diag,
        provider,
        inflation,
        amount,
        n_docs,
        failed,
        wfm,
        agent_override,
        start_override,
        reinst_override,
    ) = (
        c.t,
        c.frac,
        c.gidx,
        c.claimant,
        c.ctype,
        c.diag,
        c.provider,
        c.inflation,
        c.amount,
        c.n_docs,
        c.failed,
        c.wfm,
        c.agent_override,
        c.start_override,
        c.reinst_override,
    )
    # rings: a ring is active for a few months around its centre; its members share an account/phone
    for name in ("ring_account", "ring_phone"):
        m = P[name]
        ring = w.rings[name]
        r = np.clip(
            ((frac[m] + rng.uniform(-0.06, 0.06, m.sum())) * len(ring["size"])).astype(np.int64),
            0,
            len(ring["size"]) - 1,
        )
        claimant[m] = ring["first"][r] + (rng.random(m.sum()) * ring["size"][r]).astype(np.int64)
        agent_override[m] = np.where(rng.random(m.sum()) < 0.7, ring["agent"][r], -1)
        provider[m] = np.where(rng.random(m.sum()) < 0.7, ring["provider"][r], provider[m])
        amount[m] *= rng.uniform(1.0, 1.8, m.sum())

    m = P["provider_upcoding"]
    provider[m] = w.bad_providers[rng.integers(0, len(w.bad_providers), m.sum())]
    up = m & (ctype == 0) & (rng.random(n) < 0.5)
    ctype[up] = 1
    diag[up] = DIAG_BY_TYPE[1][rng.integers(0, len(DIAG_BY_TYPE[1]), up.sum())]
    amount[up] = DIAG_BASE[diag[up]] * inflation[up] * np.exp(rng.normal(-0.1, 0.45, up.sum()))
    amount[m] *= rng.uniform(1.6, 3.0, m.sum())

    m = P["inflated_bill"]
    amount[m] *= rng.uniform(2.5, 5.0, m.sum()) * (1 + 0.3 * frac[m])
    n_docs[m] += rng.poisson(2.0, m.sum())
    wfm[m] |= rng.random(m.sum()) < 0.1

    m = P["altered_invoice"]
    amount[m] *= rng.uniform(1.5, 3.0, m.sum())
    wfm[m] |= rng.random(m.sum()) < 0.85
    failed[m] = np.maximum(failed[m], (rng.random(m.sum()) < 0.5).astype(np.int64))

    for name, reinstated in (("early_inception", False), ("early_reinstatement", True)):
        m = P[name]
        k = m.sum()
        claimant[m] = w.early_first + gidx[m]
        days_ago = rng.uniform(1, 45, k) * DAY
        if reinstated:
            start_override[m] = (t[m] - rng.uniform(1, 5, k) * 365 * DAY) // DAY * DAY
            reinst_override[m] = (t[m] - days_ago) // DAY * DAY
        else:
            start_override[m] = (t[m] - days_ago) // DAY * DAY
            reinst_override[m] = -1
        agent_override[m] = np.where(
            rng.random(k) < 0.6, w.bad_agents[rng.integers(0, len(w.bad_agents), k)], -1
        )
        big = rng.random(k) < 0.6
        ctype[m] = np.where(big, np.where(rng.random(k) < 0.5, 1, 3), ctype[m])
        for kind in (1, 3):
            mm = m & (ctype == kind)
            diag[mm] = DIAG_BY_TYPE[kind][rng.integers(0, len(DIAG_BY_TYPE[kind]), mm.sum())]
        amount[m] = DIAG_BASE[diag[m]] * inflation[m] * np.exp(rng.normal(0.2, 0.45, k))

    m = P["flash_pay_split"]
    claimant[m] = w.split_first + (rng.random(m.sum()) * w.n_splitters).astype(np.int64)
    ctype[m] = 0
    diag[m] = DIAG_BY_TYPE[0][rng.integers(0, len(DIAG_BY_TYPE[0]), m.sum())]
    amount[m] = rng.uniform(2600.0, 2999.99, m.sum())
    n_docs[m] = 2 + rng.poisson(0.5, m.sum())

    m = P["forged_documents"]
    failed[m] = 2 + rng.poisson(1.0, m.sum())
    wfm[m] |= rng.random(m.sum()) < 0.4


def _qr_mismatch(w: World, chunk_no: int, n: int, P: dict[str, np.ndarray]) -> np.ndarray:
    """财政电子票据 whose print disagrees with their QR code: an altered or forged e-bill (its own
    stream, so every other column draws as before)."""
    qr_rng = np.random.default_rng([w.seed, 2, chunk_no])
    qrm = qr_rng.random(n) < 0.002  # a misprint or a misread code on an honest bill
    qrm[P["altered_invoice"]] |= qr_rng.random(P["altered_invoice"].sum()) < 0.45
    qrm[P["forged_documents"]] |= qr_rng.random(P["forged_documents"].sum()) < 0.3
    return qrm


def _invoices(
    w: World,
    rng: np.random.Generator,
    c: _Claims,
    P: dict[str, np.ndarray],
    n_before: np.ndarray,
    tail: dict[str, np.ndarray] | None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Invoice numbers (a duplicate copies an earlier claim's) and the tail the next chunk copies from."""
    gidx, claimant, ctype, diag, provider, amount = c.gidx, c.claimant, c.ctype, c.diag, c.provider, c.amount
    # invoice numbers: the provider's prefix and a serial; a duplicate copies an earlier claim's
    invoice = provider * 100_000_000 + (uniform_of(w.seed, 8, gidx) * 100_000_000).astype(np.int64)
    m = P["duplicate_invoice"]
    if m.any():
        own = {
            "invoice": invoice,
            "claimant": claimant,
            "provider": provider,
            "diag": diag,
            "ctype": ctype,
            "amount": amount,
        }
        keep = ~m
        pool = {k: (v[keep] if tail is None else np.concatenate([tail[k], v[keep]])) for k, v in own.items()}
        before = n_before[m]  # pool positions 0..before-1 are strictly earlier than the duplicate
        src = before - 1 - (rng.random(m.sum()) * np.minimum(before, 20_000)).astype(np.int64)
        invoice[m] = pool["invoice"][src]
        provider[m] = pool["provider"][src]
        diag[m] = pool["diag"][src]
        ctype[m] = pool["ctype"][src]
        same = rng.random(m.sum()) < 0.6  # resubmitted by the same claimant, else a bought invoice
        claimant[m] = np.where(same, pool["claimant"][src], claimant[m])
        amount[m] = pool["amount"][src] * np.where(
            rng.random(m.sum()) < 0.5, 1.0, rng.uniform(0.9, 1.1, m.sum())
        )
    keep = ~P["duplicate_invoice"]
    new_tail = {
        "invoice": invoice[keep],
        "claimant": claimant[keep],
        "provider": provider[keep],
        "diag": diag[keep],
        "ctype": ctype[keep],
        "amount": amount[keep],
    }
    if tail is not None:
        new_tail = {k: np.concatenate([tail[k], v])[-20_000:] for k, v in new_tail.items()}
    else:
        new_tail = {k: v[-20_000:] for k, v in new_tail.items()}
    return invoice, new_tail


def _table(
    w: World, c: _Claims, pattern: np.ndarray, P: dict[str, np.ndarray], invoice: np.ndarray, qrm: np.ndarray
) -> pa.Table:
    """The chunk as the history's Arrow table, with what follows from each claimant."""
    (
        t,
        gidx,
        claimant,
        ctype,
        diag,
        provider,
        amount,
        n_docs,
        failed,
        wfm,
        agent_override,
        start_override,
        reinst_override,
    ) = (
        c.t,
        c.gidx,
        c.claimant,
        c.ctype,
        c.diag,
        c.provider,
        c.amount,
        c.n_docs,
        c.failed,
        c.wfm,
        c.agent_override,
        c.start_override,
        c.reinst_override,
    )
    # attributes that follow from the claimant
    policy_start = np.where(start_override >= 0, start_override, w.policy_start(claimant))
    reinstated = np.where(reinst_override == -2, w.reinstated_at(claimant, policy_start), reinst_override)
    # an honest claim before its policy started cannot be; move the start back
    policy_start = np.minimum(policy_start, (t - DAY) // DAY * DAY)
    agent = np.where(agent_override >= 0, agent_override, w.agent(claimant))
    account = w.account_key(claimant)
    phone = w.phone_key(claimant)
    for name, col in (("ring_account", account), ("ring_phone", phone)):
        ring = w.rings[name]
        mem = (claimant >= ring["first"][0]) & (claimant < ring["first"][-1] + ring["size"][-1])
        r = np.searchsorted(ring["first"], claimant[mem], side="right") - 1
        col[mem] = 2 * w.n_ids + ring["first"][r]  # the ring's shared account or phone
    amount = np.where(P["flash_pay_split"], np.minimum(amount, 2999.99), amount)
    amount = np.round(np.maximum(amount, 5.0), 2)

    table = pa.table(
        {
            "claim_id": _ids("CLM", gidx, 10),
            "claim_time": _times(t),
            "claimant_id": _ids("CL", claimant, 11),
            "policy_id": _ids("PL", splitmix(claimant + w.seed).astype(np.int64) % 10**11, 11),
            "policy_start": _times(policy_start),
            "reinstated_at": _times(reinstated, mask=reinstated < 0),
            "agent_id": _ids("AG", agent, 6),
            "provider_id": _ids("H", provider, 5),
            "bank_account": _ids("6222", splitmix(account + 7 * w.seed).astype(np.int64) % 10**15, 15),
            "phone": _ids(
                "1", 3 * 10**9 + (splitmix(phone + 11 * w.seed) % np.uint64(6 * 10**9)).astype(np.int64), 10
            ),
            "claim_type": pa.array(np.array(CLAIM_TYPES)[ctype], pa.string()),
            "diagnosis": pa.array(DIAG_CODE[diag], pa.string()),
            "amount_claimed": pa.array(amount, pa.float64()),
            "invoice_no": _ids("INV", invoice, 13),
            "n_documents": pa.array(n_docs, pa.int16()),
            "failed_checks": pa.array(np.minimum(failed, 9), pa.int8()),
            "words_figures_mismatch": pa.array(wfm, pa.bool_()),
            "qr_mismatch": pa.array(qrm, pa.bool_()),
            "is_fraud": pa.array(pattern >= 0, pa.bool_()),
            "fraud_pattern": pa.array(np.where(pattern >= 0, np.array(PATTERNS)[np.maximum(pattern, 0)], "")),
        },
        schema=SCHEMA,
    )
    return table

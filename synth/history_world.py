"""What a claims history is drawn from: its fraud patterns and how they drift, claim types and
diagnoses, and the world of one history (claimants, providers, agents, rings) where every attribute
of an entity is a pure function of its id (a counter-based hash), so no table of entities is held.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = [
    "CLAIM_TYPES",
    "DAY",
    "DIAG_BASE",
    "DIAG_BY_TYPE",
    "DIAG_CODE",
    "FLASH_PAY_LIMIT",
    "MIX_END",
    "MIX_START",
    "PATTERNS",
    "RATE_END",
    "RATE_START",
    "TYPE_P",
    "World",
    "splitmix",
    "uniform_of",
]

PATTERNS: tuple[str, ...] = (
    "ring_account",
    "ring_phone",
    "provider_upcoding",
    "inflated_bill",
    "duplicate_invoice",
    "altered_invoice",
    "early_inception",
    "early_reinstatement",
    "flash_pay_split",
    "forged_documents",
)
# share of fraud claims per pattern at the first and the last month; interpolated in between (drift)
MIX_START = np.array([0.16, 0.02, 0.14, 0.12, 0.10, 0.08, 0.10, 0.05, 0.07, 0.16])
MIX_END = np.array([0.07, 0.13, 0.10, 0.08, 0.10, 0.08, 0.08, 0.06, 0.20, 0.10])
RATE_START, RATE_END = 0.014, 0.026

CLAIM_TYPES = ("outpatient", "inpatient", "accident", "critical_illness")
TYPE_P = np.array([0.72, 0.18, 0.07, 0.03])
# (ICD-10 code, claim type index, usual amount in yuan)
_DIAGNOSES: tuple[tuple[str, int, float], ...] = (
    ("J06.9", 0, 260),
    ("J20.9", 0, 380),
    ("K29.7", 0, 420),
    ("K52.9", 0, 360),
    ("I10", 0, 300),
    ("E11.9", 0, 450),
    ("M54.5", 0, 560),
    ("N39.0", 0, 330),
    ("L30.9", 0, 210),
    ("H10.9", 0, 180),
    ("J18.9", 1, 9000),
    ("K35.8", 1, 14000),
    ("K80.2", 1, 18000),
    ("I20.0", 1, 22000),
    ("N20.0", 1, 12000),
    ("E11.9", 1, 8000),
    ("S52.5", 2, 8000),
    ("S82.6", 2, 11000),
    ("S93.4", 2, 1800),
    ("S61.0", 2, 900),
    ("C34.9", 3, 150000),
    ("C50.9", 3, 100000),
    ("I21.9", 3, 80000),
    ("I63.9", 3, 90000),
)
DIAG_CODE = np.array([d[0] for d in _DIAGNOSES])
_DIAG_TYPE = np.array([d[1] for d in _DIAGNOSES])
DIAG_BASE = np.array([d[2] for d in _DIAGNOSES])
DIAG_BY_TYPE = [np.flatnonzero(k == _DIAG_TYPE) for k in range(len(CLAIM_TYPES))]

FLASH_PAY_LIMIT = 3000.0
DAY = 86_400
_FAMILY_ACCOUNT_SHARE = 0.06  # claimant pairs (spouses) sharing one bank account: honest sharing
_FAMILY_PHONE_SHARE = 0.08
_REINSTATED_SHARE = 0.04


# counter-based randomness: an entity's attributes are a pure function of (seed, stream, id)

_M1, _M2, _GOLD = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)


def splitmix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a good 64-bit hash, vectorised (uint64 arithmetic wraps by design)."""
    x = x.astype(np.uint64) + _GOLD
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def uniform_of(seed: int, stream: int, ids: np.ndarray) -> np.ndarray:
    """A uniform [0, 1) number per id, the same every time for the same (seed, stream, id)."""
    key = splitmix(np.array([seed * 1_000 + stream], dtype=np.uint64))[0]
    return (splitmix(ids.astype(np.uint64) ^ key) >> np.uint64(11)).astype(np.float64) * 2.0**-53


class World:
    """Sizes, pools and the few small tables (rings, bad providers and agents) of one history."""

    def __init__(self, rows: int, seed: int, start: dt.datetime, span_s: int) -> None:
        self.rows, self.seed, self.span_s = rows, seed, span_s
        self.t0 = int(start.replace(tzinfo=dt.UTC).timestamp())
        rng = np.random.default_rng([seed, 0xF00D])
        self.n_claimants = max(1_000, rows // 5)
        self.n_existing = int(self.n_claimants * 0.6)  # policies older than the history; the rest join
        self.n_providers = max(30, rows // 4_000)
        self.n_agents = max(20, rows // 2_500)
        self.bad_providers = rng.choice(self.n_providers, max(2, self.n_providers // 30), replace=False)
        self.bad_agents = rng.choice(self.n_agents, max(2, self.n_agents // 40), replace=False)
        self.provider_factor = np.exp(rng.normal(0.0, 0.15, self.n_providers))
        self.provider_factor[self.bad_providers] *= 1.1
        expected_fraud = rows * (RATE_START + RATE_END) / 2
        mix = (MIX_START + MIX_END) / 2
        base = self.n_claimants
        self.rings: dict[str, dict[str, np.ndarray]] = {}
        for k, name in ((0, "ring_account"), (1, "ring_phone")):
            members = max(12, int(expected_fraud * mix[k] / 3))  # about 3 claims per ring member
            sizes = rng.integers(3, 9, size=members // 3 + 1)
            sizes = sizes[: np.searchsorted(np.cumsum(sizes), members) + 1]
            first = base + np.concatenate([[0], np.cumsum(sizes)[:-1]])
            self.rings[name] = {
                "first": first,
                "size": sizes,
                "agent": rng.integers(0, self.n_agents, len(sizes)),
                "provider": rng.integers(0, self.n_providers, len(sizes)),
            }
            base += int(sizes.sum())
        self.split_first = base
        self.n_splitters = max(5, int(expected_fraud * mix[8] / 5))  # about 5 split claims each
        base += self.n_splitters
        self.early_first = base  # early-claim fraudsters: one fresh claimant per claim
        self.n_ids = base + rows

    # attributes of claimants (pure functions of the id) ---------------------------------------------

    def policy_start(self, claimant: np.ndarray) -> np.ndarray:
        u = uniform_of(self.seed, 1, claimant)
        joined = claimant - self.n_existing
        frac = np.clip(joined / max(1, self.n_claimants - self.n_existing), 0.0, 1.0)
        old = self.t0 - (30 + u * 6 * 365) * DAY
        new = self.t0 + frac * self.span_s - u * 20 * DAY
        start = np.where((joined >= 0) & (claimant < self.n_claimants), new, old)
        return (start // DAY * DAY).astype(np.int64)

    def reinstated_at(self, claimant: np.ndarray, policy_start: np.ndarray) -> np.ndarray:
        """Seconds, or -1 for a policy that never lapsed."""
        u = uniform_of(self.seed, 2, claimant)
        gap = (200 + uniform_of(self.seed, 3, claimant) * 700) * DAY
        at = (policy_start + gap) // DAY * DAY
        return np.where(u < _REINSTATED_SHARE, at, -1).astype(np.int64)

    def agent(self, claimant: np.ndarray) -> np.ndarray:
        return (uniform_of(self.seed, 4, claimant) * self.n_agents).astype(np.int64)

    def home_provider(self, claimant: np.ndarray) -> np.ndarray:
        return (uniform_of(self.seed, 5, claimant) ** 1.6 * self.n_providers).astype(np.int64)

    def account_key(self, claimant: np.ndarray) -> np.ndarray:
        pair = claimant // 2
        shared = uniform_of(self.seed, 6, pair) < _FAMILY_ACCOUNT_SHARE
        return np.where(shared, self.n_ids + pair, claimant)

    def phone_key(self, claimant: np.ndarray) -> np.ndarray:
        pair = claimant // 2
        shared = uniform_of(self.seed, 7, pair) < _FAMILY_PHONE_SHARE
        return np.where(shared, self.n_ids + pair, claimant)

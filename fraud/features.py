"""Fraud features over the claims history (理赔历史), each computed strictly from the past.

A claim's features see only claims with an earlier `claim_time`: never itself, never a claim filed
at the same second, never a later one. That rule is what keeps a model trained on history honest in
service, where the future is not there to look at. Every aggregate is computed for all claims at
once, without a Python loop per row: claims are sorted by (entity, time) into one int64 key, and for
each claim two `np.searchsorted` calls find the entity's claims in a time window before it; counts
are differences of positions, sums are differences of a cumulative sum.

Features (names are stable; the model card and the reason wording refer to them):

- the claim itself: amount, claim type, diagnosis, documents, failed extraction checks, words vs
  figures mismatch (大小写金额不一致), amount just under the flash-pay limit (闪赔限额), amount against
  the past-year average of its diagnosis, days since policy start and since reinstatement (复效);
- claimant: claims and amounts over 30/90/365 days, all earlier claims, claims just under the limit,
  days since the previous claim, distinct bank accounts used;
- network (关联网络): distinct claimants who used the claim's bank account or phone so far;
- provider (医疗机构): volume, bills against peers for the same diagnoses, inpatient share;
- agent (代理人): volume and share of claims soon after inception or reinstatement;
- invoice: earlier claims and other claimants with the same invoice number (重复报销).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from pipeline.errors import BadInputError

logger = logging.getLogger(__name__)

__all__ = [
    "CATEGORICAL",
    "FEATURES",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "FraudFeatures",
    "epoch_seconds",
]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "claim_time",
    "claimant_id",
    "policy_start",
    "reinstated_at",
    "agent_id",
    "provider_id",
    "bank_account",
    "phone",
    "claim_type",
    "diagnosis",
    "amount_claimed",
    "invoice_no",
    "n_documents",
    "failed_checks",
    "words_figures_mismatch",
)
OPTIONAL_COLUMNS: dict[str, object] = {"qr_mismatch": False}
"""Columns a claims frame may lack, with the value they stand for: a history written before the
column existed (`qr_mismatch`, an e-bill's QR code against its print) had no such finding."""
CATEGORICAL: tuple[str, ...] = ("claim_type", "diagnosis")
FEATURES: tuple[str, ...] = (
    "amount",
    "claim_type",
    "diagnosis",
    "n_documents",
    "failed_checks",
    "words_figures_mismatch",
    "qr_mismatch",
    "near_flash_limit",
    "amount_vs_diagnosis",
    "days_since_policy_start",
    "days_since_reinstatement",
    "claimant_n_30d",
    "claimant_n_90d",
    "claimant_n_365d",
    "claimant_n_prior",
    "claimant_amount_90d",
    "claimant_amount_365d",
    "claimant_near_limit_365d",
    "claimant_near_limit_share_365d",
    "claimant_days_since_last",
    "claimant_distinct_accounts",
    "acct_distinct_claimants",
    "acct_n_90d",
    "phone_distinct_claimants",
    "phone_n_90d",
    "provider_n_90d",
    "provider_amount_ratio_365d",
    "provider_inpatient_share_365d",
    "agent_n_90d",
    "agent_early_share_365d",
    "invoice_prior_claims",
    "invoice_other_claimants",
)
CLAIM_TYPES = ("outpatient", "inpatient", "accident", "critical_illness")
_DAY = 86_400
_MAX_WINDOW = 400 * _DAY


def epoch_seconds(values: pd.Series, name: str) -> np.ndarray:
    """Seconds since the epoch as int64; missing times become INT64_MIN."""
    try:
        ts = pd.to_datetime(values, errors="raise")
    except (ValueError, TypeError) as exc:
        raise BadInputError("claims frame", f"column {name!r} is not a date/time: {exc}") from exc
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert(None)
    arr = ts.to_numpy(dtype="datetime64[s]")
    out = arr.astype(np.int64)
    out[np.isnat(arr)] = np.iinfo(np.int64).min
    return out


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes per distinct value; a missing value gets a code of its own (it matches nothing)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    missing = codes < 0
    if missing.any():
        codes[missing] = len(uniques) + np.arange(int(missing.sum()))
    return codes


class _Past:
    """For each claim, the claims of the same entity strictly earlier in time, as sorted positions.

    Claims are sorted by the key `entity * span + time`; the claims of one entity inside the window
    [t - w, t) are positions `lower(w) .. upper - 1` of that sorted order. Queries are made in sorted
    order too (the needles of `searchsorted` then walk the array once, which is far faster than
    random probes), and results are scattered back to the frame's order at the end.
    """

    def __init__(self, group: np.ndarray, t: np.ndarray, span: int) -> None:
        key = group * span + t
        self.order = np.argsort(key, kind="stable")
        self.key = key[self.order]
        self.t_sorted = t[self.order]
        # first position of each run of equal keys (claims at the same second) and of each entity:
        # what searchsorted(key, key) would find, in one pass over the sorted array
        self.upper = _run_start(self.key)
        self.first = _run_start(group[self.order])

    def _back(self, sorted_values: np.ndarray) -> np.ndarray:
        out = np.empty(len(sorted_values), dtype=np.float64)
        out[self.order] = sorted_values
        return out

    def _lower(self, window_days: float | None) -> np.ndarray:
        if window_days is None:
            return self.first
        return np.searchsorted(self.key, self.key - int(window_days * _DAY), side="left")

    def count(self, window_days: float | None = None) -> np.ndarray:
        return self._back(self.upper - self._lower(window_days))

    def sum(self, values: np.ndarray, window_days: float | None = None) -> np.ndarray:
        cs = np.concatenate([[0.0], np.cumsum(values[self.order], dtype=np.float64)])
        return self._back(cs[self.upper] - cs[self._lower(window_days)])

    def days_since_last(self) -> np.ndarray:
        has = self.upper > self.first
        prev = self.t_sorted[np.maximum(self.upper - 1, 0)]
        return self._back(np.where(has, (self.t_sorted - prev) / _DAY, np.nan))


def _categorical(codes: np.ndarray, names: pd.Index, categories: list[str]) -> pd.Categorical:
    """The fitted categories from factorized codes: a lookup per distinct value, not per claim.
    Values unseen in training (and missing ones) get no category, as `pd.Categorical` would do."""
    lookup = pd.Index(categories, dtype=object).get_indexer(pd.Index(names, dtype=object))
    return pd.Categorical.from_codes(lookup[codes], categories=categories)


def _run_start(sorted_values: np.ndarray) -> np.ndarray:
    """For each position of a sorted array, the position where its run of equal values starts."""
    n = len(sorted_values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    return starts[np.cumsum(new) - 1]


def _distinct_before(
    group: np.ndarray, other: np.ndarray, t: np.ndarray, span: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct `other` values seen with `group` strictly before t, and whether this claim's is one.

    A (group, other) pair counts from its first claim on; the first time is a minimum over claims at
    or before t only, so later claims cannot change it.
    """
    pair = group * (int(other.max()) + 1) + other
    order = np.argsort(pair, kind="stable")
    sp = pair[order]
    starts = np.flatnonzero(np.r_[True, sp[1:] != sp[:-1]])
    run = np.cumsum(np.r_[False, sp[1:] != sp[:-1]])  # pair number of each sorted claim
    first_t = np.minimum.reduceat(t[order], starts)
    pair_group = group[order][starts]
    keys = np.sort(pair_group * span + first_t)
    # queries in sorted (group, t) order walk `keys` once
    q = group * span + t
    q_order = np.argsort(q, kind="stable")
    qs = q[q_order]
    before_sorted = np.searchsorted(keys, qs, "left") - np.searchsorted(keys, group[q_order] * span, "left")
    before = np.empty(len(t), dtype=np.float64)
    before[q_order] = before_sorted
    seen = np.empty(len(t), dtype=bool)
    seen[order] = first_t[run] < t[order]
    return before, seen


class FraudFeatures(TransformerMixin, BaseEstimator):
    """Past-only features of each claim in a frame of claims (the frame is its own history).

    To score new claims, transform the history and the new claims together and keep the new rows
    (`fraud.scoring.FraudScorer` does this). What `fit` learns is small and never about one claim:
    the categories of claim type and diagnosis, and the median amount per diagnosis as a prior for
    diagnoses with little past.
    """

    def __init__(
        self,
        flash_pay_limit: float | None = None,
        near_limit_band: float = 0.1,
        early_days: int = 60,
        prior_strength: float = 10.0,
    ) -> None:
        self.flash_pay_limit = flash_pay_limit
        self.near_limit_band = near_limit_band
        self.early_days = early_days
        self.prior_strength = prior_strength

    def fit(self, X: pd.DataFrame, y: Any = None) -> FraudFeatures:
        _check_columns(X)
        if self.flash_pay_limit is None:
            from pipeline.settings import get_settings

            self.flash_limit_ = float(get_settings().flash_pay_limit)
        else:
            self.flash_limit_ = float(self.flash_pay_limit)
        amount = pd.to_numeric(X["amount_claimed"], errors="coerce")
        self.categories_ = {
            "claim_type": sorted(set(CLAIM_TYPES) | set(X["claim_type"].dropna().astype(str).unique())),
            "diagnosis": sorted(X["diagnosis"].dropna().astype(str).unique()),
        }
        by = [X["claim_type"].astype(str).to_numpy(), X["diagnosis"].astype(str).to_numpy()]
        self.diagnosis_prior_ = {k: float(v) for k, v in amount.groupby(by).median().items()}
        self.type_prior_ = {k: float(v) for k, v in amount.groupby(by[0]).median().items()}
        self.amount_prior_ = float(amount.median()) if amount.notna().any() else 1.0
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        self.n_features_in_ = len(X.columns)
        self.feature_names_ = list(FEATURES)
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_")
        return np.asarray(self.feature_names_, dtype=object)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """One row of features per claim, in the frame's order and with its index."""
        check_is_fitted(self, "feature_names_")
        _check_columns(X)
        n = len(X)
        t = epoch_seconds(X["claim_time"], "claim_time")
        if n and (t == np.iinfo(np.int64).min).any():
            raise BadInputError(
                "claims frame", "column 'claim_time' has missing values; every claim needs one"
            )
        t0 = int(t.min()) if n else 0
        ts = t - t0 + _MAX_WINDOW  # >= the longest window, so windows never reach into another entity
        span = int(ts.max()) + 1 if n else 1
        amount = pd.to_numeric(X["amount_claimed"], errors="coerce").to_numpy(dtype=np.float64)
        amount_filled = np.nan_to_num(amount, nan=0.0)
        type_codes, type_names = pd.factorize(X["claim_type"].astype("string"), use_na_sentinel=False)
        diag_codes, diag_names = pd.factorize(X["diagnosis"].astype("string"), use_na_sentinel=False)
        combo_codes, combos = pd.factorize(type_codes.astype(np.int64) * (len(diag_names) + 1) + diag_codes)
        combo_codes = combo_codes.astype(np.int64)
        out = _Float32Columns()  # 32 float64 columns of 10M claims would be 2.5 GB; float32 is half

        out["amount"] = amount
        out["claim_type"] = _categorical(type_codes, type_names, self.categories_["claim_type"])
        out["diagnosis"] = _categorical(diag_codes, diag_names, self.categories_["diagnosis"])
        out["n_documents"] = pd.to_numeric(X["n_documents"], errors="coerce").to_numpy(dtype=np.float64)
        out["failed_checks"] = pd.to_numeric(X["failed_checks"], errors="coerce").to_numpy(dtype=np.float64)
        out["words_figures_mismatch"] = _flag(X["words_figures_mismatch"])
        for name, default in OPTIONAL_COLUMNS.items():
            out[name] = _flag(X[name] if name in X else pd.Series(default, index=X.index, dtype=bool))
        near = (amount >= self.flash_limit_ * (1 - self.near_limit_band)) & (amount < self.flash_limit_)
        out["near_flash_limit"] = near.astype(np.float64)

        # amount against the past year of the same diagnosis, shrunk to the fitted median
        diag = _Past(combo_codes, ts, span)
        combo_prior = np.empty(len(combos), dtype=np.float64)
        for i, combo in enumerate(combos):  # one per (claim type, diagnosis) seen, not per claim
            kind, code = (
                str(type_names[combo // (len(diag_names) + 1)]),
                str(diag_names[combo % (len(diag_names) + 1)]),
            )
            combo_prior[i] = self.diagnosis_prior_.get(
                (kind, code), self.type_prior_.get(kind, self.amount_prior_)
            )
        prior = combo_prior[combo_codes]
        m = self.prior_strength
        reference = (diag.sum(amount_filled, 365) + m * prior) / (diag.count(365) + m)
        ratio = amount / np.maximum(reference, 1.0)
        out["amount_vs_diagnosis"] = ratio
        del diag, reference, prior

        start = epoch_seconds(X["policy_start"], "policy_start")
        reinst = epoch_seconds(X["reinstated_at"], "reinstated_at")
        missing = np.iinfo(np.int64).min
        days_start = np.where(start == missing, np.nan, (t - start) / _DAY)
        out["days_since_policy_start"] = days_start
        # a reinstatement after the claim is not known at claim time
        reinst_known = (reinst != missing) & (reinst <= t)
        days_reinst = np.where(reinst_known, (t - np.where(reinst_known, reinst, 0)) / _DAY, np.nan)
        out["days_since_reinstatement"] = days_reinst

        claimant_codes = _codes(X["claimant_id"])
        claimant = _Past(claimant_codes, ts, span)
        for w in (30, 90, 365):
            out[f"claimant_n_{w}d"] = claimant.count(w)
        out["claimant_n_prior"] = claimant.count(None)
        out["claimant_amount_90d"] = claimant.sum(amount_filled, 90)
        out["claimant_amount_365d"] = claimant.sum(amount_filled, 365)
        near_past = claimant.sum(near.astype(np.float64), 365)
        out["claimant_near_limit_365d"] = near_past
        n365 = out["claimant_n_365d"]
        out["claimant_near_limit_share_365d"] = np.where(n365 > 0, near_past / np.maximum(n365, 1), np.nan)
        out["claimant_days_since_last"] = claimant.days_since_last()
        del claimant

        account_codes = _codes(X["bank_account"])
        phone_codes = _codes(X["phone"])
        before, seen = _distinct_before(claimant_codes, account_codes, ts, span)
        out["claimant_distinct_accounts"] = before + ~seen
        before, seen = _distinct_before(account_codes, claimant_codes, ts, span)
        out["acct_distinct_claimants"] = before + ~seen
        out["acct_n_90d"] = _Past(account_codes, ts, span).count(90)
        before, seen = _distinct_before(phone_codes, claimant_codes, ts, span)
        out["phone_distinct_claimants"] = before + ~seen
        out["phone_n_90d"] = _Past(phone_codes, ts, span).count(90)

        provider = _Past(_codes(X["provider_id"]), ts, span)
        prov_n365 = provider.count(365)
        out["provider_n_90d"] = provider.count(90)
        ratio_filled = np.nan_to_num(ratio, nan=1.0)
        out["provider_amount_ratio_365d"] = np.where(
            prov_n365 > 0, provider.sum(ratio_filled, 365) / np.maximum(prov_n365, 1), np.nan
        )
        inpatient = np.isin(type_codes, np.flatnonzero(np.asarray(type_names) == "inpatient")).astype(
            np.float64
        )
        out["provider_inpatient_share_365d"] = np.where(
            prov_n365 > 0, provider.sum(inpatient, 365) / np.maximum(prov_n365, 1), np.nan
        )
        del provider, ratio_filled, inpatient

        agent = _Past(_codes(X["agent_id"]), ts, span)
        out["agent_n_90d"] = agent.count(90)
        since = np.fmin(days_start, days_reinst)
        early = (since < self.early_days).astype(np.float64)
        agent_n365 = agent.count(365)
        out["agent_early_share_365d"] = np.where(
            agent_n365 > 0, agent.sum(early, 365) / np.maximum(agent_n365, 1), np.nan
        )

        invoice_codes = _codes(X["invoice_no"])
        out["invoice_prior_claims"] = _Past(invoice_codes, ts, span).count(None)
        before, seen = _distinct_before(invoice_codes, claimant_codes, ts, span)
        out["invoice_other_claimants"] = before - seen

        # a model fitted before a feature was added keeps the columns it was fitted on
        return pd.DataFrame({c: out[c] for c in getattr(self, "feature_names_", FEATURES)}, index=X.index)


class _Float32Columns(dict[str, Any]):
    """Feature columns, stored as float32 the moment they are made (categories stay categorical);
    the computations that reuse a value keep their own float64 copy."""

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(value, pd.Categorical):
            value = np.asarray(value, dtype=np.float32)
        super().__setitem__(key, value)


def _check_columns(X: Any) -> None:
    if not isinstance(X, pd.DataFrame):
        raise BadInputError("claims frame", f"expected a pandas DataFrame of claims, got {type(X).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in X.columns]
    if missing:
        raise BadInputError("claims frame", f"missing columns {missing}; see fraud.features.REQUIRED_COLUMNS")


def _flag(values: pd.Series) -> np.ndarray:
    if values.dtype == bool:
        return values.to_numpy(dtype=np.float64)
    text = values.astype("string").str.lower()
    return text.isin(["true", "1", "yes", "1.0"]).to_numpy(dtype=np.float64)

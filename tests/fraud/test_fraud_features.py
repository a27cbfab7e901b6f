"""Fraud features: past-only by construction, and right on a history small enough to count by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from fraud.features import FEATURES, FraudFeatures
from fraud.reasons import describe
from pipeline.errors import BadInputError

K = 30_000  # the claim whose features must not move


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        if isinstance(a[col].dtype, pd.CategoricalDtype):
            assert a[col].astype(object).equals(b[col].astype(object)), col
        else:
            np.testing.assert_allclose(
                a[col].to_numpy(), b[col].to_numpy(), rtol=1e-5, equal_nan=True, err_msg=col
            )


@pytest.fixture(scope="module")
def fitted(history: pd.DataFrame) -> tuple[FraudFeatures, pd.DataFrame]:
    features = FraudFeatures(flash_pay_limit=3000).fit(history.iloc[:K])
    return features, features.transform(history)


def test_features_of_claim_k_ignore_later_claims_dropped(history: pd.DataFrame, fitted) -> None:  # type: ignore[no-untyped-def]
    features, full = fitted
    truncated = features.transform(history.iloc[: K + 1])
    _same(full.iloc[: K + 1], truncated)


def test_features_of_claim_k_ignore_later_claims_altered(history: pd.DataFrame, fitted) -> None:  # type: ignore[no-untyped-def]
    features, full = fitted
    k = history.iloc[K]
    altered = history.copy()
    later = altered.index > K
    # the later claims now share everything with claim k, and ask ten times as much
    for col in ("claimant_id", "bank_account", "phone", "invoice_no", "provider_id", "agent_id", "diagnosis"):
        altered.loc[later, col] = k[col]
    altered.loc[later, "amount_claimed"] *= 10
    altered.loc[later, "failed_checks"] = 5
    changed = features.transform(altered)
    _same(full.iloc[: K + 1], changed.iloc[: K + 1])
    # ...and the test can fail: the later claims themselves do see claim k and each other
    assert (changed.loc[later, "acct_distinct_claimants"] != full.loc[later, "acct_distinct_claimants"]).any()


def test_row_order_does_not_matter(history: pd.DataFrame, fitted) -> None:  # type: ignore[no-untyped-def]
    features, full = fitted
    shuffled = history.sample(frac=1.0, random_state=0)
    _same(full.loc[shuffled.index], features.transform(shuffled))


def _claim(
    t: str, claimant: str, account: str = "A1", invoice: str = "I1", amount: float = 100.0, **kw
) -> dict:  # type: ignore[no-untyped-def]
    row = {
        "claim_id": f"C{t}{claimant}",
        "claim_time": pd.Timestamp(t),
        "claimant_id": claimant,
        "policy_start": pd.Timestamp("2023-01-01"),
        "reinstated_at": pd.NaT,
        "agent_id": "AG1",
        "provider_id": "H1",
        "bank_account": account,
        "phone": f"P{claimant}",
        "claim_type": "outpatient",
        "diagnosis": "J06.9",
        "amount_claimed": amount,
        "invoice_no": invoice,
        "n_documents": 3,
        "failed_checks": 0,
        "words_figures_mismatch": False,
    }
    row.update(kw)
    return row


def test_counts_by_hand() -> None:
    claims = pd.DataFrame(
        [
            _claim("2024-01-01 09:00", "a", invoice="I1", amount=2900.0),
            _claim("2024-01-05 09:00", "b", invoice="I2"),
            _claim("2024-01-05 09:00", "c", invoice="I3"),  # same second as b: neither sees the other
            _claim("2024-02-01 09:00", "d", invoice="I1", reinstated_at=pd.Timestamp("2024-06-01")),
            _claim(
                "2024-03-01 09:00", "a", invoice="I4", amount=2950.0, reinstated_at=pd.Timestamp("2024-02-20")
            ),
        ]
    )
    f = FraudFeatures(flash_pay_limit=3000).fit(claims).transform(claims)
    assert list(f.columns) == list(FEATURES)
    assert f["acct_distinct_claimants"].tolist() == [1, 2, 2, 4, 4]
    assert f["invoice_prior_claims"].tolist() == [0, 0, 0, 1, 0]
    assert f["invoice_other_claimants"].tolist() == [0, 0, 0, 1, 0]
    assert f["claimant_n_prior"].tolist() == [0, 0, 0, 0, 1]
    assert f["near_flash_limit"].tolist() == [1, 0, 0, 0, 1]
    assert f["claimant_near_limit_365d"].tolist() == [0, 0, 0, 0, 1]
    assert f["claimant_days_since_last"].iloc[4] == pytest.approx(60.0)
    assert np.isnan(f["days_since_reinstatement"].iloc[3])  # reinstated after the claim: not known yet
    assert f["days_since_reinstatement"].iloc[4] == pytest.approx(10 + 9 / 24)
    assert f["acct_n_90d"].tolist() == [0, 1, 1, 3, 4]  # 2023-12-02 .. 2024-03-01 holds all four


def test_transformer_conventions(history: pd.DataFrame) -> None:
    features = FraudFeatures()
    assert features.get_params()["early_days"] == 60
    with pytest.raises(NotFittedError):
        features.transform(history.head())
    features.fit(history.head(100))
    assert list(features.get_feature_names_out()) == list(FEATURES)
    with pytest.raises(BadInputError, match="missing columns"):
        features.transform(history.drop(columns=["bank_account"]))


def test_reason_wording() -> None:
    assert describe("acct_distinct_claimants", 3.0) == (
        "该银行账户已被3名不同申请人使用 / bank account used by 3 different claimants"
    )
    assert describe("near_flash_limit", 1.0).startswith("金额略低于闪赔限额3000元 / ")
    assert describe("days_since_reinstatement", float("nan")) == "保单未复效 / policy never reinstated"
    for name in FEATURES:
        zh, en = describe(name, 1.0 if name not in ("claim_type", "diagnosis") else "inpatient").split(
            " / ", 1
        )
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), name
        assert en.isascii() and not en.startswith(f"{name} ="), name  # worded, not the raw name


def test_a_frame_from_before_the_qr_column_reads_as_no_qr_finding() -> None:
    old = pd.DataFrame([_claim("2024-01-01 09:00", "a"), _claim("2024-01-02 09:00", "b")])
    f = FraudFeatures().fit(old).transform(old)
    assert f["qr_mismatch"].tolist() == [0.0, 0.0]
    new = pd.DataFrame([_claim("2024-01-01 09:00", "a", qr_mismatch=True), _claim("2024-01-02 09:00", "b")])
    assert FraudFeatures().fit(new).transform(new)["qr_mismatch"].tolist() == [1.0, 0.0]
    # a transformer fitted before the feature existed keeps the columns it was fitted on
    fitted = FraudFeatures().fit(old)
    fitted.feature_names_ = [c for c in FEATURES if c != "qr_mismatch"]
    assert "qr_mismatch" not in fitted.transform(old).columns

"""The numbers a fraud score is judged by: what an alert team reading the top of the list catches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraud.metrics import calendar_months, evaluate, fraud_metrics, month_name


def test_top_of_the_list() -> None:
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0] * 20)  # 40 frauds in 200 claims
    score = np.where(y == 1, 0.9, 0.1)
    score[:10] = 0.95  # the ten highest: two frauds, eight clean claims
    m = fraud_metrics(y, score)
    assert m["n"] == 200 and m["positives"] == 40 and m["base_rate"] == pytest.approx(0.2)
    assert m["precision_at_1pct"] == pytest.approx(0.5)  # top 2 of 200: one of each
    assert m["recall_at_5pct"] == pytest.approx(2 / 40)  # top 10: two of the 40 frauds
    assert 0.5 < m["roc_auc"] <= 1.0


def test_one_class_has_no_auc() -> None:
    m = fraud_metrics(np.zeros(10, dtype=int), np.linspace(0, 1, 10))
    assert m["roc_auc"] is None and m["pr_auc"] is None and m["recall_at_1pct"] is None


def test_per_calendar_month() -> None:
    when = pd.to_datetime(["2024-01-31 23:00", "2024-02-01 01:00", "2024-02-15 12:00", "2024-03-01 00:00"])
    months = calendar_months(when)
    assert [month_name(m) for m in months] == ["2024-01", "2024-02", "2024-02", "2024-03"]
    out = evaluate(np.array([0, 1, 0, 1]), np.array([0.1, 0.8, 0.2, 0.7]), when)
    assert list(out["by_month"]) == ["2024-01", "2024-02", "2024-03"]
    assert out["by_month"]["2024-02"]["n"] == 2

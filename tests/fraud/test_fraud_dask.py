"""Distributed training on a local Dask cluster of two worker processes reaches local quality."""

from __future__ import annotations

import pandas as pd
import pytest

from fraud.estimator import FraudClassifier
from fraud.training import train_fraud_model

distributed = pytest.importorskip(
    "distributed", reason='needs the [dask] extra: pip install "claims-di[dask]"'
)


@pytest.mark.slow
def test_dask_training_matches_local(history: pd.DataFrame, report) -> None:  # type: ignore[no-untyped-def]
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.wait_for_workers(2)
        model, dask_report = train_fraud_model(
            history, classifier=FraudClassifier(n_estimators=400), client=client
        )
    assert model.named_steps["classifier"].dask_workers_ == 2
    assert dask_report.params["distributed"] is True
    assert abs(dask_report.metrics["roc_auc"] - report.metrics["roc_auc"]) < 0.02
    assert abs(dask_report.metrics["pr_auc"] - report.metrics["pr_auc"]) < 0.1


def test_missing_dask_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from fraud import cluster
    from pipeline.errors import ConfigError

    real_import = builtins.__import__

    def no_dask(name: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.startswith(("dask", "lightgbm.dask")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(ConfigError, match=r'pip install "claims-di\[dask\]"'):
        cluster.import_dask()

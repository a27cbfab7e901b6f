"""The batch flow on a local Dask cluster (the `[dask]` extra): same outcomes as on threads.

`flows.claims_batch` picks its task runner from CLAIMS_TASK_RUNNER when a run starts
(`tests/flows/test_runtime.py`); this test gives the run a small local cluster with `with_options`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from flows.claims_batch import claims_batch
from pipeline.records import Route
from pipeline.settings import Settings
from pipeline.store import DecisionRow, open_store

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_batch_flow_on_a_local_dask_cluster(batch: Path, flow_settings: Settings) -> None:
    prefect_dask = pytest.importorskip(
        "prefect_dask", reason='needs the dask extra: pip install "claims-di[dask]"'
    )
    runner = prefect_dask.DaskTaskRunner(
        cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": False}
    )
    result = claims_batch.with_options(task_runner=runner)(str(batch), str(flow_settings.data_dir))
    store = open_store(flow_settings)
    claims = {c.claim_id for c in store.list_claims(batch_id=result.batch_id)}
    with store.session() as s:
        assert Counter(s.scalars(select(DecisionRow.claim_id))) == Counter({c: 1 for c in claims})
    assert {r.claim_id for r in result.claims} == claims
    assert all(r.route != Route.ERROR.value for r in result.claims), result.claims

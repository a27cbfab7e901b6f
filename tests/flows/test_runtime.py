"""The task runner is chosen when a flow runs: CLAIMS_TASK_RUNNER set after the flows were imported counts."""

from __future__ import annotations

import pytest
from prefect import flow
from prefect.context import FlowRunContext
from prefect.task_runners import ThreadPoolTaskRunner

from flows.claims_batch import claims_batch
from flows.intake import intake_batch
from flows.runtime import DeferredTaskRunner, task_runner


def test_the_flows_choose_their_runner_per_run() -> None:
    for f in (claims_batch, intake_batch):
        assert isinstance(f.task_runner, DeferredTaskRunner), f.name


def test_the_environment_after_import_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAIMS_TASK_RUNNER", raising=False)
    monkeypatch.setenv("CLAIMS_OCR_WORKERS", "3")
    threads = claims_batch.task_runner.duplicate()
    assert isinstance(threads, ThreadPoolTaskRunner) and threads._max_workers == 3

    prefect_dask = pytest.importorskip(
        "prefect_dask", reason='needs the dask extra: pip install "claims-di[dask]"'
    )
    monkeypatch.setenv("CLAIMS_TASK_RUNNER", "dask")
    monkeypatch.setenv("CLAIMS_DASK_ADDRESS", "tcp://127.0.0.1:8786")
    for f in (claims_batch, intake_batch):
        runner = f.task_runner.duplicate()
        assert isinstance(runner, prefect_dask.DaskTaskRunner), f.name
        assert runner.address == "tcp://127.0.0.1:8786"
    assert isinstance(task_runner(), prefect_dask.DaskTaskRunner)


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_uses_the_runner_chosen_when_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through Prefect's engine: the runner a run's tasks go to is the one the environment names then."""

    @flow(task_runner=DeferredTaskRunner())
    def which() -> tuple[str, int | None]:
        runner = FlowRunContext.get().task_runner  # type: ignore[union-attr]
        return type(runner).__name__, getattr(runner, "_max_workers", None)

    monkeypatch.delenv("CLAIMS_TASK_RUNNER", raising=False)
    monkeypatch.setenv("CLAIMS_OCR_WORKERS", "2")
    assert which() == ("ThreadPoolTaskRunner", 2)
    monkeypatch.setenv("CLAIMS_OCR_WORKERS", "5")
    assert which() == ("ThreadPoolTaskRunner", 5)

"""What the Prefect flows share in a worker process: the task runner, the store, the models, retries.

The task runner is chosen when a flow runs, not when its module is imported: the flows are declared
with a `DeferredTaskRunner`, whose copy for each run (Prefect runs a flow's tasks on
`flow.task_runner.duplicate()`) is `task_runner()` as the environment says then. So a worker, a
test or `claims run` that sets CLAIMS_TASK_RUNNER after `flows.claims_batch` was imported gets the
runner it asked for.
"""

from __future__ import annotations

import errno
import os
from typing import Any

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from flows import steps
from pipeline.errors import ClaimsError
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store

TASK_RUNNER_ENV = "CLAIMS_TASK_RUNNER"
DASK_ADDRESS_ENV = "CLAIMS_DASK_ADDRESS"


def task_runner() -> TaskRunner[Any]:
    """Bounded threads by default; a Dask cluster when CLAIMS_TASK_RUNNER=dask (the [dask] extra)."""
    kind = os.environ.get(TASK_RUNNER_ENV, "threads")
    if kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise ClaimsError(
                'the dask task runner needs the dask extra: pip install "claims-di[dask]"'
            ) from exc
        address = os.environ.get(DASK_ADDRESS_ENV)
        return DaskTaskRunner(address=address) if address else DaskTaskRunner()
    return ThreadPoolTaskRunner(max_workers=Settings().ocr_workers)


class DeferredTaskRunner(TaskRunner[Any]):
    """A flow's task runner that is `task_runner()` as chosen at the start of each run.

    Prefect never runs tasks on the runner a flow is declared with, only on its `duplicate()`,
    entered once per run; this one's duplicate is the runner the environment asks for then.
    """

    def duplicate(self) -> Any:
        return task_runner()

    def submit(self, task: Any, parameters: Any, wait_for: Any = None, dependencies: Any = None) -> Any:
        raise RuntimeError("a DeferredTaskRunner runs no task itself; Prefect runs them on its duplicate()")


# --- one store and one set of models per worker process -----------------------------------------

_STORES: dict[str, CaseStore] = {}
_MODELS: dict[str, steps.Models] = {}


def store_for(settings: Settings) -> CaseStore:
    """One store (engine and pool) per process and database."""
    if settings.db_url not in _STORES:
        _STORES[settings.db_url] = open_store(settings)
    return _STORES[settings.db_url]


def models_for(settings: Settings) -> steps.Models:
    """Champion models, loaded once per worker process."""
    key = str(settings.models_dir)
    if key not in _MODELS:
        _MODELS[key] = steps.load_models(settings)
    return _MODELS[key]


# --- retries: only for what may pass ----------------------------------------------------------------

TRANSIENT_ERRNOS = (errno.ENOSPC, errno.EIO, errno.EAGAIN)


def is_transient(exc: BaseException) -> bool:
    """A fault that may pass if tried again: the database went away or is busy, a connection pool
    ran dry, the disk filled. Never bad input, never a bug."""
    if isinstance(exc, OperationalError | PoolTimeout | TimeoutError | ConnectionError):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS


def transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only what may pass (`is_transient`); never bad input."""
    try:
        state.result()
    except Exception as exc:
        return is_transient(exc)
    return False

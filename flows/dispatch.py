"""What an accepted intake claim does next (`CLAIMS_INTAKE_DISPATCH`): wait, run here at once, or run there.

- `queue`: nothing now. The claim waits, `queued`, for the next intake batch: the `intake-batch`
  deployment's schedule (`python -m flows.serve`) or `claims intake run`.
- `flow` (the default): the intake-batch flow runs in this process, in one background thread that
  takes every queued claim, so a burst of uploads becomes one batch and SQLite keeps one writer.
- `deployment`: the intake-batch deployment is started on the Prefect server at once (the server
  and `python -m flows.serve` must be running); if it cannot be reached the claims stay queued and
  the deployment's schedule takes them.

`flows.web` makes the dispatcher and hands it to the intake API, which imports no flow.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from intake.dispatch import Dispatcher, QueueDispatcher
from pipeline.settings import Settings

__all__ = ["DeploymentDispatcher", "FlowDispatcher", "QueueDispatcher", "make_dispatcher"]

log = logging.getLogger(__name__)


def _run_flow(settings: Settings) -> None:
    from flows.intake import intake_batch

    intake_batch(data_dir=str(settings.data_dir), database_url=settings.database_url)


class FlowDispatcher:
    """Runs the intake-batch flow over every queued claim in one background thread, started lazily.

    A submission during a run sets the flag again, so the thread runs once more and takes what
    arrived meanwhile; nothing waits for a run to finish.
    """

    def __init__(self, settings: Settings, run: Callable[[Settings], None] | None = None) -> None:
        self.settings = settings
        self._run = run or _run_flow
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, claim_ids: list[str]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop = False
                self._thread = threading.Thread(target=self._loop, name="intake-flow", daemon=True)
                self._thread.start()
            self._idle.clear()
            self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            if self._stop:
                return
            self._wake.clear()
            try:
                self._run(self.settings)
            except Exception:  # logged; the claims stay queued for the next run
                log.exception("intake: the intake-batch flow failed")
            with self._lock:  # a submission between the run and here keeps the thread busy
                if not self._wake.is_set():
                    self._idle.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no run is pending or running (tests, and a graceful shutdown)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class DeploymentDispatcher:
    """Starts the intake-batch deployment on the Prefect server for the submitted claims."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def submit(self, claim_ids: list[str]) -> None:
        threading.Thread(target=self._start, args=(list(claim_ids),), daemon=True).start()

    def _start(self, claim_ids: list[str]) -> None:
        try:
            from prefect.deployments import run_deployment

            run_deployment(
                self.settings.intake_deployment,
                parameters={"claim_ids": claim_ids},
                timeout=0,
            )
        except Exception as exc:  # the schedule will take the queued claims
            log.warning(
                "intake: could not start deployment %s (%s); %d claims stay queued",
                self.settings.intake_deployment,
                exc,
                len(claim_ids),
            )

    def close(self) -> None:
        pass


def make_dispatcher(settings: Settings) -> Dispatcher:
    if settings.intake_dispatch == "queue":
        return QueueDispatcher()
    if settings.intake_dispatch == "deployment":
        return DeploymentDispatcher(settings)
    return FlowDispatcher(settings)

"""Serve the four deployments from one long-running process: `python -m flows.serve`.

Ops start a batch from the UI (or `prefect deployment run 'claims-batch/claims-batch' -p
folder=/path/to/batch`), adjusters' decisions are applied every 15 minutes, claims queued by the
intake API are taken every 5 minutes (or at once, by the API, with CLAIMS_INTAKE_DISPATCH=deployment),
and the models are retrained nightly at 02:00 Beijing time. `prefect.yaml` declares the same
deployments for a work pool. The flows are imported only after Prefect's environment is set (our
PREFECT_HOME, no telemetry).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

TIMEZONE = "Asia/Shanghai"
NIGHTLY_CRON = "0 2 * * *"
REVIEW_EVERY = dt.timedelta(minutes=15)
INTAKE_EVERY = dt.timedelta(minutes=5)


def deployments(folder: str = "sample_docs", data_dir: str | None = None) -> list[Any]:
    """The batch flow (ops give a folder), apply_review on an interval, the nightly retrain, and the
    intake batch (claims from the intake API) on an interval."""
    from prefect.schedules import Cron, Interval

    from flows.apply_review import apply_review
    from flows.claims_batch import claims_batch
    from flows.intake import intake_batch
    from flows.retrain import retrain

    common = {"data_dir": data_dir} if data_dir else {}
    return [
        claims_batch.to_deployment(
            name="claims-batch",
            parameters={"folder": folder, **common},
            description="Run a batch folder (claims.csv, policies.csv, documents) to outcomes.",
            tags=["claims"],
        ),
        apply_review.to_deployment(
            name="apply-review",
            schedules=[Interval(REVIEW_EVERY, timezone=TIMEZONE)],
            parameters=common,
            description="Apply adjusters' completed review decisions: outcome, payment, notice.",
            tags=["claims"],
        ),
        retrain.to_deployment(
            name="nightly-retrain",
            schedules=[Cron(NIGHTLY_CRON, timezone=TIMEZONE)],
            parameters=common,
            description="Retrain doc-type, gate and fraud models; promote challengers that win.",
            tags=["models"],
        ),
        intake_batch.to_deployment(
            name="intake-batch",
            schedules=[Interval(INTAKE_EVERY, timezone=TIMEZONE)],
            parameters=common,
            description="Take the claims the intake API queued to outcomes (OCR skipped for hospital data).",
            tags=["claims"],
        ),
    ]


def main() -> None:  # pragma: no cover - starts a long-running server process
    from pipeline import logs
    from pipeline.settings import get_settings

    for key, value in get_settings().prefect_env().items():
        os.environ.setdefault(key, value)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logs.install()  # the flows' logs name claims; their ID and account numbers stay masked
    from prefect import serve

    serve(*deployments(os.environ.get("CLAIMS_BATCH_FOLDER", "sample_docs")))


if __name__ == "__main__":  # pragma: no cover
    main()

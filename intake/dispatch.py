"""What the intake API does with an accepted claim: hand it to the dispatcher it was given.

The API stores the claim, queues it (`intake_claims.status = queued`) and calls
`dispatcher.submit([claim_id])`. Which dispatcher runs is the server's choice
(`CLAIMS_INTAKE_DISPATCH`, made in `flows.dispatch` and handed over by `flows.web`): the API imports
neither the flows nor Prefect. Without one it leaves claims queued for the next intake batch.
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class Dispatcher(Protocol):
    def submit(self, claim_ids: list[str]) -> None: ...

    def close(self) -> None: ...


class QueueDispatcher:
    """Leaves claims queued for the next intake batch."""

    def submit(self, claim_ids: list[str]) -> None:
        log.info("intake: %d claims queued for the next batch", len(claim_ids))

    def close(self) -> None:
        pass

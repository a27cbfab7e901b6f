"""Which policy a claim is made under: the policy system's extract, read by the spine for both doors.

A batch brings its `policies.csv` (`read_policies`); a claim over HTTP brings only a policy number. It
is looked up in the extract named by `CLAIMS_INTAKE_POLICIES` (re-read when the file changes), then
among the policies the store already holds for earlier claims on the same number (`PolicyBook`). A
policy found neither way is not an error at the door: the claim goes on, and the rules send it to a
person (POLICY_NOT_FOUND), as they would in a batch.
"""

from __future__ import annotations

import csv
import logging
import threading
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select

from pipeline.errors import BadInputError
from pipeline.records import Policy
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore, ClaimRow, StageResultRow

log = logging.getLogger(__name__)

POLICIES_FILE = "policies.csv"
"""The policy extract that may travel with a batch (not a document, never unclaimed)."""


def read_policy_file(path: Path) -> dict[str, Policy]:
    """A policies.csv (the same columns a batch's carries), by policy number."""
    out: dict[str, Policy] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            values = {k: v for k, v in row.items() if k in Policy.model_fields and v not in (None, "")}
            try:
                policy = Policy.model_validate(values)
            except ValidationError as exc:
                raise BadInputError(path, f"row {n}: {exc}") from exc
            out[policy.policy_number] = policy
    return out


def read_policies(folder: Path) -> dict[str, Policy]:
    """A batch folder's `policies.csv`, by policy number; empty when the batch brings none."""
    path = folder / POLICIES_FILE
    return read_policy_file(path) if path.exists() else {}


class PolicyBook:
    """Policies by number, from the configured extract and then from the store."""

    def __init__(self, settings: Settings, store: CaseStore) -> None:
        self.path = settings.intake_policies
        self.store = store
        self._loaded: tuple[float, dict[str, Policy]] | None = None
        self._lock = threading.Lock()

    def _extract(self) -> dict[str, Policy]:
        if self.path is None or not self.path.is_file():
            return {}
        mtime = self.path.stat().st_mtime
        with self._lock:
            if self._loaded is None or self._loaded[0] != mtime:
                self._loaded = (mtime, read_policy_file(self.path))
                log.info("intake: %d policies from %s", len(self._loaded[1]), self.path)
            return self._loaded[1]

    def find(self, policy_number: str) -> Policy | None:
        policy = self._extract().get(policy_number)
        if policy is not None:
            return policy
        with self.store.session() as s:
            record = s.scalar(
                select(StageResultRow.record)
                .join(ClaimRow, ClaimRow.claim_id == StageResultRow.claim_id)
                .where(ClaimRow.policy_number == policy_number, StageResultRow.stage == Stage.POLICY)
                .order_by(StageResultRow.created_at.desc())
                .limit(1)
            )
        return None if record is None else Policy.model_validate(record)

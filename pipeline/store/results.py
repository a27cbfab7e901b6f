"""Stage results: a stage's output for a claim (or one of its documents), present means done.

This is what lets a batch re-run after a crash continue where it stopped: a result that exists is not
made again. The stage keys are `pipeline.stages`.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import select

from pipeline.store.engine import Repository
from pipeline.store.tables import StageResultRow

R = TypeVar("R", bound=BaseModel)


class StageResultRepository(Repository):
    """Records by (claim, stage, key), kept as their pydantic JSON."""

    def put(self, claim_id: str, stage: str, record: BaseModel, key: str = "") -> None:
        """Persist a stage's output; writing the same (claim, stage, key) again replaces it."""
        payload = record.model_dump(mode="json")
        with self.session() as s:
            row = s.scalar(
                select(StageResultRow).where(
                    StageResultRow.claim_id == claim_id,
                    StageResultRow.stage == stage,
                    StageResultRow.key == key,
                )
            )
            if row is None:
                s.add(
                    StageResultRow(
                        claim_id=claim_id,
                        stage=stage,
                        key=key,
                        record_type=type(record).__name__,
                        record=payload,
                    )
                )
            else:
                row.record = payload
                row.record_type = type(record).__name__

    def get(self, claim_id: str, stage: str, model: type[R], key: str = "") -> R | None:
        with self.session() as s:
            payload = s.scalar(
                select(StageResultRow.record).where(
                    StageResultRow.claim_id == claim_id,
                    StageResultRow.stage == stage,
                    StageResultRow.key == key,
                )
            )
            return None if payload is None else model.model_validate(payload)

    def by_key(self, claim_id: str, stage: str, model: type[R]) -> dict[str, R]:
        """A stage's results for a claim, by key (a per-document stage has one per document)."""
        with self.session() as s:
            rows = s.execute(
                select(StageResultRow.key, StageResultRow.record)
                .where(StageResultRow.claim_id == claim_id, StageResultRow.stage == stage)
                .order_by(StageResultRow.key)
            ).all()
            return {k: model.model_validate(rec) for k, rec in rows}

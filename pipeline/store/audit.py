"""The audit trail: who did what to which claim, append-only (the migration's triggers refuse changes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pipeline.store.engine import Repository
from pipeline.store.tables import AuditEventRow


class AuditRepository(Repository):
    """Events are added and read, never changed."""

    def record(
        self, actor: str, action: str, claim_id: str | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        with self.session() as s:
            s.add(AuditEventRow(actor=actor, action=action, claim_id=claim_id, detail=detail or {}))

    def events(self, claim_id: str | None = None) -> list[dict[str, Any]]:
        """Every event, or one claim's, in the order they happened."""
        with self.session() as s:
            q = select(AuditEventRow).order_by(AuditEventRow.id)
            if claim_id is not None:
                q = q.where(AuditEventRow.claim_id == claim_id)
            return [
                {
                    "id": r.id,
                    "at": r.at,
                    "actor": r.actor,
                    "action": r.action,
                    "claim_id": r.claim_id,
                    "detail": r.detail,
                }
                for r in s.scalars(q)
            ]

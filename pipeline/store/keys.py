"""Claim keys: what a claim is recognised by, to find duplicate invoices and shared accounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from pipeline.store.engine import Repository
from pipeline.store.tables import ClaimKeyRow


class ClaimKeyRepository(Repository):
    """Digests of (kind, key) per claim across the whole store, read by adjudication."""

    def index(
        self,
        claim_id: str,
        *,
        claimant: str,
        submitted_at: dt.datetime,
        keys: list[tuple[str, str, Decimal | None]],
    ) -> None:
        """Remember what a claim is recognised by; indexing the same claim again changes nothing."""
        with self.session() as s:
            have = {
                (kind, key)
                for kind, key in s.execute(
                    select(ClaimKeyRow.kind, ClaimKeyRow.key).where(ClaimKeyRow.claim_id == claim_id)
                )
            }
            for kind, key, amount in dict.fromkeys(keys):
                if (kind, key) not in have:
                    s.add(
                        ClaimKeyRow(
                            claim_id=claim_id,
                            kind=kind,
                            key=key,
                            claimant=claimant,
                            amount=amount,
                            submitted_at=submitted_at,
                        )
                    )

    def find(self, kind: str, key: str) -> list[dict[str, Any]]:
        """Every claim that carried this key, oldest first."""
        with self.session() as s:
            rows = s.scalars(
                select(ClaimKeyRow)
                .where(ClaimKeyRow.kind == kind, ClaimKeyRow.key == key)
                .order_by(ClaimKeyRow.submitted_at, ClaimKeyRow.claim_id)
            )
            return [
                {
                    "id": r.id,
                    "claim_id": r.claim_id,
                    "claimant": r.claimant,
                    "amount": r.amount,
                    "submitted_at": r.submitted_at,
                }
                for r in rows
            ]

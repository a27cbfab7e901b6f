"""Decisions and payments as read back: the latest outcome of a claim and the payment ledger.

They are written only by `pipeline.decisions` and `pipeline.payout`, each under the claim's lock; this
repository only reads them.
"""

from __future__ import annotations

from sqlalchemy import func, select

from pipeline.records import Outcome, PaymentInstruction
from pipeline.store.engine import Repository
from pipeline.store.tables import DecisionRow, PaymentRow


class LedgerRepository(Repository):
    """Versioned decisions (a reopen adds a version) and the payment instructions issued on them."""

    def latest_decision_version(self, claim_id: str) -> int | None:
        with self.session() as s:
            return s.scalar(
                select(func.max(DecisionRow.decision_version)).where(DecisionRow.claim_id == claim_id)
            )

    def latest_outcome(self, claim_id: str) -> Outcome | None:
        with self.session() as s:
            rec = s.scalar(
                select(DecisionRow.record)
                .where(DecisionRow.claim_id == claim_id)
                .order_by(DecisionRow.decision_version.desc())
                .limit(1)
            )
            return None if rec is None else Outcome.model_validate(rec)

    def payments(self, claim_id: str | None = None) -> list[PaymentInstruction]:
        with self.session() as s:
            q = select(PaymentRow.record).order_by(PaymentRow.id)
            if claim_id is not None:
                q = q.where(PaymentRow.claim_id == claim_id)
            return [PaymentInstruction.model_validate(r) for r in s.scalars(q)]

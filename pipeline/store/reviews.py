"""Review tasks: claims waiting for a person, and the lock that keeps two adjusters off one claim."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pipeline.records import ReviewDecision
from pipeline.store.engine import Repository
from pipeline.store.tables import ReviewTaskRow, utcnow


class ReviewTaskRepository(Repository):
    """Compare-and-set updates on `review_tasks`: race-free without holding a database lock."""

    def lock(self, claim_id: str, user: str) -> bool:
        """Take a claim for review; False if another user holds it (a compare-and-set, race-free)."""
        with self.session() as s:
            res = s.execute(
                ReviewTaskRow.__table__.update()
                .where(
                    ReviewTaskRow.claim_id == claim_id,
                    ReviewTaskRow.status == "open",
                    (ReviewTaskRow.locked_by.is_(None)) | (ReviewTaskRow.locked_by == user),
                )
                .values(locked_by=user, locked_at=utcnow(), version=ReviewTaskRow.version + 1)
            )
            return res.rowcount == 1

    def complete(self, decision: ReviewDecision) -> bool:
        """Record a decision once: only the lock holder of an undecided task can complete it."""
        with self.session() as s:
            res = s.execute(
                ReviewTaskRow.__table__.update()
                .where(
                    ReviewTaskRow.claim_id == decision.claim_id,
                    ReviewTaskRow.status == "open",
                    ReviewTaskRow.locked_by == decision.reviewer,
                )
                .values(
                    status="done",
                    decision=decision.model_dump(mode="json"),
                    version=ReviewTaskRow.version + 1,
                )
            )
            return res.rowcount == 1

    def tasks(self, status: str | None = "open") -> list[dict[str, Any]]:
        """Tasks in one status (None: all), most urgent first, as plain dicts of their columns."""
        with self.session() as s:
            q = select(ReviewTaskRow).order_by(ReviewTaskRow.priority.desc(), ReviewTaskRow.due_at)
            if status is not None:
                q = q.where(ReviewTaskRow.status == status)
            return [
                {c.name: getattr(r, c.name) for c in ReviewTaskRow.__table__.columns} for r in s.scalars(q)
            ]

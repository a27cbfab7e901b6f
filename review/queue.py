"""The review queue: claims routed to people, most pressing first, with filters.

Order: the legal clock first when it is running out (overdue, then due within 24 hours, then within
72; 保险法 art. 23 deadlines set by triage), then the VIP star tier (星级客户), then the deadline
itself, then triage's priority. The deadline part is computed now, not when the batch ran, so a
claim rises as its clock runs down.

Each reason shows its source, and the fraud column keeps the model's band apart from a fraud referral
a rule or a check raised: "model low 0.00 · raised by rule: provider on watch list".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from pipeline.reasons import describe_source, fraud_raised_by, read_reasons, sourced_codes
from pipeline.records import ClaimFacts, FraudBand, FraudScore, Reason, ReviewDecision, TriageResult
from pipeline.stages import Stage
from pipeline.store import CaseStore, ClaimRow, ReviewTaskRow, utcnow
from review.casefile import stage_records

ACTIVE = ("open", "awaiting_approval")


@dataclass
class QueueItem:
    claim_id: str
    claimant: str
    status: str
    star_tier: int
    due_at: dt.datetime | None
    urgency: int
    """3 overdue, 2 due within 24 h, 1 within 72 h, 0 later."""
    priority: int
    reasons: list[Reason]
    codes: list[str]
    fraud_band: str | None
    fraud_score: float | None
    amount: Decimal | None
    locked_by: str | None
    locked_at: dt.datetime | None
    proposal: ReviewDecision | None
    version: int

    @property
    def urgency_label(self) -> str:
        return ("", "due within 72 h", "due within 24 h", "overdue")[self.urgency]

    @property
    def why(self) -> list[tuple[str, str]]:
        """Each reason code with its source: ('PROVIDER_WATCHLIST', 'rule: provider on watch list')."""
        return sourced_codes(self.reasons)

    @property
    def fraud_raised_by(self) -> list[str]:
        """What raised a fraud referral other than the model (a rule, a check), as people read it."""
        return [describe_source(s) for s in fraud_raised_by(self.reasons)]

    @property
    def fraud_model(self) -> str:
        """The model's own verdict, apart from any referral: 'model low 0.00', or 'model: not scored'."""
        if self.fraud_band is None or self.fraud_score is None:
            return "model: not scored"
        return f"model {self.fraud_band} {self.fraud_score:.2f}"

    @property
    def fraud_text(self) -> str:
        """The fraud column as one line: 'model low 0.00 · raised by rule: provider on watch list'."""
        raised = self.fraud_raised_by
        return self.fraud_model + (f" · raised by {'; '.join(raised)}" if raised else "")


@dataclass
class QueueFilters:
    reason: str | None = None
    fraud_band: str | None = None
    """low, medium, high, or `none` for claims the fraud model did not score."""
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    status: str | None = None
    """open or awaiting_approval; None for both."""

    @classmethod
    def from_query(cls, q: dict[str, str]) -> QueueFilters:
        def amount(key: str) -> Decimal | None:
            try:
                return Decimal(q[key]) if q.get(key, "").strip() else None
            except InvalidOperation:
                return None

        band = q.get("fraud_band") or None
        status = q.get("status") or None
        return cls(
            reason=q.get("reason") or None,
            fraud_band=band if band in {*(b.value for b in FraudBand), "none"} else None,
            min_amount=amount("min_amount"),
            max_amount=amount("max_amount"),
            status=status if status in ACTIVE else None,
        )

    def keep(self, item: QueueItem) -> bool:
        if self.reason and self.reason not in item.codes:
            return False
        if self.fraud_band and (item.fraud_band or "none") != self.fraud_band:
            return False
        if self.min_amount is not None and (item.amount is None or item.amount < self.min_amount):
            return False
        if self.max_amount is not None and (item.amount is None or item.amount > self.max_amount):
            return False
        return not (self.status and item.status != self.status)


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    return None if t is None else (t if t.tzinfo else t.replace(tzinfo=dt.UTC))


def urgency(due_at: dt.datetime | None, now: dt.datetime) -> int:
    if due_at is None:
        return 0
    hours = (due_at - now).total_seconds() / 3600
    return 3 if hours < 0 else 2 if hours < 24 else 1 if hours < 72 else 0


def sort_key(item: QueueItem) -> tuple[Any, ...]:
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return (-item.urgency, -item.star_tier, item.due_at or far, -item.priority, item.claim_id)


def build_queue(
    store: CaseStore, filters: QueueFilters | None = None, now: dt.datetime | None = None
) -> tuple[list[QueueItem], list[str]]:
    """The active review tasks, filtered and ordered; and every reason code present (for the filter)."""
    now = now or utcnow()
    with store.session() as s:
        rows = s.execute(
            select(ReviewTaskRow, ClaimRow.claimant)
            .join(ClaimRow, ClaimRow.claim_id == ReviewTaskRow.claim_id)
            .where(ReviewTaskRow.status.in_(ACTIVE))
        ).all()
        tasks = [
            ({c.name: getattr(t, c.name) for c in ReviewTaskRow.__table__.columns}, who) for t, who in rows
        ]
    recs = stage_records(store, [t["claim_id"] for t, _ in tasks], (Stage.DECISION, Stage.FRAUD, Stage.FACTS))
    items = []
    for t, claimant in tasks:
        cid = t["claim_id"]
        bundle = recs.get((cid, Stage.DECISION)) or {}
        triage = TriageResult.model_validate(bundle["triage"]) if bundle.get("triage") else None
        fraud = FraudScore.model_validate(recs[(cid, Stage.FRAUD)]) if (cid, Stage.FRAUD) in recs else None
        facts = ClaimFacts.model_validate(recs[(cid, Stage.FACTS)]) if (cid, Stage.FACTS) in recs else None
        amount = None
        if facts is not None:
            amount = facts.total_claimed if facts.invoices else facts.claim.amount_claimed
        due = _aware(t["due_at"]) or (triage.due_at if triage else None)
        outcome = bundle.get("outcome") or {}
        reasons = read_reasons(t["reasons"], model_versions=outcome.get("model_versions"))
        items.append(
            QueueItem(
                claim_id=cid,
                claimant=claimant,
                status=t["status"],
                star_tier=triage.star_tier if triage else 1,
                due_at=due,
                urgency=urgency(due, now),
                priority=t["priority"],
                reasons=reasons,
                codes=sorted({r.code for r in reasons if r.code and not r.detail}),
                fraud_band=fraud.band.value if fraud else None,
                fraud_score=fraud.score if fraud else None,
                amount=amount,
                locked_by=t["locked_by"],
                locked_at=_aware(t["locked_at"]),
                proposal=ReviewDecision.model_validate(t["decision"]) if t["decision"] else None,
                version=t["version"],
            )
        )
    codes = sorted({c for i in items for c in i.codes})
    f = filters or QueueFilters()
    return sorted((i for i in items if f.keep(i)), key=sort_key), codes

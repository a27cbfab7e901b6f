"""The claims a service report covers, one line each, read from the case store.

A claim is in a period when its latest final decision (pay or deny) was made in it: that is when it
closed. Each line carries what the indicators of `pipeline.indicators` need and nothing else: the
claim's clock (`claims.*_at`), its final route and amounts, what triage said of it (the `decision`
stage's bundle), whether a person ever decided or was asked to, its first request for documents, its
documents as read, its fraud flags and the claimant's rating (理赔服务打分, `intake_claims`). JSON
fields are read by path in the database, so a report over many claims loads no extraction whole.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.intake_tables import IntakeClaimRow
from pipeline.reasons import FRAUD_SUSPECTED, read_reasons
from pipeline.records import Complexity, Route, money
from pipeline.stages import Stage
from pipeline.store import (
    CaseStore,
    ClaimDocumentRow,
    ClaimRow,
    DecisionRow,
    StageResultRow,
    as_utc,
)

PAYING = (Route.FLASH_PAY, Route.AUTO_APPROVE)
FINAL = (*PAYING, Route.DENY)
FRAUD_FLAGS = (FRAUD_SUSPECTED, "FRAUD_SCORE_HIGH", "FRAUD_SCORE_MEDIUM")
"""A decision's reason codes that say the machine suspected fraud (a rule's or check's flag, the
model's band); reasons stored before they had sources read the same (`read_reasons`)."""
CHUNK = 500
"""Claims per query: well under any database's limit on bound parameters."""


class ClaimLine(BaseModel):
    """One closed claim as the service indicators read it."""

    claim_id: str
    product: str | None = None
    channel: str = ""
    incident_date: dt.date | None = None
    submitted_at: dt.datetime | None = None
    documents_complete_at: dt.datetime | None = None
    decided_at: dt.datetime
    paid_at: dt.datetime | None = None
    notice_at: dt.datetime | None = None
    route: Route
    payable: Decimal = Decimal("0.00")
    claimed: Decimal | None = None
    complexity: Complexity | None = None
    flash_pay_eligible: bool | None = None
    by_person: bool = False
    """A person decided it, or it was routed to one (an adjuster, a processing error, a reopen)."""
    first_request_at: dt.datetime | None = None
    """When it was first asked for documents (电子照会); None if never."""
    documents: int = 0
    documents_needing_person: int = 0
    fraud_alert: bool = False
    rating: int | None = None

    @property
    def paid(self) -> bool:
        """Its final decision pays something (获赔)."""
        return self.route in PAYING and self.payable > 0

    @property
    def closed_at(self) -> dt.datetime | None:
        """Paid, or notified of a decision that pays nothing; None while a payment is held."""
        return self.paid_at if self.paid else self.notice_at


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def closed_between(store: CaseStore, start: dt.datetime, end: dt.datetime) -> list[ClaimLine]:
    """Every claim whose latest final decision was made in [start, end), by decision time."""
    with store.session() as s:
        rows = s.execute(
            select(
                ClaimRow.claim_id,
                ClaimRow.record["channel"].as_string(),
                ClaimRow.record["incident_date"].as_string(),
                ClaimRow.record["amount_claimed"].as_string(),
                ClaimRow.submitted_at,
                ClaimRow.documents_complete_at,
                ClaimRow.decided_at,
                ClaimRow.paid_at,
                ClaimRow.notice_at,
            )
            .where(ClaimRow.decided_at >= as_utc(start), ClaimRow.decided_at < as_utc(end))
            .order_by(ClaimRow.decided_at, ClaimRow.claim_id)
        ).all()
        ids = [r[0] for r in rows]
        found: dict[str, dict[str, Any]] = defaultdict(dict)
        for chunk in _chunks(ids):
            _decisions(s, chunk, found)
            _triage(s, chunk, found)
            _facts(s, chunk, found)
            _documents(s, chunk, found)
            _ratings(s, chunk, found)
    lines = []
    for cid, channel, incident, amount, submitted, complete, decided, paid, notice in rows:
        extra = found[cid]
        if extra.get("route") not in FINAL:  # a decision recorded since the claim's row said closed
            continue
        lines.append(
            ClaimLine(
                claim_id=cid,
                channel=channel or "",
                incident_date=dt.date.fromisoformat(incident) if incident else None,
                submitted_at=as_utc(submitted),
                documents_complete_at=as_utc(complete),
                decided_at=as_utc(decided),
                paid_at=as_utc(paid),
                notice_at=as_utc(notice),
                claimed=extra.pop("claimed", None) or (money(amount) if amount else None),
                **extra,
            )
        )
    return lines


def _decisions(s: Session, ids: list[str], found: dict[str, dict[str, Any]]) -> None:
    """Final route and amount, whether a person took part, the first request, the fraud flags."""
    q = (
        select(
            DecisionRow.claim_id,
            DecisionRow.route,
            DecisionRow.payable,
            DecisionRow.decided_at,
            DecisionRow.decided_by,
            DecisionRow.record["reasons"],
        )
        .where(DecisionRow.claim_id.in_(ids))
        .order_by(DecisionRow.claim_id, DecisionRow.decision_version)
    )
    for cid, route, payable, decided_at, decided_by, reasons in s.execute(q):
        line = found[cid]
        line["route"], line["payable"] = Route(route), payable
        person = decided_by != "machine" or route in (Route.ADJUSTER, Route.ERROR)
        line["by_person"] = line.get("by_person", False) or person
        if route == Route.REQUEST_INFO and "first_request_at" not in line:
            line["first_request_at"] = as_utc(decided_at)
        flagged = any(r.code in FRAUD_FLAGS for r in read_reasons(reasons, route=route))
        line["fraud_alert"] = line.get("fraud_alert", False) or flagged


def _triage(s: Session, ids: list[str], found: dict[str, dict[str, Any]]) -> None:
    """What triage said of the claim at its last machine decision (the `decision` stage's bundle)."""
    q = select(
        StageResultRow.claim_id,
        StageResultRow.record[("triage", "complexity")].as_string(),
        StageResultRow.record[("triage", "flash_pay_eligible")].as_boolean(),
    ).where(
        StageResultRow.claim_id.in_(ids), StageResultRow.stage == Stage.DECISION, StageResultRow.key == ""
    )
    for cid, complexity, eligible in s.execute(q):
        if complexity:
            found[cid]["complexity"] = Complexity(complexity)
        found[cid]["flash_pay_eligible"] = eligible


def _facts(s: Session, ids: list[str], found: dict[str, dict[str, Any]]) -> None:
    """The product (the facts' policy, else the policy stage's) and the amount claimed on invoices."""
    q = select(
        StageResultRow.claim_id,
        StageResultRow.stage,
        StageResultRow.record["product_id"].as_string(),
        StageResultRow.record[("policy", "product_id")].as_string(),
        StageResultRow.record["invoices"],
    ).where(
        StageResultRow.claim_id.in_(ids),
        StageResultRow.stage.in_([Stage.FACTS, Stage.POLICY]),
        StageResultRow.key == "",
    )
    for cid, stage, policy_product, facts_product, invoices in s.execute(q):
        line = found[cid]
        if stage == Stage.POLICY:
            line.setdefault("product", policy_product)
            continue
        if facts_product:
            line["product"] = facts_product
        if invoices:
            line["claimed"] = money(sum(Decimal(str(i.get("total", "0"))) for i in invoices))


def _documents(s: Session, ids: list[str], found: dict[str, dict[str, Any]]) -> None:
    """Documents on the claim, and those a person had to read: flagged for review, or never read."""
    docs = s.execute(
        select(ClaimDocumentRow.claim_id, func.count())
        .where(ClaimDocumentRow.claim_id.in_(ids))
        .group_by(ClaimDocumentRow.claim_id)
    )
    for cid, n in docs:
        found[cid]["documents"] = n
    read: dict[str, int] = defaultdict(int)
    flagged: dict[str, int] = defaultdict(int)
    q = select(StageResultRow.claim_id, StageResultRow.record["needs_review"].as_boolean()).where(
        StageResultRow.claim_id.in_(ids), StageResultRow.stage == Stage.EXTRACT
    )
    for cid, needs_review in s.execute(q):
        read[cid] += 1
        flagged[cid] += bool(needs_review)
    for cid in ids:
        n = found[cid].get("documents", 0)
        found[cid]["documents_needing_person"] = flagged[cid] + max(0, n - read[cid])


def _ratings(s: Session, ids: list[str], found: dict[str, dict[str, Any]]) -> None:
    """The claimant's rating of the service (1 to 5), where the intake API recorded one."""
    q = select(IntakeClaimRow.claim_id, IntakeClaimRow.rating).where(
        IntakeClaimRow.claim_id.in_(ids), IntakeClaimRow.rating.is_not(None)
    )
    for cid, rating in s.execute(q):
        found[cid]["rating"] = rating

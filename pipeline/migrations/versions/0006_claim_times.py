"""claim times: submitted, documents complete, decided, paid, notified, kept on the claim's row

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-14

The claimant's clock (理赔服务时效) as columns of `claims`, so a report over a period reads them
instead of guessing from the batch's wall time: `submitted_at` (the record's), `documents_complete_at`
(receipt, or the answer to a request for documents), `decided_at` (the latest final decision),
`paid_at` (the latest payment instruction) and `notice_at` (the final decision's notice). Claims
already in the store get them from what it holds: their record, the `resumed` and `review_applied`
audit events, the decisions and the ledger.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = ("submitted_at", "documents_complete_at", "decided_at", "paid_at", "notice_at")
FINAL = ("flash_pay", "auto_approve", "deny")


def upgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_claims_decided_at"), ["decided_at"], unique=False)
    _fill()


def _when(value: Any) -> dt.datetime | None:
    """A stored time in UTC (SQLite hands back text without a zone: UTC; a record's time has one)."""
    if value is None or value == "":
        return None
    t = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return t.astimezone(dt.UTC) if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _latest_events(conn: sa.Connection, action: str) -> dict[str, dt.datetime]:
    rows = conn.execute(
        sa.text("select claim_id, max(at) from audit_events where action = :a group by claim_id"),
        {"a": action},
    ).all()
    return {c: t for c, at in rows if c is not None and (t := _when(at)) is not None}


def _fill() -> None:
    conn = op.get_bind()
    latest: dict[str, tuple[str, dt.datetime | None, str]] = {}
    for claim_id, route, decided_at, decided_by in conn.execute(
        sa.text(
            "select claim_id, route, decided_at, decided_by from decisions"
            " order by claim_id, decision_version"
        )
    ):
        latest[claim_id] = (route, _when(decided_at), decided_by)
    resumed = _latest_events(conn, "resumed")
    applied = _latest_events(conn, "review_applied")
    paid = {
        c: t
        for c, at in conn.execute(sa.text("select claim_id, max(created_at) from payments group by claim_id"))
        if (t := _when(at)) is not None
    }
    update = sa.text(
        "update claims set submitted_at = :submitted_at, documents_complete_at = :documents_complete_at,"
        " decided_at = :decided_at, paid_at = :paid_at, notice_at = :notice_at where claim_id = :claim_id"
    ).bindparams(*(sa.bindparam(name, type_=sa.DateTime(timezone=True)) for name in COLUMNS))
    claims = conn.execute(sa.text("select claim_id, record, created_at from claims")).all()
    for claim_id, record, created_at in claims:
        rec = json.loads(record) if isinstance(record, str) else dict(record or {})
        route, decided_at, decided_by = latest.get(claim_id, ("", None, ""))
        final = route in FINAL
        notice_at = None
        if final:
            notice_at = applied.get(claim_id, decided_at) if decided_by.startswith("review:") else decided_at
        conn.execute(
            update,
            {
                "claim_id": claim_id,
                "submitted_at": _when(rec.get("submitted_at")),
                "documents_complete_at": None
                if route == "request_info"
                else resumed.get(claim_id, _when(created_at)),
                "decided_at": decided_at if final else None,
                "paid_at": paid.get(claim_id),
                "notice_at": notice_at,
            },
        )


def downgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_decided_at"))
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)

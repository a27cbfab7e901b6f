"""money exactly once: payment exports, a decision per payment, the decision a review task follows

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

- `payment_exports`: one row per payment file; every instruction (`payments.export_id`) is in exactly
  one. Instructions made before this revision were written to the old per-batch files (an
  adjuster's approvals were not): they are filed under one legacy export that cannot be rewritten,
  and `claims payments reconcile` lists it.
- `payments.decision_version` (unique per claim: a decision pays at most one instruction) and
  `payments.issued_by`, filled from the instruction's own record.
- `decisions.decided_by`: the runner (`machine`), an adjuster (`review:<user>`) or a reopen.
- `review_tasks.decision_version`: the decision that routed the claim to a person, so an adjuster's
  decision is recorded after exactly that one and a re-run never reopens a decided task.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LEGACY_SOURCE = "before 0005: the per-batch payment files"


def _record(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def upgrade() -> None:
    op.create_table(
        "payment_exports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("csv_sha256", sa.String(length=64), nullable=True),
        sa.Column("json_sha256", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("decided_by", sa.String(length=96), nullable=False, server_default="machine")
        )
    with op.batch_alter_table("review_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_version", sa.Integer(), nullable=True))
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("issued_by", sa.String(length=128), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("export_id", sa.Integer(), nullable=True))
    _fill()
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.alter_column("decision_version", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f("ix_payments_export_id"), ["export_id"], unique=False)
        batch_op.create_unique_constraint("uq_payment_decision", ["claim_id", "decision_version"])
        batch_op.create_foreign_key("fk_payments_export_id", "payment_exports", ["export_id"], ["id"])


def _fill() -> None:
    conn = op.get_bind()
    decisions = conn.execute(
        sa.text(
            "select claim_id, decision_version, route, record from decisions"
            " order by claim_id, decision_version"
        )
    ).all()
    routed: dict[str, int] = {}
    for claim_id, version, route, record in decisions:
        reviewer = _record(record).get("model_versions", {}).get("review")
        if reviewer:
            conn.execute(
                sa.text(
                    "update decisions set decided_by = :by where claim_id = :c and decision_version = :v"
                ),
                {"by": f"review:{reviewer}", "c": claim_id, "v": version},
            )
        if route in ("adjuster", "error") or claim_id not in routed:
            routed[claim_id] = version
    for claim_id, version in routed.items():
        conn.execute(
            sa.text("update review_tasks set decision_version = :v where claim_id = :c"),
            {"v": version, "c": claim_id},
        )
    payments = conn.execute(sa.text("select id, amount, record from payments")).all()
    if not payments:
        return
    total = sum((Decimal(str(a)) for _, a, _ in payments), Decimal(0))
    export_id = conn.execute(
        sa.text(
            "insert into payment_exports (source, created_at, count, total)"
            " values (:s, :at, :n, :t) returning id"
        ).bindparams(
            sa.bindparam("at", type_=sa.DateTime(timezone=True)),
            sa.bindparam("t", type_=sa.Numeric(16, 2)),
        ),
        {"s": LEGACY_SOURCE, "at": dt.datetime.now(dt.UTC), "n": len(payments), "t": total},
    ).scalar_one()
    for pid, _, record in payments:
        version = int(str(_record(record).get("decision_version") or "1"))
        conn.execute(
            sa.text(
                "update payments set decision_version = :v, issued_by = :by, export_id = :e where id = :id"
            ),
            {"v": version, "by": LEGACY_SOURCE, "e": export_id, "id": pid},
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint("fk_payments_export_id", type_="foreignkey")
        batch_op.drop_constraint("uq_payment_decision", type_="unique")
        batch_op.drop_index(batch_op.f("ix_payments_export_id"))
        batch_op.drop_column("export_id")
        batch_op.drop_column("issued_by")
        batch_op.drop_column("decision_version")
    with op.batch_alter_table("review_tasks", schema=None) as batch_op:
        batch_op.drop_column("decision_version")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("decided_by")
    op.drop_table("payment_exports")

"""claim keys: the index that finds duplicate invoices and shared payee accounts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

What each claim is recognised by (invoice code+number, hospital+date+amount, payee account, policy),
stored as digests, so adjudication can ask which other claims carried the same invoice or account.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claim_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("claimant", sa.String(length=128), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("claim_id", "kind", "key", name="uq_claim_key"),
    )
    with op.batch_alter_table("claim_keys", schema=None) as batch_op:
        batch_op.create_index("ix_claim_keys_kind_key", ["kind", "key"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_keys_claim_id"), ["claim_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("claim_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_keys_claim_id"))
        batch_op.drop_index("ix_claim_keys_kind_key")
    op.drop_table("claim_keys")

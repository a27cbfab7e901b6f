"""intake API: channel keys, idempotent uploads, document requests, ratings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

The intake API's tables (models in `pipeline/intake_tables.py`): API keys per channel kept as
SHA-256 digests, the claims that came through the API with their owner, queue state and rating
(理赔服务打分), the clients' idempotency keys with the answer given, and requests for documents
(电子照会).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_api_keys",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("owner", sa.String(length=160), nullable=False),
        sa.Column("rate_per_minute", sa.Float(), nullable=True),
        sa.Column("burst", sa.Integer(), nullable=True),
        sa.Column("settlement_bank", sa.String(length=128), nullable=True),
        sa.Column("settlement_account", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id"),
    )
    with op.batch_alter_table("intake_api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_api_keys_channel"), ["channel"], unique=False)
        batch_op.create_index(batch_op.f("ix_intake_api_keys_owner"), ["owner"], unique=False)

    op.create_table(
        "intake_claims",
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=160), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("structured", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("claim_id"),
    )
    with op.batch_alter_table("intake_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_claims_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_intake_claims_status"), ["status"], unique=False)

    op.create_table(
        "intake_idempotency",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(length=160), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("claim_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner", "idempotency_key", name="uq_intake_idempotency"),
    )

    op.create_table(
        "intake_document_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("decision_version", sa.Integer(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("claim_id", "decision_version", name="uq_intake_doc_request"),
    )
    with op.batch_alter_table("intake_document_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_document_requests_claim_id"), ["claim_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("intake_document_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_document_requests_claim_id"))
    op.drop_table("intake_document_requests")
    op.drop_table("intake_idempotency")
    with op.batch_alter_table("intake_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_claims_status"))
        batch_op.drop_index(batch_op.f("ix_intake_claims_owner"))
    op.drop_table("intake_claims")
    with op.batch_alter_table("intake_api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_api_keys_owner"))
        batch_op.drop_index(batch_op.f("ix_intake_api_keys_channel"))
    op.drop_table("intake_api_keys")

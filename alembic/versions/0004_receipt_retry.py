"""receipt_retry: accepted receipts whose vendor message id is not stored yet

Revision ID: 0004_receipt_retry
Revises: 0003_skip_reason
Create Date: 2026-11-30 01:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004_receipt_retry"
down_revision: str | None = "0003_skip_reason"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "receipt_retry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_message_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("at", sa.String(length=40), nullable=True),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_receipt_retry_due_at", "receipt_retry", ["due_at"], unique=False)


def downgrade() -> None:
    op.drop_table("receipt_retry")

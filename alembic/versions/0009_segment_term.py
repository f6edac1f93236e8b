"""segment_term: marketers' definitions of vocabulary words used by plain English;
ix_customer_updated_at for the parser's incremental data vocabulary

Revision ID: 0009_segment_term
Revises: 0008_campaign_ab_test
Create Date: 2026-11-30 04:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0009_segment_term"
down_revision: str | None = "0008_campaign_ab_test"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "segment_term",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_customer_updated_at", "customer", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_customer_updated_at", table_name="customer")
    op.drop_table("segment_term")

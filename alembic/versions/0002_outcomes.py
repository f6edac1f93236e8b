"""outcomes: conversion table, campaign.holdout_percent, communication_log.variant

Revision ID: 0002_outcomes
Revises: 0001
Create Date: 2026-11-30 01:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002_outcomes"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch_op:
        batch_op.add_column(sa.Column("holdout_percent", sa.Integer(), nullable=False,
                                      server_default="0"))
    with op.batch_alter_table("communication_log") as batch_op:
        batch_op.add_column(sa.Column("variant", sa.String(length=8), nullable=True))
    op.create_table(
        "conversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("log_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("ordered_at", TIMESTAMP, nullable=False),
        sa.Column("attributed_at", TIMESTAMP, nullable=False),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.Column("variant", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"]),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.ForeignKeyConstraint(["log_id"], ["communication_log.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id"),
    )
    with op.batch_alter_table("conversion") as batch_op:
        batch_op.create_index("ix_conversion_campaign", ["campaign_id", "holdout"])
        batch_op.create_index("ix_conversion_log", ["log_id"])
        batch_op.create_index("ix_conversion_ordered_at", ["ordered_at"])


def downgrade() -> None:
    op.drop_table("conversion")
    with op.batch_alter_table("communication_log") as batch_op:
        batch_op.drop_column("variant")
    with op.batch_alter_table("campaign") as batch_op:
        batch_op.drop_column("holdout_percent")

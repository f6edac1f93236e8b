"""campaign A/B test: variants, test settings, phase, winner

Revision ID: 0008_campaign_ab_test
Revises: 0007_import_job
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008_campaign_ab_test"
down_revision: str | None = "0007_import_job"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    stamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mariadb") \
        .with_variant(mysql.DATETIME(fsp=6), "mysql")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("variants", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("ab_test", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("ab_phase", text(length=16), nullable=True))
        batch_op.add_column(sa.Column("ab_decide_at", stamp, nullable=True))
        batch_op.add_column(sa.Column("winner", text(length=8), nullable=True))
        batch_op.add_column(sa.Column("winner_detail", sa.JSON(), nullable=True))
        batch_op.create_index("ix_campaign_ab_phase", ["ab_phase", "ab_decide_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_ab_phase")
        batch_op.drop_column("winner_detail")
        batch_op.drop_column("winner")
        batch_op.drop_column("ab_decide_at")
        batch_op.drop_column("ab_phase")
        batch_op.drop_column("ab_test")
        batch_op.drop_column("variants")

"""campaign email fields: subject line, preheader and sender name

Revision ID: 0006_campaign_email
Revises: 0005_campaign_drafts
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006_campaign_email"
down_revision: str | None = "0005_campaign_drafts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_subject", text(length=300), nullable=True))
        batch_op.add_column(sa.Column("email_preheader", text(length=300), nullable=True))
        batch_op.add_column(sa.Column("sender_name", text(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("sender_name")
        batch_op.drop_column("email_preheader")
        batch_op.drop_column("email_subject")

"""campaign drafts: the wizard step a draft was left on

Revision ID: 0005_campaign_drafts
Revises: 0004_receipt_retry
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_campaign_drafts"
down_revision: str | None = "0004_receipt_retry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_step", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("draft_step")

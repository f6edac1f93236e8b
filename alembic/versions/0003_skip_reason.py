"""communication_log.skip_reason: why a launch left a matching customer out

Skipped customers are kept in the log (status `skipped`) with one of
unsubscribed | suppressed | no_address | duplicate_address | frequency_cap.

Revision ID: 0003_skip_reason
Revises: 0002_consent
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_skip_reason"
down_revision: str | None = "0002_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("communication_log") as batch:
        batch.add_column(sa.Column("skip_reason", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("communication_log") as batch:
        batch.drop_column("skip_reason")

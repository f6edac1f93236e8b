"""Orders with status canceled, voided, failed or returned stop counting, like
cancelled and refunded (models.OrderStatus.NOT_COUNTED): recount their customers and
drop their conversions

Revision ID: 0011_more_uncounted_statuses
Revises: 0010_phone_type
Create Date: 2026-11-30 08:45:00

Set-based: one UPDATE recounting total_spend, order_count and first/last order for the
customers holding such an order (the same aggregates as ingestion.upsert.recompute_stats),
one DELETE of their conversions. Downgrade recounts them back the old way.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_more_uncounted_statuses"
down_revision: str | None = "0010_phone_type"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("cancelled", "refunded")
ADDED = ("canceled", "voided", "failed", "returned")

ORDER = sa.table("order", sa.column("id", sa.Integer), sa.column("customer_id", sa.Integer),
                 sa.column("amount", sa.Numeric(14, 2)), sa.column("status", sa.String),
                 sa.column("ordered_at", sa.DateTime))
CUSTOMER = sa.table("customer", sa.column("id", sa.Integer),
                    sa.column("total_spend", sa.Numeric(14, 2)),
                    sa.column("order_count", sa.Integer),
                    sa.column("first_order_at", sa.DateTime),
                    sa.column("last_order_at", sa.DateTime))
CONVERSION = sa.table("conversion", sa.column("order_id", sa.Integer))


def _recount(not_counted: tuple[str, ...]) -> None:
    counted = sa.and_(ORDER.c.customer_id == CUSTOMER.c.id, ORDER.c.status.not_in(not_counted))

    def agg(expr: sa.ColumnElement) -> sa.ScalarSelect:
        return sa.select(expr).where(counted).scalar_subquery()

    # The affected customers first, then UPDATEs over id batches: each statement stays
    # small, and only customers holding such an order are touched.
    ids = [r[0] for r in op.get_bind().execute(
        sa.select(ORDER.c.customer_id).where(ORDER.c.status.in_(ADDED)).distinct())]
    for start in range(0, len(ids), 5000):
        op.get_bind().execute(CUSTOMER.update().where(
            CUSTOMER.c.id.in_(ids[start:start + 5000])).values(
            total_spend=agg(sa.func.coalesce(sa.func.sum(ORDER.c.amount), 0)),
            order_count=agg(sa.func.count()),
            first_order_at=agg(sa.func.min(ORDER.c.ordered_at)),
            last_order_at=agg(sa.func.max(ORDER.c.ordered_at))))


def upgrade() -> None:
    _recount(OLD + ADDED)
    op.get_bind().execute(CONVERSION.delete().where(CONVERSION.c.order_id.in_(
        sa.select(ORDER.c.id).where(ORDER.c.status.in_(ADDED)))))


def downgrade() -> None:
    _recount(OLD)  # their conversions come back as orders are next upserted

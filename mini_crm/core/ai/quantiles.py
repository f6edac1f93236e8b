"""Thresholds for shares of the customer base ("top 10% by spend"), from today's data.

`threshold(db, "total_spend", "top", 10)` is the spend of the ceil(N × 10 / 100)-th
customer counted from the top, N being every customer with a value: one
`ORDER BY col DESC LIMIT 1 OFFSET k-1` on an indexed column (ix_customer_total_spend,
ix_customer_order_count), portable to SQLite, PostgreSQL and MariaDB (none of them
shares one PERCENTILE_* syntax). The rule is then `col >= threshold` (top) or
`col <= threshold` (bottom): ties at the threshold are all in, so the audience can be
a little larger than the share, never smaller.
"""

from __future__ import annotations

import math
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from mini_crm.models import Customer

COLUMNS = {"total_spend": Customer.total_spend, "order_count": Customer.order_count}


def threshold(db: Session, field: str, side: str, percent: float) -> float | None:
    """The value at the edge of the top/bottom `percent` % of customers by `field`.

    None when the field cannot be ranked (not a column) or there are no customers.
    Raises ValueError for a side other than "top"/"bottom" or a share outside (0, 100).
    """
    if side not in ("top", "bottom") or not 0 < percent < 100:
        raise ValueError(f"a share is top or bottom 0–100%, not {side} {percent}%")
    col = COLUMNS.get(field)
    if col is None:
        return None
    n = db.exec(select(func.count()).select_from(Customer).where(col.is_not(None))).one()
    if not n:
        return None
    k = max(1, math.ceil(n * percent / 100))
    order = col.desc() if side == "top" else col.asc()
    value = db.exec(select(col).where(col.is_not(None)).order_by(order)
                    .offset(k - 1).limit(1)).one()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value

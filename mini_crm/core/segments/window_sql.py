"""Windowed order rules → one correlated EXISTS over the customer's orders, grouped.

`window_order_count > 3` over a period becomes

    EXISTS (SELECT 1 FROM (SELECT customer_id FROM "order"
                           WHERE ordered_at >= :start AND ordered_at < :end
                             AND status NOT IN ('cancelled', 'refunded') [AND items match]
                           GROUP BY customer_id HAVING count(*) > :n) AS w
            WHERE w.customer_id = customer.id)

A customer with no counted order in the period has count 0 and spend 0, never a
missing value. When the comparison holds at 0 (`= 0`, `< 3`, `!= 5`, `not_in [1, 2]`)
the rule is compiled as NOT EXISTS of the customers for whom it does *not* hold, so
customers without any order in the period (or without any order at all) are found
without enumerating them. PostgreSQL plans both as a hash semi/anti join over the
orders in the window (index ix_order_ordered_at), MariaDB as a materialised semi-join,
SQLite as a materialised subquery with an automatic index. "Ordered at all" (> 0) and
"not at all" (= 0) are a plain correlated EXISTS / NOT EXISTS instead.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from mini_crm.core.segments import sqlfuncs
from mini_crm.core.segments.schema import Condition
from mini_crm.core.segments.sqlfuncs import compare, num
from mini_crm.models import Customer, Order, OrderStatus

ORDER = Order.__table__


def holds(op: str, value: Any, x: Decimal) -> bool:
    """The comparison `x <op> value` in Python (used for x = 0, and by the reference)."""
    if op == "between":
        return value[0] <= x <= value[1]
    if op in ("in", "not_in"):
        return (x in value) == (op == "in")
    return {"=": x == value, "!=": x != value, "<": x < value, "<=": x <= value,
            ">": x > value, ">=": x >= value}[op]


def compile_window(c: Condition, now: datetime) -> ColumnElement[bool]:
    """The windowed rule as EXISTS / NOT EXISTS over grouped orders (see module doc)."""
    assert c.window is not None
    start, end = c.window.bounds(now)
    where = [ORDER.c.ordered_at >= start, ORDER.c.ordered_at < end,
             ORDER.c.status.not_in(OrderStatus.NOT_COUNTED)]
    if c.items_match is not None:
        where.append(sqlfuncs.items_have(ORDER.c["items"], c.items_match.key,
                                         c.items_match.value.lower()))
    if c.field == "window_order_count" and _any_order(c.operator, c.value) is not None:
        # "ordered at all in the window" (> 0, >= 1) or "not at all" (= 0, < 1, <= 0): a
        # plain correlated EXISTS, no grouping, as one would write it by hand.
        exists = sa.exists().where(ORDER.c.customer_id == Customer.id, *where)
        return exists if _any_order(c.operator, c.value) else sa.not_(exists)
    total = sa.func.count() if c.field == "window_order_count" else sa.func.sum(ORDER.c.amount)
    condition = compare(total, c.operator, num(c.value))
    at_zero = holds(c.operator, c.value, Decimal(0))
    grouped = (sa.select(ORDER.c.customer_id).where(*where).group_by(ORDER.c.customer_id)
               .having(sa.not_(condition) if at_zero else condition)
               .subquery("w"))
    found = sa.exists().where(grouped.c.customer_id == Customer.id)
    return sa.not_(found) if at_zero else found


def _any_order(op: str, value: object) -> bool | None:
    """True for "at least one order", False for "no order", None for other counts."""
    if (op, value) in ((">", 0), (">=", 1)):
        return True
    if (op, value) in (("=", 0), ("<", 1), ("<=", 0)):
        return False
    return None

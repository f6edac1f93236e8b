"""A plain-Python evaluator of parsed rules: the meaning the SQL compiler must match.

It is written from the compiler's documented semantics, independently of SQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mini_crm.core.segments.schema import Condition, Group


def days_since(value: datetime | None, now: datetime) -> int | None:
    if value is None:
        return None
    return (now - value) // timedelta(days=1)


def field_value(c: dict[str, Any], name: str, now: datetime) -> Any:
    if name == "avg_order_value":
        if not c["order_count"]:
            return None
        return (Decimal(str(c["total_spend"])) / c["order_count"]).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP)
    if name.startswith("days_since_"):
        col = {"days_since_last_order": "last_order_at", "days_since_first_order":
               "first_order_at", "days_since_signup": "created_at"}[name]
        return days_since(c[col], now)
    return c[name]


def matches(group: Group, customer: dict[str, Any], now: datetime) -> bool:
    results = [(_node(n, customer, now)) for n in group.rules]
    value = all(results) if group.combinator == "and" else any(results)
    return not value if group.negate else value


def _node(n: Condition | Group, customer: dict[str, Any], now: datetime) -> bool:
    return matches(n, customer, now) if isinstance(n, Group) else _condition(n, customer, now)


def _attribute(c: Condition, attrs: dict[str, Any]) -> Any:
    key = c.field.split(".", 1)[1]
    if c.operator in ("is_null", "is_not_null"):
        return attrs.get(key)
    raw = attrs.get(key)
    if c.value_type == "bool":
        return raw if isinstance(raw, bool) else None
    if c.value_type == "number":
        return raw if isinstance(raw, int | float) and not isinstance(raw, bool) else None
    return raw if isinstance(raw, str) else None


def _condition(c: Condition, customer: dict[str, Any], now: datetime) -> bool:
    if c.kind == "attribute":
        value = _attribute(c, customer["attributes"])
    else:
        value = field_value(customer, c.field, now)
    if c.operator == "is_null":
        return value is None
    if c.operator == "is_not_null":
        return value is not None
    if value is None:
        return False
    op, v = c.operator, c.value
    if c.kind == "date":
        value = datetime(value.year, value.month, value.day)  # compare by calendar day
    if c.value_type == "text":
        value = value.lower()
        v = tuple(x.lower() for x in v) if isinstance(v, tuple) else v.lower()
    elif c.value_type == "number":
        value = Decimal(str(value))
        v = tuple(Decimal(str(x)) for x in v) if isinstance(v, tuple) else Decimal(str(v))
    elif c.value_type == "bool":
        value, v = int(value), int(v)
    return {
        "=": lambda: value == v, "!=": lambda: value != v, "<": lambda: value < v,
        "<=": lambda: value <= v, ">": lambda: value > v, ">=": lambda: value >= v,
        "between": lambda: v[0] <= value <= v[1], "in": lambda: value in v,
        "not_in": lambda: value not in v, "contains": lambda: v in value,
        "not_contains": lambda: v not in value, "starts_with": lambda: value.startswith(v),
        "ends_with": lambda: value.endswith(v),
    }[op]()

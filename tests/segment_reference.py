"""A plain-Python evaluator of parsed rules: the meaning the SQL compiler must match.

It is written from the documented semantics (DESIGN.md "Rules", docs/segments.md),
independently of SQL:

- an attribute compared with a number reads a JSON number, or a JSON string that plainly
  means one (`core.numbers.numeric_text`: "12", "-3.5"; not "0400" or "1,200");
- an attribute `in` a list of labels some of which look like numbers (["A1", "12"])
  matches a stored text equal to a label, or a stored number (or number-like text)
  equal to a number-like label: "12" finds "12" and 12, as `in ["12"]` does;
- a value is *missing* when it is None or, for text, only spaces;
- a positive operator never matches a missing value; `!=`, `not_in` and `not_contains`
  are NOT of `=`, `in` and `contains`, so they do; NOT over a group is plain negation;
- date rules compare the brand-calendar day of a timestamp (BRAND_TIMEZONE);
- window fields count / sum a customer's orders (dicts under "orders") that are not
  cancelled or refunded, placed within the window's brand days, optionally with an item
  whose key holds the text (case-insensitively).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mini_crm.core import brand_time
from mini_crm.core.numbers import numeric_text
from mini_crm.core.segments.fields import NEGATIVE
from mini_crm.core.segments.schema import Condition, Group
from mini_crm.models import OrderStatus


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
    raw = attrs.get(key)
    if c.operator in ("is_null", "is_not_null"):
        return raw
    if c.value_type == "bool":
        return raw if isinstance(raw, bool) else None
    if c.value_type == "number":
        # a JSON number, or a text that plainly means one ("12", not "0400")
        if isinstance(raw, str):
            return numeric_text(raw)
        return raw if isinstance(raw, int | float) and not isinstance(raw, bool) else None
    return raw if isinstance(raw, str) else None


def window_value(c: Condition, customer: dict[str, Any], now: datetime) -> Decimal:
    assert c.window is not None
    first, last = c.window.days(now)
    total = Decimal(0)
    for order in customer.get("orders", []):
        if order["status"] in OrderStatus.NOT_COUNTED:
            continue
        if not first <= brand_time.local_date(order["ordered_at"]) <= last:
            continue
        if c.items_match is not None and not _has_item(order.get("items"), c.items_match.key,
                                                       c.items_match.value):
            continue
        total += 1 if c.field == "window_order_count" else Decimal(str(order["amount"]))
    return total


def _has_item(items: Any, key: str, value: str) -> bool:
    if not isinstance(items, list):
        return False
    return any(isinstance(item, dict) and isinstance(item.get(key), str)
               and item[key].lower() == value.lower() for item in items)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip(" ") == "")


def _label_member(c: Condition, attrs: dict[str, Any]) -> bool:
    """`in` a list of labels some of which look like numbers ("A1", "12"): the stored
    text is one of the labels, or the stored number (or number-like text) is one of
    the number-like labels."""
    raw = attrs.get(c.field.split(".", 1)[1])
    if isinstance(raw, str) and raw.lower() in {v.lower() for v in c.value}:
        return True
    if isinstance(raw, str):
        number = numeric_text(raw)
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        number = Decimal(str(raw))
    else:
        number = None
    return number is not None and number in {numeric_text(v.strip()) for v in c.value}


def _condition(c: Condition, customer: dict[str, Any], now: datetime) -> bool:
    if c.kind == "attribute" and c.value_type == "text" and c.operator in ("in", "not_in") \
            and any(numeric_text(v.strip()) is not None for v in c.value):
        member = _label_member(c, customer["attributes"])
        return member if c.operator == "in" else not member
    if c.kind == "window":
        value: Any = window_value(c, customer, now)
    elif c.kind == "attribute":
        value = _attribute(c, customer["attributes"])
    else:
        value = field_value(customer, c.field, now)
    if c.operator == "is_null":
        return _missing(value)
    if c.operator == "is_not_null":
        return not _missing(value)
    if c.operator in NEGATIVE:
        return not _positive(c, NEGATIVE[c.operator], value)
    return _positive(c, c.operator, value)


def _positive(c: Condition, op: str, value: Any) -> bool:
    if _missing(value):
        return False
    v = c.value
    if c.kind == "date":
        value = brand_time.local_date(value)  # compare by brand-calendar day
    if c.value_type == "text":
        value = value.lower()
        v = tuple(x.lower() for x in v) if isinstance(v, tuple) else v.lower()
    elif c.value_type == "number":
        value = Decimal(str(value))
        v = tuple(Decimal(str(x)) for x in v) if isinstance(v, tuple) else Decimal(str(v))
    elif c.value_type == "bool":
        value, v = int(value), int(v)
    return {
        "=": lambda: value == v, "<": lambda: value < v,
        "<=": lambda: value <= v, ">": lambda: value > v, ">=": lambda: value >= v,
        "between": lambda: v[0] <= value <= v[1], "in": lambda: value in v,
        "contains": lambda: v in value,
        "starts_with": lambda: value.startswith(v), "ends_with": lambda: value.endswith(v),
    }[op]()

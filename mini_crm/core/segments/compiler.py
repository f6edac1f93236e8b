"""Rules → one parameterised SQLAlchemy condition over `customer`.

Semantics (mirrored exactly by the reference evaluator in the tests):
- every condition is two-valued: a rule on a NULL value (no orders yet, no city,
  a missing attribute) is simply false, so `NOT` of it is true; `is_null` finds them.
  SQL's NULL already acts as false outside a NOT, so the `IS NOT NULL` guard that
  makes this exact is only emitted under an odd number of NOTs (it would otherwise
  cost the planner its index choices for nothing);
- `days_since_X` is the whole days elapsed between X and the query's single `now`;
  it compiles to a range on X itself, so the column's index is used;
- dates compare by calendar day (UTC);
- text compares case-insensitively (Unicode lower-case), LIKE wildcards in values
  are literal;
- avg_order_value is total_spend / order_count rounded to 2 decimals (NULL without orders);
- an empty AND group matches everyone, an empty OR group matches no one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from mini_crm.core.segments import sqlfuncs
from mini_crm.core.segments.fields import ATTRIBUTE_PREFIX
from mini_crm.core.segments.schema import Condition, Group
from mini_crm.models import Customer

LIKE_ESCAPE = "!"
DAY = timedelta(days=1)

_DATE_COLUMNS = {
    "last_order_at": Customer.last_order_at,
    "first_order_at": Customer.first_order_at,
    "created_at": Customer.created_at,
}
_DAYS_COLUMNS = {
    "days_since_last_order": Customer.last_order_at,
    "days_since_first_order": Customer.first_order_at,
    "days_since_signup": Customer.created_at,
}
_TEXT_COLUMNS = {"city": Customer.city, "email": Customer.email, "name": Customer.name,
                 "phone": Customer.phone}


def compile_group(group: Group, now: datetime, negated: bool = False) -> ColumnElement[bool]:
    inner_negated = negated != group.negate
    parts = [compile_node(node, now, inner_negated) for node in group.rules]
    if not parts:
        expr: ColumnElement[bool] = sa.true() if group.combinator == "and" else sa.false()
    elif len(parts) == 1:
        expr = parts[0]
    else:
        expr = sa.and_(*parts) if group.combinator == "and" else sa.or_(*parts)
    return sa.not_(expr) if group.negate else expr


def compile_node(node: Condition | Group, now: datetime, negated: bool = False
                 ) -> ColumnElement[bool]:
    if isinstance(node, Group):
        return compile_group(node, now, negated)
    return compile_condition(node, now, negated)


def compile_condition(c: Condition, now: datetime, negated: bool = False
                      ) -> ColumnElement[bool]:
    if c.kind == "days":
        return _guarded(_DAYS_COLUMNS[c.field], c, negated, lambda col: _days(col, c, now))
    if c.kind == "date":
        return _guarded(_DATE_COLUMNS[c.field], c, negated, lambda col: _dates(col, c))
    if c.kind == "text":
        return _guarded(_TEXT_COLUMNS[c.field], c, negated, lambda col: _text(col, c))
    if c.kind == "number":
        return _number(c)
    return _attribute(c, negated)


def _number(c: Condition) -> ColumnElement[bool]:
    # total_spend and order_count are NOT NULL; avg is NULL exactly when order_count = 0.
    has_orders = Customer.order_count > 0
    if c.field == "avg_order_value":
        if c.operator in ("is_null", "is_not_null"):
            return has_orders if c.operator == "is_not_null" else Customer.order_count == 0
        ratio = sa.func.round(Customer.total_spend * sa.literal(Decimal("1.0"))
                              / Customer.order_count, 2)
        return sa.and_(has_orders, _compare(ratio, c.operator, _num(c.value)))
    column = {"total_spend": Customer.total_spend, "order_count": Customer.order_count}[c.field]
    if c.operator in ("is_null", "is_not_null"):
        return sa.false() if c.operator == "is_null" else sa.true()
    return _compare(column, c.operator, _num(c.value))


def _guarded(column: Any, c: Condition, negated: bool, build: Any) -> ColumnElement[bool]:
    if c.operator == "is_null":
        return column.is_(None)
    if c.operator == "is_not_null":
        return column.is_not(None)
    if not negated:
        return build(column)
    # Under NOT, SQL's NULL would stay unknown; the guard makes it plainly false first.
    return sa.and_(column.is_not(None), build(column))


def _num(value: Any) -> Any:
    # Whole numbers bind as integers: an integer column compared with a NUMERIC
    # parameter is cast per row on PostgreSQL, and its index goes unused.
    if isinstance(value, tuple):
        return tuple(_num(v) for v in value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else Decimal(str(value))
    return value


def _compare(col: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "between":
        return sa.and_(col >= value[0], col <= value[1])
    if op == "in":
        return col.in_(list(value))
    if op == "not_in":
        return col.not_in(list(value))
    return {"=": col.__eq__, "!=": col.__ne__, "<": col.__lt__, "<=": col.__le__,
            ">": col.__gt__, ">=": col.__ge__}[op](value)


def _days(col: Any, c: Condition, now: datetime) -> ColumnElement[bool]:
    # days_since(x) >= n  <=>  x <= now - n days ; the other operators follow.
    def at_least(n: int) -> ColumnElement[bool]:
        return col <= now - n * DAY

    def below(n: int) -> ColumnElement[bool]:
        return col > now - n * DAY

    op, v = c.operator, c.value
    if op == "between":
        return sa.and_(at_least(v[0]), below(v[1] + 1))
    return {
        ">=": lambda: at_least(v), ">": lambda: at_least(v + 1),
        "<": lambda: below(v), "<=": lambda: below(v + 1),
        "=": lambda: sa.and_(at_least(v), below(v + 1)),
        "!=": lambda: sa.or_(below(v), at_least(v + 1)),
    }[op]()


def _dates(col: Any, c: Condition) -> ColumnElement[bool]:
    op, v = c.operator, c.value
    if op == "between":
        return sa.and_(col >= v[0], col < v[1] + DAY)
    return {
        "=": lambda: sa.and_(col >= v, col < v + DAY),
        "!=": lambda: sa.or_(col < v, col >= v + DAY),
        "<": lambda: col < v, "<=": lambda: col < v + DAY,
        ">": lambda: col >= v + DAY, ">=": lambda: col >= v,
    }[op]()


def like_pattern(text: str, *, prefix: bool, suffix: bool) -> str:
    escaped = (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
               .replace("_", LIKE_ESCAPE + "_"))
    return ("%" if prefix else "") + escaped + ("%" if suffix else "")


def _text(col: Any, c: Condition) -> ColumnElement[bool]:
    folded = sqlfuncs.casefold(col)
    op, v = c.operator, c.value
    if op in ("in", "not_in"):
        values = [str(x).lower() for x in v]
        return folded.in_(values) if op == "in" else folded.not_in(values)
    value = str(v).lower()
    if op == "=":
        return folded == value
    if op == "!=":
        return folded != value
    pattern = like_pattern(value, prefix=op in ("contains", "not_contains", "ends_with"),
                           suffix=op in ("contains", "not_contains", "starts_with"))
    match = folded.like(pattern, escape=LIKE_ESCAPE)
    return sa.not_(match) if op == "not_contains" else match


def _attribute(c: Condition, negated: bool) -> ColumnElement[bool]:
    key = c.field[len(ATTRIBUTE_PREFIX):]
    if c.operator in ("is_null", "is_not_null"):
        present = sqlfuncs.json_present(Customer.attributes, key)
        return present == 0 if c.operator == "is_null" else present == 1
    if c.value_type == "bool":
        value = sqlfuncs.json_bool(Customer.attributes, key)
        return _guarded(value, c, negated, lambda col: _compare(col, c.operator, int(c.value)))
    if c.value_type == "number":
        value = sqlfuncs.json_number(Customer.attributes, key)
        return _guarded(value, c, negated, lambda col: _compare(col, c.operator, c.value))
    value = sqlfuncs.json_text(Customer.attributes, key)
    return _guarded(value, c, negated, lambda col: _text(col, c))

"""Rules → one parameterised SQLAlchemy condition over `customer`.

Semantics (mirrored exactly by the reference evaluator in tests/segment_reference.py;
DESIGN.md "Missing values"):
- every condition is two-valued. A *missing* value is SQL NULL (no orders yet, no city,
  an attribute that is absent or of another JSON type, avg_order_value without orders)
  and, for text, a stored string of only spaces (ingestion stores blanks as NULL; the
  compiler also reads a left-over '' or '   ' as missing so is_null finds it);
- a positive operator (=, <, <=, >, >=, between, in, contains, starts_with, ends_with)
  never matches a missing value; each negative operator (!=, not_in, not_contains) is
  exactly NOT of its positive twin, so it does match one: `city not_in [Mumbai]`
  equals NOT(`city in [Mumbai]`) and includes customers with no city. NOT over a group
  is plain negation. SQL's NULL already acts as false outside a NOT, so the
  `IS NOT NULL` guard that keeps positives two-valued is only emitted under an odd
  number of NOTs (it would otherwise cost the planner its index choices for nothing);
- `days_since_X` is the whole days elapsed between X and the query's single `now`;
  it compiles to a range on X itself, so the column's index is used;
- dates compare by calendar day in the brand's zone (BRAND_TIMEZONE): a day is the
  half-open UTC range from one brand midnight to the next (core.brand_time);
- text compares case-insensitively (Unicode lower-case), LIKE wildcards in values
  are literal;
- an attribute `in` list of labels some of which look like numbers ("A1", "12") is
  membership as a marketer means it: a stored text equal to a label, or a stored
  number (or number-like text) equal to a number-like label (`in ["12"]` alone reads
  "12" as the number 12 and finds the same customers with "12" or 12);
- avg_order_value is total_spend / order_count rounded to 2 decimals (NULL without orders);
- window fields aggregate counted orders in a brand-calendar period (window_sql);
- an empty AND group matches everyone, an empty OR group matches no one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from mini_crm.core import brand_time
from mini_crm.core.segments import sqlfuncs, window_sql
from mini_crm.core.segments.fields import ATTRIBUTE_PREFIX, NEGATIVE, registry
from mini_crm.core.segments.schema import Condition, Group, list_numbers
from mini_crm.models import Customer

LIKE_ESCAPE = "!"
DAY = timedelta(days=1)

Build = Callable[[Any, str], ColumnElement[bool]]


def compile_group(group: Group, now: datetime, negated: bool = False) -> ColumnElement[bool]:
    """The group as one boolean SQL expression; `negated` = under an odd number of NOTs."""
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
    """One condition over the column its field spec names (`FieldSpec.column`)."""
    if c.kind == "window":
        return window_sql.compile_window(c, now)
    if c.kind == "attribute":
        return _attribute(c, negated)
    spec = registry()[c.field]
    builds: dict[str, Build] = {
        "days": lambda col, op: _days(col, op, c.value, now),
        "date": lambda col, op: _dates(col, op, c.value),
        "text": lambda col, op: _text(col, op, c.value),
        "number": lambda col, op: sqlfuncs.compare(col, op, sqlfuncs.num(c.value)),
    }
    build = builds[c.kind]
    if not spec.nullable:  # a NOT NULL column: no missing values to handle
        if c.operator in ("is_null", "is_not_null"):
            return sa.false() if c.operator == "is_null" else sa.true()
        if c.operator in NEGATIVE:
            return sa.not_(build(spec.column, NEGATIVE[c.operator]))
        return build(spec.column, c.operator)
    return _missing_aware(spec.column, c, negated, build, text=c.kind == "text")


def _missing_aware(column: Any, c: Condition, negated: bool, build: Build, *,
                   text: bool = False) -> ColumnElement[bool]:
    """`build(column, positive_op)` made two-valued with missing values handled: positive
    operators never match them, negative ones (NOT of the positive twin) always do."""
    missing = column.is_(None)
    if text:
        missing = sa.or_(missing, sa.func.trim(column) == "")
    if c.operator == "is_null":
        return missing
    if c.operator == "is_not_null":
        return sa.not_(missing) if text else column.is_not(None)
    if c.operator in NEGATIVE:
        return sa.or_(column.is_(None), sa.not_(build(column, NEGATIVE[c.operator])))
    if not negated:
        return build(column, c.operator)
    # Under NOT, SQL's NULL would stay unknown; the guard makes it plainly false first.
    return sa.and_(column.is_not(None), build(column, c.operator))


def _days(col: Any, op: str, v: Any, now: datetime) -> ColumnElement[bool]:
    # days_since(x) >= n  <=>  x <= now - n days ; the other operators follow.
    def at_least(n: Any) -> ColumnElement[bool]:
        return col <= now - int(n) * DAY

    def below(n: Any) -> ColumnElement[bool]:
        return col > now - int(n) * DAY

    if op == "between":
        return sa.and_(at_least(v[0]), below(v[1] + 1))
    return {
        ">=": lambda: at_least(v), ">": lambda: at_least(v + 1),
        "<": lambda: below(v), "<=": lambda: below(v + 1),
        "=": lambda: sa.and_(at_least(v), below(v + 1)),
    }[op]()


def _dates(col: Any, op: str, v: Any) -> ColumnElement[bool]:
    # A brand-calendar day d is [day_start(d), day_start(d + 1)) in stored UTC.
    if op == "between":
        return sa.and_(col >= brand_time.day_start(v[0]),
                       col < brand_time.day_start(v[1] + DAY))
    start, end = brand_time.day_bounds(v)
    return {
        "=": lambda: sa.and_(col >= start, col < end),
        "<": lambda: col < start, "<=": lambda: col < end,
        ">": lambda: col >= end, ">=": lambda: col >= start,
    }[op]()


def like_pattern(text: str, *, prefix: bool, suffix: bool) -> str:
    escaped = (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
               .replace("_", LIKE_ESCAPE + "_"))
    return ("%" if prefix else "") + escaped + ("%" if suffix else "")


def _text(col: Any, op: str, v: Any) -> ColumnElement[bool]:
    folded = sqlfuncs.casefold(col)
    if op == "in":
        return folded.in_([str(x).lower() for x in v])
    value = str(v).lower()
    if op == "=":
        return folded == value
    pattern = like_pattern(value, prefix=op in ("contains", "ends_with"),
                           suffix=op in ("contains", "starts_with"))
    return folded.like(pattern, escape=LIKE_ESCAPE)


def _attribute(c: Condition, negated: bool) -> ColumnElement[bool]:
    key = c.field[len(ATTRIBUTE_PREFIX):]
    if c.operator in ("is_null", "is_not_null"):
        # Missing: absent, JSON null, or a text of only spaces.
        blank = sa.func.trim(sqlfuncs.json_text(Customer.attributes, key)) == ""
        present = sa.and_(sqlfuncs.json_present(Customer.attributes, key) == 1,
                          sa.not_(sa.func.coalesce(blank, sa.false())))
        return sa.not_(present) if c.operator == "is_null" else present
    if c.value_type == "bool":
        value = sqlfuncs.json_bool(Customer.attributes, key)
        return _missing_aware(value, c, negated,
                              lambda col, op: sqlfuncs.compare(col, op, _bool(c.value)))
    if c.value_type == "number":
        value = sqlfuncs.json_number(Customer.attributes, key)
        return _missing_aware(value, c, negated,
                              lambda col, op: sqlfuncs.compare(col, op, _float(c.value)))
    value = sqlfuncs.json_text(Customer.attributes, key)
    if c.operator in ("in", "not_in") and (as_numbers := list_numbers(c.value)):
        # Labels some of which look like numbers ("A1, 12"): a stored text is one of the
        # labels, or a stored number (or number-like text) is one of those numbers, as
        # `in ["12"]` alone would find it. Both halves are two-valued (a value of the
        # other JSON type is NULL there and guarded), so not_in is exactly NOT in.
        number = sqlfuncs.json_number(Customer.attributes, key)
        member = sa.or_(sa.and_(value.is_not(None), _text(value, "in", c.value)),
                        sa.and_(number.is_not(None), number.in_(_float(as_numbers))))
        return member if c.operator == "in" else sa.not_(member)
    return _missing_aware(value, c, negated, lambda col, op: _text(col, op, c.value),
                          text=True)


def _bool(value: Any) -> Any:
    return tuple(int(v) for v in value) if isinstance(value, tuple) else int(value)


def _float(value: Any) -> Any:
    # JSON numbers are compared as doubles (json_number).
    return tuple(float(v) for v in value) if isinstance(value, tuple) else float(value)

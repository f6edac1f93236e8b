"""Portable SQL pieces the compiler needs, compiled per dialect.

- `casefold(x)`: lower-case for case-insensitive comparison; on MariaDB also a binary
  NO PAD collation, because the default *_ci collations treat 'e' = 'é' and PAD SPACE
  ones 'a ' = 'a'.
- `json_text/json_number/json_bool(col, key)`: the attribute's value when it has that
  JSON type, else NULL, so a rule never errors on a value of another type. `json_number`
  also reads a JSON string that plainly means a number (core.numbers.numeric_text:
  "12", "-3.5"; not "0400"), because CSV cells arrive as text: the cast is guarded by
  the same pattern per dialect, so it never fails.
- `json_present(col, key)`: 1 when the key exists and is not JSON null.

- `items_have(col, key, value)`: a predicate, true when a JSON array of objects has one
  whose key holds the (lower-cased) text value.
- `compare(col, op, value)` and `num(value)`: a rule comparison and its bind value.

The attribute key is always a bound parameter; it never enters SQL text.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from mini_crm.core.numbers import NUMERIC_TEXT_PATTERN


def num(value: Any) -> Any:
    """A rule number as a bind value. Whole numbers bind as integers: an integer column
    compared with a NUMERIC parameter is cast per row on PostgreSQL, and its index goes
    unused."""
    if isinstance(value, tuple):
        return tuple(num(v) for v in value)
    if isinstance(value, Decimal | float):
        return int(value) if value == int(value) else Decimal(str(value))
    return value


def compare(col: Any, op: str, value: Any) -> ColumnElement[bool]:
    """col <op> value for the positive comparison operators (and their negative twins)."""
    if op == "between":
        return sa.and_(col >= value[0], col <= value[1])
    if op == "in":
        return col.in_(list(value))
    if op == "not_in":
        return col.not_in(list(value))
    return {"=": col.__eq__, "!=": col.__ne__, "<": col.__lt__, "<=": col.__le__,
            ">": col.__gt__, ">=": col.__ge__}[op](value)


class casefold(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    type = sa.String()
    name = "casefold"
    inherit_cache = True


@compiles(casefold)
def _casefold_default(element: casefold, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(casefold, "mysql")
@compiles(casefold, "mariadb")
def _casefold_mysql(element: casefold, compiler: Any, **kw: Any) -> str:
    # NO PAD: MariaDB's utf8mb4_bin is a PAD SPACE collation, under which '3 ' = '3' (a
    # stored attribute "3 " matched `in ["3"]`, which no other database does).
    return f"(LOWER({compiler.process(element.clauses, **kw)}) COLLATE utf8mb4_nopad_bin)"


class _JsonValue(FunctionElement):
    # The key travels as an attribute and is bound at compile time, so statements
    # holding these are not cached (a cache hit would reuse another key's value).
    inherit_cache = False
    json_kind = ""

    def __init__(self, column: Any, key: str) -> None:
        super().__init__(column)
        self.key = key


class json_text(_JsonValue):  # noqa: N801
    type = sa.String()
    name = "json_text"
    inherit_cache = False
    json_kind = "text"


class json_number(_JsonValue):  # noqa: N801
    type = sa.Float()
    name = "json_number"
    inherit_cache = False
    json_kind = "number"


class json_bool(_JsonValue):  # noqa: N801
    type = sa.Integer()
    name = "json_bool"
    inherit_cache = False
    json_kind = "bool"


class json_present(_JsonValue):  # noqa: N801
    type = sa.Integer()
    name = "json_present"
    inherit_cache = False
    json_kind = "present"


def _bind(compiler: Any, value: str, **kw: Any) -> str:
    return compiler.process(sa.bindparam(None, value, type_=sa.String(), unique=True), **kw)


def _numeric_pattern(compiler: Any, **kw: Any) -> str:
    return _bind(compiler, NUMERIC_TEXT_PATTERN, **kw)


@compiles(_JsonValue, "sqlite")
def _json_sqlite(element: _JsonValue, compiler: Any, **kw: Any) -> str:
    col = compiler.process(element.clauses, **kw)
    path = _bind(compiler, f'$."{element.key}"', **kw)
    kind = f"json_type({col}, {path})"
    value = f"json_extract({col}, {path})"
    return {
        "text": f"(CASE WHEN {kind} = 'text' THEN {value} END)",
        "number": f"(CASE WHEN {kind} IN ('integer', 'real') THEN {value} "
                  f"WHEN {kind} = 'text' THEN crm_numeric_text({value}) END)",
        "bool": f"(CASE {kind} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)",
        "present": f"(CASE WHEN {kind} IS NOT NULL AND {kind} != 'null' THEN 1 ELSE 0 END)",
    }[element.json_kind]


@compiles(_JsonValue, "postgresql")
def _json_postgresql(element: _JsonValue, compiler: Any, **kw: Any) -> str:
    col = compiler.process(element.clauses, **kw)
    key = _bind(compiler, element.key, **kw)
    kind = f"json_typeof(({col})::json -> {key})"
    value = f"(({col})::json ->> {key})"
    return {
        "text": f"(CASE WHEN {kind} = 'string' THEN {value} END)",
        "number": f"(CASE WHEN {kind} = 'number' THEN ({value})::float8 "
                  f"WHEN {kind} = 'string' AND {value} ~ {_numeric_pattern(compiler, **kw)} "
                  f"THEN ({value})::float8 END)",
        "bool": f"(CASE WHEN {kind} = 'boolean' THEN "
                f"(CASE WHEN {value} = 'true' THEN 1 ELSE 0 END) END)",
        "present": f"(CASE WHEN {kind} IS NOT NULL AND {kind} != 'null' THEN 1 ELSE 0 END)",
    }[element.json_kind]


@compiles(_JsonValue, "mysql")
@compiles(_JsonValue, "mariadb")
def _json_mysql(element: _JsonValue, compiler: Any, **kw: Any) -> str:
    col = compiler.process(element.clauses, **kw)
    path = _bind(compiler, f'$."{element.key}"', **kw)
    raw = f"JSON_EXTRACT({col}, {path})"
    kind = f"JSON_TYPE({raw})"
    value = f"JSON_UNQUOTE({raw})"
    return {
        "text": f"(CASE WHEN {kind} = 'STRING' THEN {value} END)",
        "number": f"(CASE WHEN {kind} IN ('INTEGER', 'DOUBLE', 'DECIMAL', 'UNSIGNED INTEGER') "
                  f"THEN CAST({value} AS DOUBLE) WHEN {kind} = 'STRING' AND {value} REGEXP "
                  f"{_bind(compiler, NUMERIC_TEXT_PATTERN[:-1] + chr(92) + 'z', **kw)} "
                  f"THEN CAST({value} AS DOUBLE) END)",
        "bool": f"(CASE WHEN {kind} = 'BOOLEAN' THEN "
                f"(CASE WHEN {value} = 'true' THEN 1 ELSE 0 END) END)",
        "present": f"(CASE WHEN {raw} IS NOT NULL AND {kind} != 'NULL' THEN 1 ELSE 0 END)",
    }[element.json_kind]


class items_have(_JsonValue):  # noqa: N801
    """A predicate (use it as a WHERE condition, not compared with anything): true when
    the JSON array `col` holds an object whose `key` is the text `value` (compared
    lower-cased: pass `value` lower-cased). Key and value are bound. PostgreSQL gets a
    bare EXISTS, which the planner estimates like any semi-join; SQLite and MariaDB a
    CASE giving 1 or 0, which both take as true or false."""

    type = sa.Boolean()
    name = "items_have"
    inherit_cache = False
    json_kind = "items"

    def __init__(self, column: Any, key: str, value: str) -> None:
        super().__init__(column, key)
        self.value = value


@compiles(items_have, "sqlite")
def _items_sqlite(element: items_have, compiler: Any, **kw: Any) -> str:
    col = compiler.process(element.clauses, **kw)
    path = _bind(compiler, f'$."{element.key}"', **kw)
    value = _bind(compiler, element.value, **kw)
    # Nested CASEs: SQLite may evaluate AND in any order, and json_type() of a non-object
    # element (a bare string) fails as malformed JSON.
    text = (f"(CASE WHEN item.type = 'object' THEN (CASE WHEN json_type(item.value, {path}) "
            f"= 'text' THEN json_extract(item.value, {path}) END) END)")
    return (f"(CASE WHEN json_type({col}) = 'array' THEN (CASE WHEN EXISTS (SELECT 1 FROM "
            f"json_each({col}) AS item WHERE lower({text}) = {value}) THEN 1 ELSE 0 END) "
            f"ELSE 0 END)")


@compiles(items_have, "postgresql")
def _items_postgresql(element: items_have, compiler: Any, **kw: Any) -> str:
    col = compiler.process(element.clauses, **kw)
    key = _bind(compiler, element.key, **kw)
    value = _bind(compiler, element.value, **kw)
    # A bare EXISTS, not CASE WHEN EXISTS ... THEN 1 ELSE 0 END = 1: behind the CASE the
    # planner guessed 0.5 % of the window's orders (4,027 of 164,675 at 10M orders) and
    # chose a nested loop. The equality runs first (the planner keeps the written order
    # of equal-cost quals), so the string check parses only the matching elements; a
    # non-object element needs no check of its own, since `->` on it gives NULL. At 10M
    # orders this halved the per-order JSON work (0.017 -> 0.009 ms): bench/segments.py
    # "shoes in 90d", docs/segments.md#performance.
    array = f"(CASE WHEN json_typeof(({col})::json) = 'array' THEN ({col})::json END)"
    return (f"(EXISTS (SELECT 1 FROM json_array_elements({array}) AS item(v) "
            f"WHERE lower(item.v ->> {key}) = {value} "
            f"AND json_typeof(item.v -> {key}) = 'string'))")


@compiles(items_have, "mysql")
@compiles(items_have, "mariadb")
def _items_mysql(element: items_have, compiler: Any, **kw: Any) -> str:
    # Each element's value for the key, by index over MariaDB's sequence table (JSON_TABLE
    # would need the key pasted into its path text). JSON_UNQUOTE decodes \u escapes
    # before LOWER, and the binary collation keeps 'e' and 'é' apart.
    col = compiler.process(element.clauses, **kw)
    head = _bind(compiler, "$[", **kw)
    tail = _bind(compiler, f'].\"{element.key}\"', **kw)
    value = _bind(compiler, element.value, **kw)
    elem = f"JSON_EXTRACT({col}, CONCAT({head}, item.seq, {tail}))"
    return (f"(CASE WHEN JSON_TYPE({col}) = 'ARRAY' AND EXISTS (SELECT 1 FROM "
            f"seq_0_to_9999 AS item WHERE item.seq < JSON_LENGTH({col}) "
            f"AND JSON_TYPE({elem}) = 'STRING' "
            f"AND (LOWER(JSON_UNQUOTE({elem})) COLLATE utf8mb4_nopad_bin) = {value}) "
            f"THEN 1 ELSE 0 END)")

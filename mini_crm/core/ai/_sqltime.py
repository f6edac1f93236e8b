"""`quarter_hour(col)`: whole 15-minute periods since 1970-01-01 of a naive-UTC timestamp.

Grouping by it lets the database reduce any number of orders to at most 35,040 rows a
year, which Python then places in the brand's time zone exactly: every real time zone's
offset, and every daylight-saving switch, falls on a quarter hour.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

SECONDS = 900
DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb")


class quarter_hour(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    type = sa.BigInteger()
    name = "quarter_hour"
    inherit_cache = True


@compiles(quarter_hour, "sqlite")
def _sqlite(element: quarter_hour, compiler: Any, **kw: Any) -> str:
    col = compiler.process(element.clauses, **kw)
    return f"(CAST(strftime('%s', {col}) AS INTEGER) / {SECONDS})"


@compiles(quarter_hour, "postgresql")
def _postgresql(element: quarter_hour, compiler: Any, **kw: Any) -> str:
    # EXTRACT(EPOCH) of a timestamp without time zone reads it as UTC.
    col = compiler.process(element.clauses, **kw)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {col}) / {SECONDS}) AS BIGINT)"


@compiles(quarter_hour, "mysql")
@compiles(quarter_hour, "mariadb")
def _mysql(element: quarter_hour, compiler: Any, **kw: Any) -> str:
    # Not UNIX_TIMESTAMP(): it reads a DATETIME in the session's time zone.
    col = compiler.process(element.clauses, **kw)
    return f"(TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {col}) DIV {SECONDS})"

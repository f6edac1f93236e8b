"""Brand-calendar days in SQL: which BRAND_TIMEZONE day a stored naive-UTC timestamp is on.

Figures grouped "per day / week / month" (the dashboard's revenue, attributed revenue)
must put an order at 2026-11-29 01:30 +05:30 (2026-11-28 20:00 UTC) on the 29th, the
brand's day, not the UTC one. Time-zone functions are not portable SQL (SQLite has none,
MySQL needs loaded zone tables), so the offset is computed here and handed to the
database as numbers:

    day number = (quarter hours since 1970-01-01 UTC + brand offset in quarter hours) // 96

The brand offset is constant between daylight-saving changes; `brand_day_number` finds
the changes inside the queried period (from zoneinfo, in Python) and writes one CASE
branch per stretch, so it is exact in London as in Kolkata. Every real offset is a whole
number of quarter hours. `day_of(number)` turns the number back into a `date`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from mini_crm.core import brand_time
from mini_crm.core.ai._sqltime import SECONDS, quarter_hour

QUARTERS_PER_DAY = 86400 // SECONDS
EPOCH_DAY = date(1970, 1, 1)


def _offset_quarters(utc_naive: datetime) -> int:
    offset = brand_time.local_time(utc_naive).utcoffset() or timedelta(0)
    return int(offset.total_seconds()) // SECONDS


def offset_changes(start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The brand offset (quarter hours) in force from `start`, and every change up to
    `end`: [(from naive UTC, offset), ...], first entry at `start`.

    Scans day by day and narrows each change to the quarter hour by bisection: a few
    hundred zoneinfo calls for two years, whatever the zone.
    """
    first = _offset_quarters(start)
    stretches = [(start, first)]
    current, at = first, start
    step = timedelta(days=1)
    while at < end:
        nxt = min(at + step, end)
        offset = _offset_quarters(nxt)
        if offset != current:
            lo, hi = at, nxt  # offset(lo) == current, offset(hi) != current
            while hi - lo > timedelta(seconds=SECONDS):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(minute=mid.minute - mid.minute % 15, second=0,
                                  microsecond=0)
                if mid <= lo:
                    break
                if _offset_quarters(mid) == current:
                    lo = mid
                else:
                    hi = mid
            stretches.append((hi, offset))
            current = offset
        at = nxt
    return stretches


def brand_day_number(column: Any, start: datetime, end: datetime) -> sa.ColumnElement[int]:
    """SQL: the brand-calendar day of naive-UTC `column`, as days since 1970-01-01.

    Exact for timestamps in [start, end] (naive UTC, the rows the query reads); outside
    it the offset at the nearer end is used. Integer arithmetic only (`//` is integer
    division on every dialect), so it groups cheaply on SQLite, PostgreSQL and MariaDB.
    """
    stretches = offset_changes(start, end)
    if len(stretches) == 1:
        offset: Any = sa.literal(stretches[0][1], sa.Integer)
    else:
        whens = [(column < stretches[i + 1][0], sa.literal(off, sa.Integer))
                 for i, (_, off) in enumerate(stretches[:-1])]
        offset = sa.case(*whens, else_=sa.literal(stretches[-1][1], sa.Integer))
    return (quarter_hour(column) + offset) // QUARTERS_PER_DAY


def day_of(number: Any) -> date:
    """The `date` of a day number from `brand_day_number`."""
    return EPOCH_DAY + timedelta(days=int(number))


def sums_by_day(db: Any, at: Any, amount: Any, where: list[Any], first: date, last: date
                ) -> dict[date, tuple[Decimal, int]]:
    """Sum of `amount` and row count per brand day, for rows whose naive-UTC `at` falls
    on brand days first..last (inclusive), filtered by `where`: {day: (sum, rows)}.

    One GROUP BY; at most one row per day comes back.
    """
    start, end = brand_time.days_bounds(first, last)
    day = brand_day_number(at, start, end)
    rows = db.execute(sa.select(day, sa.func.sum(amount), sa.func.count())
                      .where(*where, at >= start, at < end).group_by(day)).all()
    return {day_of(n): (Decimal(total or 0), int(count)) for n, total, count in rows}


def fold_weeks(days: dict[date, tuple[Decimal, int]], first_monday: date, weeks: int
               ) -> dict[date, tuple[Decimal, int]]:
    """Per-day (sum, count) folded into `weeks` Monday-started weeks from `first_monday`,
    empty weeks as (0, 0); days outside those weeks are left out."""
    totals = {first_monday + timedelta(weeks=i): [Decimal("0"), 0] for i in range(weeks)}
    for on, (amount, count) in days.items():
        bucket = totals.get(on - timedelta(days=on.weekday()))
        if bucket is not None:
            bucket[0] += amount
            bucket[1] += count
    return {k: (v[0], int(v[1])) for k, v in totals.items()}

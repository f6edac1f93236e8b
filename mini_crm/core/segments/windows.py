"""The period of a windowed order rule, parsed, and the brand-calendar bounds it covers.

A window is `{"last_days": N}` (the last N brand-calendar days, today included: 1 is
today alone, 30 is today and the 29 days before) or `{"from": "YYYY-MM-DD", "to":
"YYYY-MM-DD"}` (inclusive brand-zone days). `items_match` `{"key": "category", "value":
"shoes"}` narrows the orders to those with an item (an object in `order.items`) whose
`key` holds that text, compared case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from mini_crm.core import brand_time, text_checks
from mini_crm.core.plain_errors import shown

MAX_WINDOW_DAYS = 36_500
ITEM_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_ITEM_VALUE = 200


class WindowError(ValueError):
    """A window or items_match that cannot be used; the message says what is expected."""


@dataclass(frozen=True)
class Window:
    last_days: int | None = None
    first: date | None = None
    last: date | None = None

    def days(self, now: datetime) -> tuple[date, date]:
        """The inclusive brand dates the window covers at `now` (naive UTC)."""
        if self.last_days is not None:
            return brand_time.last_days(self.last_days, now)
        assert self.first is not None and self.last is not None
        return self.first, self.last

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """[start, end) in naive UTC: what `order.ordered_at` is compared with."""
        return brand_time.days_bounds(*self.days(now))

    def as_json(self) -> dict[str, Any]:
        if self.last_days is not None:
            return {"last_days": self.last_days}
        assert self.first is not None and self.last is not None
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


@dataclass(frozen=True)
class ItemsMatch:
    key: str
    value: str  # as written; compared lower-cased

    def as_json(self) -> dict[str, str]:
        return {"key": self.key, "value": self.value}


def parse_window(raw: Any) -> Window:
    """`{"last_days": N}` or `{"from", "to"}` → Window; WindowError says what is wrong."""
    if not isinstance(raw, dict):
        raise WindowError('a window is {"last_days": N} or {"from": "YYYY-MM-DD", '
                          '"to": "YYYY-MM-DD"}')
    keys = set(raw)
    if keys == {"last_days"}:
        n = raw["last_days"]
        if isinstance(n, str) and n.strip().isdigit():
            n = int(n.strip())
        if isinstance(n, float) and n.is_integer():
            n = int(n)  # JSON has one number type: 30.0 is 30 days (30.5 is refused below)
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_WINDOW_DAYS:
            raise WindowError(f"last_days must be a whole number of days from 1 to "
                              f"{MAX_WINDOW_DAYS}, got {shown(raw['last_days'])}")
        return Window(last_days=n)
    if keys == {"from", "to"}:
        first, last = _day(raw["from"], "from"), _day(raw["to"], "to")
        if last < first:
            raise WindowError(f"the window ends ({last}) before it starts ({first})")
        if (last - first).days >= MAX_WINDOW_DAYS:
            raise WindowError(f"a window is at most {MAX_WINDOW_DAYS} days long")
        return Window(first=first, last=last)
    raise WindowError('a window has either "last_days" or both "from" and "to", got keys '
                      f"{', '.join(sorted(map(str, keys))) or 'none'}")


def _day(raw: Any, name: str) -> date:
    if isinstance(raw, str):
        try:
            # ISO, or a slashed date as typed in the builder, in DATE_ORDER ("29/11/2026")
            day = brand_time.read_day(raw)
        except brand_time.TimestampError as exc:
            raise WindowError(f"'{name}': {exc}") from None
        if day is not None:
            try:
                return brand_time.check_supported(day, f"'{name}'")
            except brand_time.TimestampError as exc:
                raise WindowError(str(exc)) from None
    raise WindowError(f"'{name}' must be a date like 2026-01-31, got {shown(raw)}")


def parse_items_match(raw: Any) -> ItemsMatch:
    """`{"key": "category", "value": "shoes"}` → ItemsMatch; WindowError if malformed."""
    if not isinstance(raw, dict) or set(raw) != {"key", "value"}:
        raise WindowError('items_match is {"key": "category", "value": "shoes"}')
    key, value = raw["key"], raw["value"]
    if not isinstance(key, str) or not ITEM_KEY.match(key):
        raise WindowError("items_match key must be letters, digits or underscore, got "
                          f"{shown(key)}")
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise WindowError("items_match value must be a non-empty text")
    text = str(value).strip()
    if problem := text_checks.control_problem(text, "items_match value"):
        raise WindowError(problem)
    if len(text) > MAX_ITEM_VALUE:
        raise WindowError(f"items_match value is at most {MAX_ITEM_VALUE} characters")
    return ItemsMatch(key=key, value=text)

"""The brand calendar: calendar days in settings.brand_timezone, timestamps in UTC.

Timestamps are stored as naive UTC. Whenever a person means a *day* ("orders on
29 Nov", "this month", "last year", a date shown on a page or in a CSV export) the day
is a day in the brand's zone (BRAND_TIMEZONE, default Asia/Kolkata). This module is the
one place that converts between the two:

- `day_start(d)` / `day_bounds(d)` / `days_bounds(first, last)`: brand day(s) → the
  naive-UTC half-open interval [start, end) that holds them, exact across daylight-saving
  changes (a London day is 23, 24 or 25 hours long);
- `local_date(ts)` / `local_time(ts)`: a stored naive-UTC timestamp → the brand's date /
  aware local time;
- `today(now)`, `period("this_month" | "last_month" | "this_year" | "last_year" |
  "this_week" | "last_week", now)` → brand dates;
- `parse_input_timestamp(value)`: an input timestamp (API, CSV) → naive UTC; without an
  offset it is read as brand wall-clock time, with one it is converted.
- `utc_text(ts)` / `UtcTimestamp`: a timestamp as every answer and export gives it out,
  UTC with "Z" (`2026-11-30T16:56:01.376125Z`), so a client that sends it back gets the
  same instant: an offset-less text would be read as brand time, hours off.
- `parse_people_date(text)`: a date as a person types it in a spreadsheet or the rule
  builder, "29/11/2026" (or 29-11-2026, 29.11.2026) in DATE_ORDER (DMY by default, MDY
  allowed), or with the month in letters ("29-Nov-2026", "Nov 29, 2026"), optionally
  with a time ("13:30", "1:30 PM") → an ISO text; the API itself stays ISO 8601.
- `read_day(text)`: a calendar day as rules and windows take it (ISO or as people type
  it); `no_such_day(...)` is the one sentence for a date the calendar lacks
  ("2026-02-30 is not a date (February has 28 days in 2026)"), whichever door it came
  through: a rule, a window, schedule_at, an API or CSV timestamp, the AI's prompt.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import PlainSerializer, WithJsonSchema

from mini_crm.settings import get_settings

PERIODS = ("today", "yesterday", "this_week", "last_week", "this_month", "last_month",
           "this_quarter", "last_quarter", "this_year", "last_year")


class TimestampError(ValueError):
    """An input timestamp that cannot be read; the message says what was expected."""


# The calendar the product accepts from any door (API, CSV, rules, schedules, AI). Python's
# own range (years 1..9999) is not enough: year 1 at +05:30 or 9999-12-31 at -05:00 has
# no UTC twin (OverflowError), MariaDB DATETIME starts at year 1000, and "day + 1" of
# 9999-12-31 overflows. 1900..2199 holds every birthday, order and schedule a brand has.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)


def utc_text(value: datetime | str | None) -> str | None:
    """A timestamp for an API answer or an export: ISO 8601 in UTC ending in "Z".

    Stored timestamps are naive UTC; without a marker a client reads (and our own inputs
    read) them as brand wall-clock time, so every timestamp that leaves the app goes
    through here. Naive values are UTC, aware ones are converted; a text (an ISO time
    kept inside a JSON column) is read first, the same way. None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


# A response model's timestamp field: serialised by `utc_text` (the one place answers
# write timestamps), so Swagger's type is still date-time.
UtcTimestamp = Annotated[datetime, PlainSerializer(utc_text, return_type=str,
                                                   when_used="json"),
                         WithJsonSchema({"type": "string", "format": "date-time",
                                         "description": "UTC, ending in Z"},
                                        mode="serialization")]


def check_supported(day: date, what: str = "the date") -> date:
    """`day` itself when MIN_DATE <= day <= MAX_DATE; else TimestampError in plain words."""
    if not MIN_DATE <= day <= MAX_DATE:
        raise TimestampError(f"{what} {day.isoformat()} is outside the supported calendar "
                             f"({MIN_DATE.isoformat()} to {MAX_DATE.isoformat()})")
    return day


def zone() -> tzinfo:
    """The brand's time zone (settings.brand_timezone, an IANA name such as Asia/Kolkata)."""
    name = get_settings().brand_timezone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"BRAND_TIMEZONE {name!r} is not an IANA time zone name "
                         "(e.g. Asia/Kolkata)") from exc


def zone_name() -> str:
    return get_settings().brand_timezone


def to_utc(local: datetime) -> datetime:
    """A brand wall-clock time (naive) → naive UTC.

    A wall time that happens twice (autumn fold) is read as the first; one that never
    happens (spring gap) is read with the offset before the change, i.e. it lands just
    after the gap. Aware inputs are converted as they are.
    """
    # One day of slack past MAX_DATE: the end of the last supported day is its midnight.
    if not MIN_DATE <= local.date() <= MAX_DATE + timedelta(days=1):
        check_supported(local.date(), "the time")
    aware = local if local.tzinfo is not None else local.replace(tzinfo=zone())
    return aware.astimezone(UTC).replace(tzinfo=None)


def local_time(utc_naive: datetime) -> datetime:
    """A stored naive-UTC timestamp as the brand reads it: aware, in the brand's zone."""
    return utc_naive.replace(tzinfo=UTC).astimezone(zone())


def local_date(utc_naive: datetime) -> date:
    """The brand-calendar day of a stored naive-UTC timestamp."""
    return local_time(utc_naive).date()


def day_start(day: date) -> datetime:
    """Naive UTC of the first instant of brand day `day` (its local midnight)."""
    return to_utc(datetime(day.year, day.month, day.day))


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) in naive UTC of one brand day."""
    return day_start(day), day_start(day + timedelta(days=1))


def days_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) in naive UTC covering brand days first..last inclusive."""
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    return day_start(first), day_start(last + timedelta(days=1))


def today(now: datetime | None = None) -> date:
    """The brand's date at `now` (naive UTC; the current time when None)."""
    return local_date(now if now is not None else datetime.now(UTC).replace(tzinfo=None))


def period(name: str, now: datetime | None = None) -> tuple[date, date]:
    """A named calendar period around `now` as inclusive brand dates (first, last).

    Weeks start on Monday. Raises ValueError for a name not in PERIODS.
    """
    return calendar_period(name, today(now))


def calendar_period(name: str, d: date) -> tuple[date, date]:
    """`period` around the brand date `d` (already a brand-calendar day)."""
    if name == "today":
        return d, d
    if name == "yesterday":
        y = d - timedelta(days=1)
        return y, y
    if name in ("this_week", "last_week"):
        monday = d - timedelta(days=d.weekday())
        if name == "last_week":
            monday -= timedelta(days=7)
        return monday, monday + timedelta(days=6)
    if name in ("this_month", "last_month"):
        first = d.replace(day=1)
        if name == "last_month":
            first = (first - timedelta(days=1)).replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, following - timedelta(days=1)
    if name in ("this_quarter", "last_quarter"):
        # Calendar quarters: Jan-Mar, Apr-Jun, Jul-Sep, Oct-Dec. "This quarter" runs to
        # `d` (quarter-to-date), "last quarter" is the whole previous one.
        first = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
        if name == "this_quarter":
            return first, d
        last = first - timedelta(days=1)
        return date(last.year, last.month - 2, 1), last
    if name in ("this_year", "last_year"):
        year = d.year - (name == "last_year")
        return date(year, 1, 1), date(year, 12, 31)
    raise ValueError(f"unknown period {name!r}; expected one of {', '.join(PERIODS)}")


def last_days(n: int, now: datetime | None = None) -> tuple[date, date]:
    """The last `n` brand days ending today, inclusive: n=1 is today alone."""
    if n < 1:
        raise ValueError("a window needs at least one day")
    d = today(now)
    return d - timedelta(days=n - 1), d


_YMD = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?![0-9])")


def no_such_day(text: str, year: int | None, month: int, day: int, *,
                order: str | None = None) -> str | None:
    """Why `text` (year, month, day as read from it) names no calendar day, in the one
    wording every door uses: "2026-02-30 is not a date (February has 28 days in 2026)",
    "2026-13-01 is not a date (there is no month 13)". `order` ("DMY"/"MDY") says a
    slashed date was read in DATE_ORDER, so a month over 12 is explained by it. Without
    a year (the AI's "31 February") a day no year has is refused. None when it exists."""
    written = text.strip()[:40]
    if not 1 <= month <= 12:
        how = f" in {_ORDER_WORDS[order]} order, DATE_ORDER={order}" if order else ""
        return f"{written} is not a date (there is no month {month}{how})"
    name = calendar.month_name[month]
    if year is None:
        longest = calendar.monthrange(2024, month)[1]  # a leap year: 29 February exists
        return None if 1 <= day <= longest else (
            f"{written} is not a date ({name} has at most {longest} days)")
    longest = calendar.monthrange(year, month)[1] if year else 31
    if 1 <= day <= longest:
        return None
    return f"{written} is not a date ({name} has {longest} days in {year})"


def _impossible_day(text: str) -> str | None:
    """no_such_day for ISO text whose date part names a day the calendar lacks
    ("2026-02-30..."); None when the day exists or the text is not of that form."""
    m = _YMD.match(text)
    if not m:
        return None
    year, month, day = (int(g) for g in m.groups())
    return no_such_day(m.group(0), year, month, day)


def read_day(text: str) -> date | None:
    """A calendar day as a rule or a window takes it: ISO "2026-11-29" (a longer ISO
    timestamp is cut to its day) or a slashed date as people type it, in DATE_ORDER
    ("29/11/2026"). None when `text` is in neither form; TimestampError (no_such_day's
    sentence) when it is but names no day, e.g. "2026-02-30" or "31/04/2026"."""
    iso = parse_people_date(text) or text.strip()
    if (missing := _impossible_day(iso)) is not None:
        raise TimestampError(missing)
    try:
        if len(iso) > 10:
            datetime.fromisoformat(iso)  # a whole timestamp, not "2026-01-31abc"
        return date.fromisoformat(iso[:10])  # the day as written, before any offset
    except ValueError:
        return None


# day/month/year (or month/day/year) with one separator used twice, a 4-digit year, and
# optionally a wall-clock time: what spreadsheets write for a date typed in India or the US.
_PEOPLE_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?P<time>.*)")
# A date with the month in letters, as Excel shows "29-Nov-2026" or "Nov 29, 2026"
# (day and month cannot be confused, so DATE_ORDER does not matter): day first with a
# space, "-", "/" or "." around the month, or the month first with a space and an
# optional comma. The year is four digits.
_MONTH_FIRST = re.compile(r"(?P<month>[A-Za-z]{3,9})\.?[ ]+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?"
                          r"[ ]+(?P<year>\d{4})(?P<time>.*)")
_DAY_FIRST = re.compile(r"(?P<day>\d{1,2})(?:st|nd|rd|th)?(?P<sep>[ ]+|[-/.])"
                        r"(?P<month>[A-Za-z]{3,9})\.?(?:(?P=sep)|[ ]+)(?P<year>\d{4})"
                        r"(?P<time>.*)")
# The time after a date: "13:30", "13:30:15", "1:30 PM", "1:30pm", "1 PM", "1:30 p.m."
# (12-hour with AM/PM, where 12 AM is midnight and 12 PM noon).
_TIME = re.compile(r"(?:[ T]+|,[ ]*)(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?"
                   r"[ ]*(?:([AaPp])\.?[Mm]\.?)?")
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_ORDER_WORDS = {"DMY": "day/month/year", "MDY": "month/day/year"}


def date_order() -> str:
    """The DATE_ORDER setting: "DMY" (29/11/2026) or "MDY" (11/29/2026)."""
    return get_settings().date_order


def people_date_shapes() -> str:
    """The date shapes parse_people_date reads, in DATE_ORDER, for a hint: "29/11/2026,
    29-11-2026, 29.11.2026, 29-Nov-2026, 29 November 2026, Nov 29, 2026, each optionally
    with a time (13:30 or 1:30 PM), or ISO 8601 (2026-11-29, 2026-11-29T13:30:00+05:30)"."""
    numeric = ("29/11/2026, 29-11-2026, 29.11.2026" if date_order() == "DMY"
               else "11/29/2026, 11-29-2026, 11.29.2026")
    return (f"{numeric}, 29-Nov-2026, 29 November 2026, Nov 29, 2026, each optionally with "
            "a time (13:30 or 1:30 PM), or ISO 8601 (2026-11-29, "
            "2026-11-29T13:30:00+05:30)")


def parse_people_date(text: str) -> str | None:
    """A date as people type it in a spreadsheet → ISO 8601 text ("2026-11-29" or
    "2026-11-29T13:30:00", no offset: brand time), or None when `text` is not of such a
    form (then the caller's own reading applies, e.g. ISO 8601).

    Numeric dates "29/11/2026", "29-11-2026", "29.11.2026" in DATE_ORDER (DMY by default;
    MDY reads 11/29/2026); the month in letters ("29-Nov-2026", "29 November 2026", "Nov
    29, 2026", in any DATE_ORDER since they cannot be misread); each optionally followed
    by a time, 24-hour "13:30" or 12-hour "1:30 PM". A date that names no day is a
    TimestampError saying why (no_such_day): "11/29/2026 is not a date (there is no month
    29 in day/month/year order, DATE_ORDER=DMY); write …", or "31/02/2026 is not a date
    (February has 28 days in 2026)"; so is a time that is not one ("25:00", "13:30 PM").
    Two-digit years are not read (None), since 01/02/03 could be any of six days.
    """
    if not isinstance(text, str):
        return None
    m = _PEOPLE_DATE.fullmatch(text.strip())
    order: str | None = None
    if m is not None:
        a, _sep, b, year_text, rest = m.groups()
        order = date_order()
        day, month = (int(a), int(b)) if order == "DMY" else (int(b), int(a))
    else:
        m = _DAY_FIRST.fullmatch(text.strip()) or _MONTH_FIRST.fullmatch(text.strip())
        if m is None or m["month"].lower() not in _MONTHS:
            return None
        day, month, year_text, rest = (int(m["day"]), _MONTHS[m["month"].lower()],
                                       m["year"], m["time"])
    time = _time_of_day(rest, text.strip()[:40])
    if time is False:
        return None  # not a date followed by a time: left to the caller's own reading
    year = int(year_text)
    if (missing := no_such_day(text, year, month, day, order=order)) is not None:
        if order is not None and not 1 <= month <= 12:
            example = "29/11/2026" if order == "DMY" else "11/29/2026"
            missing += f"; write {_ORDER_WORDS[order]} (e.g. {example}) or 2026-11-29"
        raise TimestampError(missing)
    iso = f"{year:04d}-{month:02d}-{day:02d}"
    return iso if time is None else f"{iso}T{time}"


def _time_of_day(rest: str, shown: str) -> str | None | bool:
    """The time after a people's date as "HH:MM:SS" (None when there is none, False
    when `rest` is not a time). TimestampError for a time no clock shows."""
    if not rest.strip():
        return None
    t = _TIME.fullmatch(rest.rstrip())
    if t is None:
        return False
    hour, minute, second, half = int(t[1]), int(t[2] or 0), int(t[3] or 0), t[4]
    if t[2] is None and half is None:
        return False  # "29/11/2026 13" is not a time
    if half is not None:
        if not 1 <= hour <= 12:
            raise TimestampError(f"{shown!r}: {hour} {half.upper()}M is not a time of day "
                                 "(12-hour times run from 1 to 12)")
        hour = hour % 12 + (12 if half.lower() == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise TimestampError(f"{shown!r}: {t[1]}:{t[2]} is not a time of day")
    return f"{hour:02d}:{minute:02d}:{second:02d}"


def parse_input_timestamp(value: str | datetime | date) -> datetime:
    """An input timestamp → naive UTC, the stored form.

    Accepts ISO 8601 text ("2026-11-29T01:30:00+05:30", "2026-11-29 01:30", "…Z",
    a bare date "2026-11-29" = the start of that brand day), a datetime or a date.
    Without an offset the wall-clock time is read in BRAND_TIMEZONE (see `to_utc` for
    the daylight-saving gap and fold); with one it is converted to UTC.
    Raises TimestampError naming the expected form, or the supported calendar
    (MIN_DATE..MAX_DATE) for a date outside it.
    """
    if isinstance(value, datetime):
        check_supported(value.date(), "the time")
        return to_utc(value)
    if isinstance(value, date):
        return day_start(check_supported(value))
    if not isinstance(value, str):
        raise TimestampError(f"expected an ISO 8601 timestamp such as 2026-11-29T13:30:00+05:30, "
                             f"got {type(value).__name__}")
    text = value.strip()
    if (missing := _impossible_day(text)) is not None:
        raise TimestampError(missing)
    try:
        if len(text) == 10:
            return parse_input_timestamp(date.fromisoformat(text))
        return parse_input_timestamp(datetime.fromisoformat(text))
    except TimestampError:
        raise
    except ValueError:
        raise TimestampError(f"{value[:40]!r} is not an ISO 8601 timestamp; write e.g. "
                             "2026-11-29T13:30:00+05:30, or without an offset for "
                             f"{zone_name()} time") from None

"""The brand calendar (mini_crm.core.brand_time) in Asia/Kolkata and across London's DST."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest

from mini_crm.core import brand_time
from mini_crm.settings import get_settings


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    def use(name: str) -> None:
        monkeypatch.setenv("BRAND_TIMEZONE", name)
        get_settings.cache_clear()
    use("Asia/Kolkata")
    yield use
    monkeypatch.delenv("BRAND_TIMEZONE")
    get_settings.cache_clear()


def test_kolkata_day_bounds_and_the_early_morning_boundary(zone: object) -> None:
    start, end = brand_time.day_bounds(date(2026, 11, 29))
    assert (start, end) == (datetime(2026, 11, 28, 18, 30), datetime(2026, 11, 29, 18, 30))
    # 01:30 IST on the 29th is 20:00 UTC on the 28th: the brand's 29th.
    assert brand_time.local_date(datetime(2026, 11, 28, 20, 0)) == date(2026, 11, 29)
    assert brand_time.local_date(datetime(2026, 11, 28, 18, 29, 59)) == date(2026, 11, 28)
    assert brand_time.local_date(datetime(2026, 11, 28, 18, 30)) == date(2026, 11, 29)


def test_london_days_across_daylight_saving(zone: object) -> None:
    zone("Europe/London")  # type: ignore[operator]
    spring = brand_time.day_bounds(date(2026, 3, 29))  # clocks go forward: 23 hours
    assert spring == (datetime(2026, 3, 29, 0, 0), datetime(2026, 3, 29, 23, 0))
    autumn = brand_time.day_bounds(date(2026, 10, 25))  # clocks go back: 25 hours
    assert autumn == (datetime(2026, 10, 24, 23, 0), datetime(2026, 10, 26, 0, 0))
    assert brand_time.local_date(datetime(2026, 7, 1, 23, 30)) == date(2026, 7, 2)
    assert brand_time.local_date(datetime(2026, 12, 1, 23, 30)) == date(2026, 12, 1)
    assert brand_time.days_bounds(date(2026, 3, 1), date(2026, 10, 31)) == (
        datetime(2026, 3, 1, 0, 0), datetime(2026, 11, 1, 0, 0))


def test_input_timestamps_without_offset_are_brand_time(zone: object) -> None:
    assert brand_time.parse_input_timestamp("2026-11-29T01:30:00") == datetime(2026, 11, 28, 20)
    assert brand_time.parse_input_timestamp("2026-11-29 01:30") == datetime(2026, 11, 28, 20)
    assert brand_time.parse_input_timestamp("2026-11-29T01:30:00+05:30") == \
        datetime(2026, 11, 28, 20)
    assert brand_time.parse_input_timestamp("2026-11-29T01:30:00Z") == datetime(2026, 11, 29, 1, 30)
    assert brand_time.parse_input_timestamp("2026-11-29") == datetime(2026, 11, 28, 18, 30)
    assert brand_time.parse_input_timestamp(datetime(2026, 11, 29, 1, 30)) == \
        datetime(2026, 11, 28, 20)
    with pytest.raises(brand_time.TimestampError, match="ISO 8601"):
        brand_time.parse_input_timestamp("29/11/2026")


def test_input_timestamps_in_a_dst_zone(zone: object) -> None:
    zone("Europe/London")  # type: ignore[operator]
    assert brand_time.parse_input_timestamp("2026-07-01T10:00") == datetime(2026, 7, 1, 9)
    assert brand_time.parse_input_timestamp("2026-12-01T10:00") == datetime(2026, 12, 1, 10)
    # 01:30 happens twice on 25 Oct 2026: the first (BST) is taken.
    assert brand_time.parse_input_timestamp("2026-10-25T01:30") == datetime(2026, 10, 25, 0, 30)
    # 01:30 never happens on 29 Mar 2026: read with the offset before the change.
    assert brand_time.parse_input_timestamp("2026-03-29T01:30") == datetime(2026, 3, 29, 1, 30)


def test_named_periods_are_brand_calendar_periods(zone: object) -> None:
    # 20:00 UTC on 31 Dec 2026 is already 1 Jan 2027 in Kolkata.
    now = datetime(2026, 12, 31, 20, 0)
    assert brand_time.today(now) == date(2027, 1, 1)
    assert brand_time.period("this_year", now) == (date(2027, 1, 1), date(2027, 12, 31))
    assert brand_time.period("last_year", now) == (date(2026, 1, 1), date(2026, 12, 31))
    assert brand_time.period("this_month", now) == (date(2027, 1, 1), date(2027, 1, 31))
    assert brand_time.period("last_month", now) == (date(2026, 12, 1), date(2026, 12, 31))
    assert brand_time.period("last_week", now) == (date(2026, 12, 21), date(2026, 12, 27))
    assert brand_time.period("this_quarter", now) == (date(2027, 1, 1), date(2027, 1, 1))
    assert brand_time.period("last_quarter", now) == (date(2026, 10, 1), date(2026, 12, 31))
    mid = datetime(2026, 8, 15, 6, 0)
    assert brand_time.period("this_quarter", mid) == (date(2026, 7, 1), date(2026, 8, 15))
    assert brand_time.period("last_quarter", mid) == (date(2026, 4, 1), date(2026, 6, 30))
    assert brand_time.period("yesterday", now) == (date(2026, 12, 31), date(2026, 12, 31))
    assert brand_time.last_days(30, now) == (date(2026, 12, 3), date(2027, 1, 1))
    with pytest.raises(ValueError, match="unknown period"):
        brand_time.period("next_year", now)


def test_an_unknown_zone_is_a_clear_error(zone: object) -> None:
    zone("Mars/Olympus")  # type: ignore[operator]
    with pytest.raises(ValueError, match="BRAND_TIMEZONE 'Mars/Olympus'"):
        brand_time.today()


@pytest.mark.parametrize(("text", "why"), [
    ("2026-02-30", "2026-02-30 is not a date (February has 28 days in 2026)"),
    ("2024-02-30T10:00:00Z", "2024-02-30 is not a date (February has 29 days in 2024)"),
    ("31/04/2026", "31/04/2026 is not a date (April has 30 days in 2026)"),
    ("2026-13-01", "2026-13-01 is not a date (there is no month 13)")])
def test_one_sentence_for_a_day_the_calendar_lacks(text: str, why: str) -> None:
    with pytest.raises(brand_time.TimestampError) as by_day:
        brand_time.read_day(text)
    assert str(by_day.value) == why
    if "/" not in text:  # the same words from an input timestamp (schedule_at, API, CSV)
        with pytest.raises(brand_time.TimestampError) as by_timestamp:
            brand_time.parse_input_timestamp(text)
        assert str(by_timestamp.value) == why


def test_read_day_takes_iso_and_people_dates_only() -> None:
    assert brand_time.read_day("2026-11-29") == date(2026, 11, 29)
    assert brand_time.read_day(" 29/11/2026 ") == date(2026, 11, 29)
    assert brand_time.read_day("2026-11-29T23:30:00+05:30") == date(2026, 11, 29)
    assert brand_time.read_day("2026-11-29abc") is None
    assert brand_time.read_day("soon") is None

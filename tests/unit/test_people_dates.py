"""brand_time.parse_people_date reads the dates spreadsheets write: numbers in
DATE_ORDER, the month in letters, 24- and 12-hour times (h25)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mini_crm.core import brand_time
from mini_crm.settings import get_settings


@pytest.fixture
def mdy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATE_ORDER", "MDY")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("DATE_ORDER")
    get_settings.cache_clear()


@pytest.mark.parametrize(("text", "iso"), [
    ("29/11/2026", "2026-11-29"),
    ("29-11-2026 13:30", "2026-11-29T13:30:00"),
    ("29/11/2026 1:30 PM", "2026-11-29T13:30:00"),
    ("29/11/2026 1:30pm", "2026-11-29T13:30:00"),
    ("29/11/2026 12:15 AM", "2026-11-29T00:15:00"),
    ("29/11/2026 12 PM", "2026-11-29T12:00:00"),
    ("29-Nov-2026", "2026-11-29"),
    ("29 Nov 2026", "2026-11-29"),
    ("29 november 2026", "2026-11-29"),
    ("Nov 29, 2026", "2026-11-29"),
    ("Sept 3 2026", "2026-09-03"),
    ("29-Nov-2026 1:30 p.m.", "2026-11-29T13:30:00"),
    ("2026-11-29", None),  # ISO: the caller's own reading
    ("29 Nov 26", None),  # two-digit years are not read
    ("29/11/2026 13", None),  # not a time
    ("Foo 29 2026", None),  # not a month
])
def test_people_dates(text: str, iso: str | None) -> None:
    assert brand_time.parse_people_date(text) == iso


@pytest.mark.parametrize(("text", "why"), [
    ("30-Feb-2026", "February has 28 days in 2026"),
    ("29/11/2026 13:30 PM", "13 PM is not a time of day"),
    ("29/11/2026 25:00", "25:00 is not a time of day"),
    ("11/29/2026", "there is no month 29"),
])
def test_impossible_people_dates_say_why(text: str, why: str) -> None:
    with pytest.raises(brand_time.TimestampError, match=why):
        brand_time.parse_people_date(text)


def test_month_names_read_the_same_in_either_order(mdy: None) -> None:
    assert brand_time.parse_people_date("11/29/2026 1:30 PM") == "2026-11-29T13:30:00"
    assert brand_time.parse_people_date("29-Nov-2026") == "2026-11-29"
    assert brand_time.people_date_shapes().startswith("11/29/2026, 11-29-2026")

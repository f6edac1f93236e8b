"""Plain English never silently misreads a date (issue 14, second round): impossible days
are refused with what was wrong, "May" in a list of months is the month, "last month" is
the previous calendar month, and "Diwali week" is a week. Brand day: Friday 20 Nov 2026."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mini_crm.core.ai.nl import parse
from mini_crm.core.ai.nl.date_words import day_date, numeric

TODAY = date(2026, 11, 20)
BIRTH = {"birthday_month": list(range(1, 13))}


def p(text: str, today: date = TODAY):  # noqa: ANN201 - test helper
    return parse(text, cities=["Mumbai", "Pune"], attribute_keys=list(BIRTH),
                 attribute_values=BIRTH, today=today)


def ordered(first: str, last: str, op: str = ">", value: int = 0,
            field: str = "window_order_count") -> dict[str, Any]:
    return {"field": field, "operator": op, "value": value,
            "window": {"from": first, "to": last}}


@pytest.mark.parametrize(("text", "why"), [
    ("customers who ordered in 2026-02-30", "2026-02-30 is not a date (February has 28 "
                                            "days in 2026)"),
    ("ordered on 31/04/2026", "31/04/2026 is not a date (April has 30 days in 2026)"),
    ("ordered on 31-04-2026", "31-04-2026 is not a date"),
    ("ordered in Feb 30", "30 February is not a date"),
    ("ordered on 30th Feb", "30 February is not a date"),
    ("ordered on the 30th of February", "30 February is not a date"),
    ("ordered on February 30th, 2026", "30 February 2026 is not a date"),
    ("ordered on 30 Feb 2026", "30 February 2026 is not a date"),
    ("ordered on 29 Feb 2025", "29 February 2025 is not a date"),
    ("ordered since 2026-13-01", "there is no month 13"),  # was a ValueError (a 500)
    ("ordered on 04/30/2026", "there is no month 30"),  # day/month/year: says how to write it
    ("joined on 32 March", "32 March is not a date"),
])
def test_an_impossible_date_is_refused_with_what_was_wrong(text: str, why: str) -> None:
    got = p(text)
    assert got.rules["rules"] == [], text  # never clamped to a nearby day or the month
    assert len(got.unparsed) == 1 and why in got.unparsed[0], got.unparsed


def test_the_rest_of_the_prompt_still_reads_when_a_date_is_refused() -> None:
    got = p("customers in Pune, ordered on 30 Feb 2026")
    assert got.rules["rules"] == [{"field": "city", "operator": "in", "value": ["Pune"]}]
    assert "30 February 2026 is not a date" in got.unparsed[0]


@pytest.mark.parametrize(("text", "first", "last"), [
    ("ordered on 2026-02-28", "2026-02-28", "2026-02-28"),
    ("ordered on 30/04/2026", "2026-04-30", "2026-04-30"),
    ("ordered on 5.3.2026", "2026-03-05", "2026-03-05"),  # day/month/year
    ("ordered on 3rd March 2026", "2026-03-03", "2026-03-03"),
    ("ordered on 1 March 2026", "2026-03-01", "2026-03-01"),  # a day, not March (was March)
    ("ordered on March 15", "2026-03-15", "2026-03-15"),
    ("ordered on the 25th of December", "2025-12-25", "2025-12-25"),  # latest not in future
    ("ordered on Feb 29", "2024-02-29", "2024-02-29"),  # the latest 29 February
    ("ordered between 1st March and 15th April 2026", "2026-03-01", "2026-04-15"),
])
def test_written_days_are_that_day(text: str, first: str, last: str) -> None:
    got = p(text)
    assert got.rules["rules"] == [ordered(first, last)], got.rules
    assert got.unparsed == []


def test_a_number_after_a_month_that_counts_something_is_not_a_day() -> None:
    assert p("ordered in March 3 times").rules["rules"] == [
        ordered("2026-03-01", "2026-03-31", "=", 3)]


@pytest.mark.parametrize(("text", "months"), [
    ("birthdays in March, April or May", [3, 4, 5]),
    ("born in Jan, Feb or May", [1, 2, 5]),
    ("birthday in May or June", [5, 6]),
    ("birthdays in March and May", [3, 5]),
])
def test_may_in_a_list_of_months_is_the_month(text: str, months: list[int]) -> None:
    got = p(text)
    assert got.rules["rules"] == [{"field": "attributes.birthday_month", "operator": "in",
                                   "value": months}]
    assert got.unparsed == []


def test_may_is_a_month_after_a_date_word_and_a_verb_otherwise() -> None:
    assert p("ordered in March or May").rules["rules"] == [
        {"combinator": "or", "not": False, "rules": [
            ordered("2026-03-01", "2026-03-31"), ordered("2026-05-01", "2026-05-31")]}]
    assert p("ordered since May").rules["rules"] == [
        {"field": "last_order_at", "operator": ">=", "value": "2026-05-01"}]
    assert p("ordered between March and May").rules["rules"] == [
        ordered("2026-03-01", "2026-05-31")]
    got = p("customers in Pune who may buy")
    assert got.rules["rules"] == [{"field": "city", "operator": "in", "value": ["Pune"]}]
    assert got.unparsed == ["may buy"]  # a verb: reported, never a month
    got = p("ordered in March and may buy again")
    assert got.rules["rules"] == [ordered("2026-03-01", "2026-03-31")]
    assert "may buy again" in got.unparsed


@pytest.mark.parametrize(("text", "rule"), [
    ("ordered last month", ordered("2026-10-01", "2026-10-31")),
    ("ordered previous month", ordered("2026-10-01", "2026-10-31")),
    ("ordered during last month", ordered("2026-10-01", "2026-10-31")),
    ("bought last week", ordered("2026-11-09", "2026-11-15")),  # Monday to Sunday
    ("ordered last year", ordered("2025-01-01", "2025-12-31")),
    ("haven't ordered last month", ordered("2026-10-01", "2026-10-31", "=", 0)),
    ("spent over 5k last month", ordered("2026-10-01", "2026-10-31", ">", 5000,
                                         "window_spend")),
    ("more than 3 orders last year", ordered("2025-01-01", "2025-12-31", ">", 3)),
    ("joined last month", {"field": "created_at", "operator": "between",
                           "value": ["2026-10-01", "2026-10-31"]}),
    ("last ordered last month", {"field": "last_order_at", "operator": "between",
                                 "value": ["2026-10-01", "2026-10-31"]}),
    # the rolling windows stay rolling
    ("ordered in the last month", {"field": "days_since_last_order", "operator": "<",
                                   "value": 30}),
    ("ordered in the past week", {"field": "days_since_last_order", "operator": "<",
                                  "value": 7}),
    ("joined in the last year", {"field": "days_since_signup", "operator": "<",
                                 "value": 365}),
    ("ordered in the last 30 days", {"field": "days_since_last_order", "operator": "<",
                                     "value": 30}),
])
def test_last_month_is_the_previous_calendar_month(text: str, rule: dict[str, Any]) -> None:
    got = p(text)
    assert got.rules["rules"] == [rule], got.rules
    assert got.unparsed == []


def test_last_month_in_january_is_december_of_the_year_before() -> None:
    assert p("ordered last month", date(2027, 1, 10)).rules["rules"] == [
        ordered("2026-12-01", "2026-12-31")]


@pytest.mark.parametrize(("text", "rule"), [
    # the previous calendar quarter (Jul-Sep on 20 Nov), like "last month"
    ("ordered last quarter", ordered("2026-07-01", "2026-09-30")),
    ("ordered previous quarter", ordered("2026-07-01", "2026-09-30")),
    ("spent over 5k last quarter", ordered("2026-07-01", "2026-09-30", ">", 5000,
                                           "window_spend")),
    ("haven't ordered last quarter", ordered("2026-07-01", "2026-09-30", "=", 0)),
    ("joined last quarter", {"field": "created_at", "operator": "between",
                             "value": ["2026-07-01", "2026-09-30"]}),
    # this quarter: from its first day to today
    ("ordered this quarter", ordered("2026-10-01", "2026-11-20")),
    ("more than 2 orders this quarter", ordered("2026-10-01", "2026-11-20", ">", 2)),
    ("joined in the current quarter", {"field": "created_at", "operator": "between",
                                       "value": ["2026-10-01", "2026-11-20"]}),
    # "in the last quarter" stays the rolling 90 days, as "in the last month" is 30
    ("ordered in the last quarter", {"field": "days_since_last_order", "operator": "<",
                                     "value": 90}),
])
def test_last_quarter_is_the_previous_calendar_quarter(text: str,
                                                       rule: dict[str, Any]) -> None:
    got = p(text)
    assert got.rules["rules"] == [rule], got.rules
    assert got.unparsed == []


def test_quarters_turn_over_at_the_year() -> None:
    assert p("ordered last quarter", date(2027, 2, 14)).rules["rules"] == [
        ordered("2026-10-01", "2026-12-31")]
    assert p("ordered this quarter", date(2027, 1, 1)).rules["rules"] == [
        ordered("2027-01-01", "2027-01-01")]
    assert p("ordered last quarter", date(2026, 4, 1)).rules["rules"] == [
        ordered("2026-01-01", "2026-03-31")]


def test_birthday_last_month_is_still_the_birthday_month() -> None:
    assert p("birthday last month").rules["rules"] == [
        {"field": "attributes.birthday_month", "operator": "=", "value": 10}]


@pytest.mark.parametrize(("text", "first", "last"), [
    ("ordered last Diwali week", "2026-11-05", "2026-11-11"),  # Diwali 8 Nov 2026
    ("ordered in Diwali week", "2026-11-05", "2026-11-11"),
    ("bought in the week of Diwali", "2026-11-05", "2026-11-11"),
    ("ordered last Christmas week", "2025-12-22", "2025-12-28"),
])
def test_a_holiday_week_is_the_seven_days_around_it(text: str, first: str, last: str) -> None:
    got = p(text)
    assert got.rules["rules"] == [ordered(first, last)]
    assert got.unparsed == []  # "week" was left over


def test_a_season_has_no_holiday_week() -> None:
    got = p("ordered in festive season week")
    assert got.rules["rules"] == [] and "already a span" in got.unparsed[0]


def test_day_date_and_numeric_say_what_is_wrong() -> None:
    assert day_date(2024, 2, 29) == date(2024, 2, 29)
    assert day_date(None, 2, 29) == date(2024, 2, 29)  # some year has it
    assert "30 February is not a date" in str(day_date(None, 2, 30))
    assert "April has 30 days in 2026" in str(day_date(2026, 4, 31))
    assert numeric("31/04/2026") == (2026, 4, 31)
    assert numeric("2026-02-30") == (2026, 2, 30)


@pytest.mark.parametrize(("text", "first", "last"), [
    # today is 20 Nov 2026: January is January 2026, so March is March 2025
    ("ordered from March to January", "2025-03-01", "2026-01-31"),
    ("from December to February", "2025-12-01", "2026-02-28"),
    ("ordered from 20 December to 5 January", "2025-12-20", "2026-01-05"),
    # not wrapping: one range, not "since March" and "in May"
    ("ordered from March to May", "2026-03-01", "2026-05-31"),
    # years written the other way round: the same range, as with "between"
    ("ordered from 2026-03-01 to 2026-01-01", "2026-01-01", "2026-03-01"),
])
def test_from_one_month_to_another_is_one_range(text: str, first: str, last: str) -> None:
    assert p(text).rules["rules"] == [ordered(first, last)]


def test_a_wrapping_range_on_the_signup_is_one_range_too() -> None:
    assert p("signed up from November to February").rules["rules"] == [
        {"field": "created_at", "operator": "between", "value": ["2025-11-01", "2026-02-28"]}]

"""Plain English: a negation over a window, "today" / "yesterday" / "this week", and
refusals that name the part and why (no database)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mini_crm.core.ai.nl import parse
from mini_crm.core.segments import parse_rules

TODAY = date(2026, 11, 20)  # a Friday; its week began on Monday 16 November
LAST_YEAR = {"from": "2025-01-01", "to": "2025-12-31"}
OCTOBER = {"from": "2026-10-01", "to": "2026-10-31"}


def p(text: str):  # noqa: ANN201 - test helper
    parsed = parse(text, cities=["Mumbai", "Pune"], attribute_keys=[], today=TODAY)
    parse_rules(parsed.rules)  # always valid rules JSON (no private markers left in it)
    return parsed


def rules(text: str) -> list[dict[str, Any]]:
    return p(text).rules["rules"]


# --- 1. a negated clause with a count or spend and a window ---------------------------

@pytest.mark.parametrize("text, rule", [
    # NOT(more than 3 orders in 2025): at most 3, none included (was "no 2025 orders AND
    # lifetime order_count > 3")
    ("customers who did not place more than 3 orders last year",
     {"field": "window_order_count", "operator": "<=", "value": 3, "window": LAST_YEAR}),
    ("did not spend over 10k last month",
     {"field": "window_spend", "operator": "<=", "value": 10000, "window": OCTOBER}),
    ("didn't spend more than 5000 in the last 90 days",
     {"field": "window_spend", "operator": "<=", "value": 5000, "window": {"last_days": 90}}),
    ("haven't bought more than 2 times in the last 6 months",
     {"field": "window_order_count", "operator": "<=", "value": 2,
      "window": {"last_days": 180}}),
    ("not more than 3 orders last year",
     {"field": "window_order_count", "operator": "<=", "value": 3, "window": LAST_YEAR}),
    ("haven't spent ₹500 in the last 30 days",
     {"field": "window_spend", "operator": "<", "value": 500, "window": {"last_days": 30}}),
    ("did not place at least 2 orders in 2025",
     {"field": "window_order_count", "operator": "<", "value": 2, "window": LAST_YEAR}),
])
def test_a_negated_window_negates_the_windowed_comparison(text: str, rule: dict) -> None:
    parsed = p(text)
    assert parsed.rules["rules"] == [rule], parsed.explanation
    assert parsed.unparsed == [] and parsed.refused == []


@pytest.mark.parametrize("text, op", [("spent over 5k since March", ">"),
                                      ("didn't spend over 5k since March", "<=")])
def test_since_with_a_spend_is_a_window_from_that_day_to_today(text: str, op: str) -> None:
    # was "last order since March (or not) AND lifetime spend over ₹5,000"
    assert rules(text) == [{"field": "window_spend", "operator": op, "value": 5000,
                            "window": {"from": "2026-03-01", "to": "2026-11-20"}}]


def test_since_alone_stays_the_last_order_date() -> None:
    assert rules("ordered since March") == [
        {"field": "last_order_at", "operator": ">=", "value": "2026-03-01"}]
    assert rules("lapsed since Diwali") == [
        {"field": "last_order_at", "operator": "<", "value": "2026-11-08"}]


def test_a_negated_range_over_a_window_is_not_of_the_windowed_range() -> None:
    [rule] = rules("didn't place between 2 and 5 orders last year")
    assert rule == {"combinator": "and", "not": True, "rules": [
        {"field": "window_order_count", "operator": "between", "value": [2, 5],
         "window": LAST_YEAR}]}


def test_a_negated_window_with_items_keeps_the_items() -> None:
    [rule] = rules("haven't bought category shoes more than twice last year")
    assert rule["field"] == "window_order_count" and rule["operator"] == "<="
    assert rule["items_match"] == {"key": "category", "value": "shoes"}


def test_a_negated_window_without_a_count_is_still_no_order_in_it() -> None:
    assert rules("did not order last year") == [
        {"field": "window_order_count", "operator": "=", "value": 0, "window": LAST_YEAR}]
    [group] = rules("haven't ordered in the last 90 days")
    assert group["rules"][0] == {"field": "days_since_last_order", "operator": ">=",
                                 "value": 90}


def test_the_explanation_says_at_most_in_the_window() -> None:
    assert p("did not spend over 10k last month").explanation == [
        "“not spend over 10k last month” → spent at most ₹10,000 between 1 Oct 2026 and "
        "31 Oct 2026"]


# --- 2. today, yesterday, this week -----------------------------------------------------

def _window(first: str, last: str) -> dict[str, Any]:
    return {"field": "window_order_count", "operator": ">", "value": 0,
            "window": {"from": first, "to": last}}


@pytest.mark.parametrize("text, expected", [
    ("customers who placed an order today", [_window("2026-11-20", "2026-11-20")]),
    ("ordered today", [_window("2026-11-20", "2026-11-20")]),
    ("ordered yesterday", [_window("2026-11-19", "2026-11-19")]),
    ("ordered this week", [_window("2026-11-16", "2026-11-20")]),  # Monday to today
    ("bought yesterday or today", [_window("2026-11-19", "2026-11-20")]),  # one span
    ("last ordered today",
     [{"field": "last_order_at", "operator": "between", "value": ["2026-11-20"] * 2}]),
    ("signed up today",
     [{"field": "created_at", "operator": "between", "value": ["2026-11-20"] * 2}]),
    ("joined yesterday",
     [{"field": "created_at", "operator": "between", "value": ["2026-11-19"] * 2}]),
    ("signed up this week",
     [{"field": "created_at", "operator": "between", "value": ["2026-11-16", "2026-11-20"]}]),
    ("haven't ordered today",
     [{**_window("2026-11-20", "2026-11-20"), "operator": "=", "value": 0}]),
    ("spent over 5000 this week",
     [{"field": "window_spend", "operator": ">", "value": 5000,
       "window": {"from": "2026-11-16", "to": "2026-11-20"}}]),
])
def test_day_words_are_dates(text: str, expected: list[dict[str, Any]]) -> None:
    parsed = p(text)
    assert parsed.rules["rules"] == expected, parsed.explanation
    assert parsed.unparsed == []


def test_one_day_reads_on_that_day() -> None:
    assert p("last ordered today").explanation == [
        "“last ordered today” → last ordered on 20 Nov 2026"]


def test_a_day_word_on_its_own_is_reported_not_dropped() -> None:
    # "customers in Mumbai today" may mean "as of now": no order or sign-up word says
    # what happened today, so it is refused with how to say it, never dropped silently
    parsed = p("customers in Mumbai today")
    assert parsed.rules["rules"] == [{"field": "city", "operator": "in", "value": ["Mumbai"]}]
    assert parsed.refused == ["“today”: on its own it does not say what happened then: "
                              "say “ordered today” or “signed up today”"]


# --- 3. refusals name the part and why --------------------------------------------------

@pytest.mark.parametrize("text, why", [
    ("spent over ₹99999999999999999999",
     "₹99,999,999,999,999,999,999 is more than an amount can be: the most is "
     "₹1,000,000,000,000"),
    ("spent between 5 and 99999999999999999",
     "₹99,999,999,999,999,999 is more than an amount can be"),
    ("more than 99999999999999 orders",
     "99,999,999,999,999 is more than a count of orders can be"),
    ("in the last 99999 days",
     "99999 days ago is before the earliest supported date 1900-01-01"),
    ("haven't ordered in 99999 days",
     "99999 days ago is before the earliest supported date 1900-01-01"),
    ("ordered in the last 40000 days",
     "40000 days is longer than a period can be: the most is 36,500 days, 100 years"),
    ("signed up in 1850", "1850 is before the earliest supported date 1900-01-01"),
    ("signed up before March 1850", "1850 is before the earliest supported date 1900-01-01"),
    ("signed up on 1850-03-01", "1850 is before the earliest supported date 1900-01-01"),
])
def test_a_refusal_names_the_part_and_why(text: str, why: str) -> None:
    parsed = p(text)
    assert parsed.rules["rules"] == []
    assert len(parsed.refused) == 1 and why in parsed.refused[0], parsed.refused
    assert parsed.refused[0].startswith("“")  # the prompt's words, quoted


def test_recently_alone_is_refused_with_how_to_say_it() -> None:
    # "recently" was filler: "signed up recently" answered not_understood with nothing
    # named, "customers in Pune who ordered recently" was Pune alone
    parsed = p("customers in Pune who ordered recently")
    assert parsed.rules["rules"] == [{"field": "city", "operator": "in", "value": ["Pune"]}]
    assert parsed.refused == ["“ordered recently”: “recently” does not say how long: say "
                              "e.g. “in the last 30 days”"]
    assert "“recently” does not say how long" in p("signed up recently").refused[0]
    # with a period it adds nothing and is not reported
    recent = p("recently ordered in the last 30 days")
    assert recent.rules["rules"] == [
        {"field": "days_since_last_order", "operator": "<", "value": 30}]
    assert recent.unparsed == [] and recent.refused == []


def test_numbers_that_are_not_years_stay_numbers() -> None:
    assert rules("spent from 1500 to 3000") == [
        {"field": "total_spend", "operator": "between", "value": [1500, 3000]}]

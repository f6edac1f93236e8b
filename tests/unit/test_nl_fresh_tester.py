"""Plain English, the misreads a fresh tester still found (h26): a festival with a year
is that year's, a bare mail provider is its domains, "phone is missing" is a missing
phone, "A or B in Pune" puts Pune on both, and a city list keeps an unknown word out
without splitting into an AND of cities."""

from __future__ import annotations

from datetime import date

import pytest

from mini_crm.core.ai.nl import parse

TODAY = date(2026, 11, 20)
CITIES = ["Mumbai", "Pune", "Delhi"]


def p(text: str):  # noqa: ANN201 - test helper
    return parse(text, cities=CITIES, attribute_keys=[], today=TODAY,
                 email_domains=["gmail.com", "yahoo.com", "yahoo.co.in", "acme.in"])


def rules(text: str) -> list:
    return p(text).rules["rules"]


# --- 1. a named date with a year ----------------------------------------------------------

@pytest.mark.parametrize(("text", "day"), [
    ("ordered since Holi 2025", "2025-03-14"),
    ("since Holi of 2025", "2025-03-14"),
    ("ordered since Holi in 2025", "2025-03-14"),
    ("customers who ordered since Diwali 2024", "2024-10-31"),
    ("ordered since last Diwali 2024", "2024-10-31"),  # the year wins over "last"
])
def test_a_festival_with_a_year_is_that_years(text: str, day: str) -> None:
    got = p(text)
    assert got.rules["rules"] == [{"field": "last_order_at", "operator": ">=", "value": day}]
    assert got.unparsed == [] and got.warnings == []


@pytest.mark.parametrize("text", ["ordered in Diwali week 2025", "ordered in Diwali 2025 week"])
def test_a_festival_week_with_a_year(text: str) -> None:
    assert rules(text) == [{"field": "window_order_count", "operator": ">", "value": 0,
                            "window": {"from": "2025-10-17", "to": "2025-10-23"}}]


@pytest.mark.parametrize(("text", "why"), [
    ("ordered since Diwali 2040", "Diwali 2040: the holiday calendar covers 2015–2035 only"),
    ("ordered since Diwali 2027", "“Diwali 2027” is in the future"),
    ("signed up after Diwali 2027", "“Diwali 2027” is in the future: no one can have signed up"),
])
def test_a_festival_year_the_calendar_cannot_use_is_refused(text: str, why: str) -> None:
    got = p(text)
    assert got.rules["rules"] == []
    assert any(why in r for r in got.refused), got.refused


def test_before_a_festival_still_to_come_reads() -> None:
    assert rules("ordered before Diwali 2030") == [
        {"field": "last_order_at", "operator": "<", "value": "2030-10-26"}]


# --- 3. a bare mail provider after "email" -------------------------------------------------

YAHOO = {"combinator": "or", "not": False, "rules": [
    {"field": "email", "operator": "ends_with", "value": "@yahoo.com"},
    {"field": "email", "operator": "ends_with", "value": "@yahoo.co.in"}]}


@pytest.mark.parametrize(("text", "rule"), [
    ("Pune customers with email at gmail",
     {"field": "email", "operator": "ends_with", "value": "@gmail.com"}),
    ("customers whose email ends with yahoo", YAHOO),
    ("email is gmail", {"field": "email", "operator": "ends_with", "value": "@gmail.com"}),
    ("email at googlemail", {"field": "email", "operator": "ends_with", "value": "@gmail.com"}),
    # a name no known domain has: any address at that name
    ("email at acme", {"field": "email", "operator": "ends_with", "value": "@acme.in"}),
    ("email at zeta", {"field": "email", "operator": "contains", "value": "@zeta."}),
    # with its domain, as before
    ("emails at acme.in", {"field": "email", "operator": "ends_with", "value": "@acme.in"}),
])
def test_a_bare_provider_is_its_domains(text: str, rule: dict) -> None:
    assert rules(text)[-1] == rule


# --- 4. "phone is missing" --------------------------------------------------------------

@pytest.mark.parametrize(("text", "op"), [
    ("customers whose phone is missing", "is_null"),
    ("customers whose phone is empty", "is_null"),
    ("phone is blank", "is_null"),
    ("customers with no phone", "is_null"),
    ("customers without a phone", "is_null"),
    ("phone is not missing", "is_not_null"),
    ("phone is not blank", "is_not_null"),
    ("phone is present", "is_not_null"),
    ("customers who have a phone", "is_not_null"),
])
def test_a_missing_value_is_is_null(text: str, op: str) -> None:
    assert rules(text) == [{"field": "phone", "operator": op}]


# --- 5. "A or B in Pune" ----------------------------------------------------------------

PUNE = {"field": "city", "operator": "in", "value": ["Pune"]}
SPEND = {"field": "total_spend", "operator": ">", "value": 5000}


def test_a_place_ending_an_or_applies_to_both() -> None:
    assert rules("spent over 5000 or ordered more than 10 times in Pune") == [
        {"combinator": "or", "not": False, "rules": [
            SPEND, {"field": "order_count", "operator": ">", "value": 10}]}, PUNE]


def test_an_alternative_is_read_whole() -> None:
    # a place already named: the last alternative keeps its own place, all of it together
    got = rules("in Delhi spent over 5000 or ordered 10 times in Pune")
    assert got[1] == {"combinator": "or", "not": False, "rules": [SPEND, {
        "combinator": "and", "not": False,
        "rules": [PUNE, {"field": "order_count", "operator": "=", "value": 10}]}]}
    # as before: "A who B or C" is A AND (B OR C)
    assert rules("in Pune who spent over 5000 or ordered 3 times") == [
        PUNE, {"combinator": "or", "not": False, "rules": [
            SPEND, {"field": "order_count", "operator": "=", "value": 3}]}]


# --- 6. a city list holding an unknown word -----------------------------------------------

@pytest.mark.parametrize(("text", "word", "warned"), [
    ("Pune, mumbay and Delhi customers", "mumbay", True),
    ("customers in Pune and mumbay and Delhi", "mumbay", True),
    ("customers in Pune, mumbay or Delhi", "mumbay", True),
    ("Pune, Xanadu and Delhi customers", "Xanadu", False),
])
def test_a_list_with_an_unknown_word_stays_one_list(text: str, word: str, warned: bool) -> None:
    got = p(text)
    assert got.rules["rules"] == [{"field": "city", "operator": "in", "value": ["Pune", "Delhi"]}]
    assert got.unparsed == [word]
    assert got.warnings == ([f"“{word}” is not a city in your data: did you mean Mumbai?"]
                            if warned else [])


def test_a_list_does_not_swallow_grammar() -> None:
    assert rules("in Pune and spent over 5000") == [
        PUNE, {"field": "total_spend", "operator": ">", "value": 5000}]


# --- 7. the guards both engines' rules pass ------------------------------------------------

def test_guards_rewrite_literal_readings_and_warn_about_the_future() -> None:
    from mini_crm.core.ai.nl.guards import guard_rules

    got, warnings = guard_rules({"combinator": "or", "not": False, "rules": [
        {"field": "email", "operator": "=", "value": "yahoo"},
        {"field": "phone", "operator": "!=", "value": "Empty"},
        {"field": "created_at", "operator": ">", "value": "2026-11-20"},
        {"field": "window_spend", "operator": ">", "value": 0,
         "window": {"from": "2027-01-01", "to": "2027-01-31"}},
        {"field": "last_order_at", "operator": "<", "value": "2030-01-01"}]}, TODAY, [])
    assert got["rules"][:2] == [YAHOO, {"field": "phone", "operator": "is_not_null"}]
    assert got["rules"][2:] == [
        {"field": "created_at", "operator": ">", "value": "2026-11-20"},
        {"field": "window_spend", "operator": ">", "value": 0,
         "window": {"from": "2027-01-01", "to": "2027-01-31"}},
        {"field": "last_order_at", "operator": "<", "value": "2030-01-01"}]
    assert [w.split("”")[1] for w in warnings] == [
        " is in the future: no one can have signed up then",
        " is in the future: no order can have been placed then"]


# --- found on the way: "on or after" ---------------------------------------------------

@pytest.mark.parametrize(("text", "rule"), [
    ("signed up on or after 1 March",
     {"field": "created_at", "operator": ">=", "value": "2026-03-01"}),
    ("ordered on or after 1 Nov 2026",
     {"field": "last_order_at", "operator": ">=", "value": "2026-11-01"}),
    ("ordered on or before 1 Nov 2026",
     {"field": "last_order_at", "operator": "<=", "value": "2026-11-01"}),
])
def test_on_or_after_is_one_bound_including_the_day(text: str, rule: dict) -> None:
    got = p(text)
    assert got.rules["rules"] == [rule] and got.unparsed == []

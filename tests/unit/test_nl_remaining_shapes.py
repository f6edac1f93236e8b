"""Plain English never silently misreads, the remaining shapes (h19): a misspelt city in
any position gets its "did you mean?", "recently" next to a lapse term is read (or
reported with why), and a time in the future is refused saying why, never applied."""

from __future__ import annotations

from datetime import date

import pytest

from mini_crm.core.ai.nl import parse
from mini_crm.core.ai.nl.terms import Term
from mini_crm.core.ai.vocabulary import DEFAULTS

TODAY = date(2026, 11, 20)
CITIES = ["Mumbai", "Pune", "Lucknow"]
BIRTH = {"birthday_month": list(range(1, 13))}
TERMS = {k: Term(k, *DEFAULTS[k]) for k in ("lapsed", "churned", "dormant", "at_risk", "new")}


def p(text: str, **kw):  # noqa: ANN003, ANN201 - test helper
    kw.setdefault("terms", TERMS)
    return parse(text, cities=CITIES, attribute_keys=["birthday_month"],
                 attribute_values=BIRTH, today=TODAY, **kw)


# --- 1. a near-miss of a city, wherever it stands ----------------------------------------

@pytest.mark.parametrize(("text", "word", "city"), [
    ("Mumbay customers", "Mumbay", "Mumbai"),  # the first word, before a people word
    ("mumbay customers who spent over 5k", "mumbay", "Mumbai"),  # lower-case, first
    ("Pume shoppers with more than 2 orders", "Pume", "Pune"),
    ("customers in Pune or mumbay", "mumbay", "Mumbai"),  # a list split at "or"
    ("customers in Pune, mumbay", "mumbay", "Mumbai"),  # and at a comma
    ("spent over 5k and Mumbay customers", "Mumbay", "Mumbai"),  # first of its clause
])
def test_a_near_miss_is_warned_about_in_any_slot(text: str, word: str, city: str) -> None:
    got = p(text)
    assert got.warnings == [f"“{word}” is not a city in your data: did you mean {city}?"]
    assert all(r.get("value") != [city] for r in got.rules["rules"])  # never applied
    assert any(word in u for u in got.unparsed)  # and still reported as unused


@pytest.mark.parametrize("text", [
    "sales customers in Pune",  # a clause with a city asks for no other place
    "Sales in Pune",  # sentence case, not before a people word
    "customers in Pune who like sales",
])
def test_a_common_word_stays_unsuggested(text: str) -> None:
    got = parse(text, cities=[*CITIES, "Salem"], attribute_keys=[], today=TODAY)
    assert got.warnings == []


# --- 2. "recently" with a lapse term -----------------------------------------------------

def _recent(low: int, high: int) -> dict:
    return {"combinator": "and", "not": False, "rules": [
        {"field": "order_count", "operator": ">=", "value": 1},
        {"field": "days_since_last_order", "operator": ">=", "value": low},
        {"field": "days_since_last_order", "operator": "<", "value": high}]}


@pytest.mark.parametrize(("text", "rule"), [
    ("recently lapsed customers", _recent(90, 180)),
    ("customers who recently lapsed", _recent(90, 180)),
    ("lapsed recently", _recent(90, 180)),
    ("lately churned shoppers", _recent(180, 360)),
    ("recently dormant customers", _recent(365, 730)),
])
def test_recently_with_a_lapse_term_is_within_its_own_window(text: str, rule: dict) -> None:
    got = p(text)
    assert got.rules["rules"] == [rule]
    assert got.unparsed == [] and got.refused == []
    assert any("last order" in line and "days ago" in line for line in got.explanation)


def test_recently_follows_an_edited_definition() -> None:
    lapsed = Term("lapsed", "lapsed", {"combinator": "and", "not": False, "rules": [
        {"field": "days_since_last_order", "operator": ">=", "value": 60}]}, "60 days idle")
    got = p("recently lapsed customers", terms={"lapsed": lapsed})
    assert got.rules["rules"] == [{"combinator": "and", "not": False, "rules": [
        {"field": "days_since_last_order", "operator": ">=", "value": 60},
        {"field": "days_since_last_order", "operator": "<", "value": 120}]}]


@pytest.mark.parametrize("text", ["recently at risk customers", "recently new customers"])
def test_recently_with_a_bounded_term_is_reported_with_why(text: str) -> None:
    got = p(text)
    assert len(got.rules["rules"]) == 1  # the term as defined
    assert any("adds nothing to" in r and "your definition already says when" in r
               for r in got.refused)


def test_recently_alone_is_still_refused() -> None:
    got = p("customers who ordered recently")
    assert got.rules["rules"] == []
    assert "does not say how long" in got.refused[0]


# --- 3. times in the future ---------------------------------------------------------------

@pytest.mark.parametrize(("text", "why"), [
    ("ordered tomorrow", "“tomorrow” is in the future: no order can have been placed then"),
    ("customers who ordered next week", "“next week” is in the future"),
    ("ordered next month", "“next month” is in the future"),  # never the birthday month
    ("ordered next year", "“next year” is in the future"),
    ("bought in the next 30 days", "“next 30 days” is in the future"),
    ("ordered in the coming weeks", "“coming weeks” is in the future"),
    ("ordered next Friday", "“next Friday” is in the future"),
    ("ordered in 2030", "“2030” is in the future"),
    ("ordered in December 2026", "“December 2026” is in the future"),
    ("ordered on 2027-01-05", "is in the future"),
    ("ordered since 2030", "“2030” is in the future"),
    ("ordered after 2027", "“2027” is in the future"),
    ("ordered after today", "“after today” is in the future"),
    ("haven't ordered since tomorrow", "“tomorrow” is in the future"),
    ("last ordered tomorrow", "“tomorrow” is in the future"),
    ("signed up in 2027", "“2027” is in the future: no one can have signed up then"),
    ("first ordered next week", "no first order can have been placed then"),
    ("customers next month", "no order or sign-up can have happened then"),
    ("ordered since next Diwali", "“next Diwali” is in the future"),
])
def test_a_future_time_is_refused_with_why_never_a_rule(text: str, why: str) -> None:
    got = p(text)
    assert got.rules["rules"] == []
    assert any(why in r for r in got.refused), got.refused


def test_a_future_clause_leaves_the_rest_of_the_prompt() -> None:
    got = p("Mumbai customers who ordered next month")
    assert got.rules["rules"] == [{"field": "city", "operator": "in", "value": ["Mumbai"]}]
    assert got.refused == ["“ordered next month”: “next month” is in the future: no order "
                           "can have been placed then"]


@pytest.mark.parametrize(("text", "rules"), [
    ("birthday next month",
     [{"field": "attributes.birthday_month", "operator": "=", "value": 12}]),
    ("birthday this month or next month", [{"combinator": "or", "not": False, "rules": [
        {"field": "attributes.birthday_month", "operator": "=", "value": 11},
        {"field": "attributes.birthday_month", "operator": "=", "value": 12}]}]),
    ("ordered before 2030",  # every order so far: true, so it is read
     [{"field": "last_order_at", "operator": "<", "value": "2030-01-01"}]),
    ("ordered in December",  # the latest December not in the future
     [{"field": "window_order_count", "operator": ">", "value": 0,
       "window": {"from": "2025-12-01", "to": "2025-12-31"}}]),
])
def test_a_birthday_or_a_past_time_is_still_read(text: str, rules: list) -> None:
    got = p(text)
    assert got.rules["rules"] == rules
    assert got.refused == []

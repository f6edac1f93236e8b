"""The offline plain-English parser, piece by piece (no database)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mini_crm.core.ai.nl import negate, parse
from mini_crm.core.ai.nl import tokens as lx
from mini_crm.core.segments import parse_rules

CITIES = ["Mumbai", "Pune", "Delhi", "Bengaluru", "New Delhi Cantonment"]
VALUES: dict[str, list[Any]] = {
    "loyalty_tier": ["gold", "silver", "platinum", "member"],
    "preferred_channel": ["whatsapp", "sms", "email"],
    "gender": ["female", "male"], "app_installed": [True, False],
    "birthday_month": list(range(1, 13)), "age_band": ["18-24", "25-34", "55+"],
    "acquisition_source": ["google_ads", "instagram"],
}
TODAY = date(2026, 5, 10)


def rules_of(text: str, **kw: Any) -> list[dict[str, Any]]:
    parsed = parse(text, cities=CITIES, attribute_keys=list(VALUES), attribute_values=VALUES,
                   email_domains=["gmail.com", "yahoo.com", "yahoo.co.in"], today=TODAY, **kw)
    parse_rules(parsed.rules)  # always valid rules JSON
    return parsed.rules["rules"]


def one(text: str) -> tuple[str, str, Any]:
    rules = rules_of(text)
    assert len(rules) == 1, rules
    r = rules[0]
    return r["field"], r["operator"], r.get("value")


NEVER = {"field": "last_order_at", "operator": "is_null"}


def or_never(text: str) -> tuple[str, str, Any]:
    """The rule of "haven't ordered …", which also includes customers who never ordered."""
    rules = rules_of(text)
    assert len(rules) == 1 and rules[0].get("combinator") == "or", rules
    first, never = rules[0]["rules"]
    assert never == NEVER
    return first["field"], first["operator"], first.get("value")


@pytest.mark.parametrize(("text", "value"), [
    ("₹5K", 5000), ("Rs 5,000", 5000), ("rs. 5000", 5000), ("5k", 5000), ("1.5 lakh", 150000),
    ("2 crore", 20_000_000), ("INR 500", 500), ("5000 rupees", 5000), ("1,50,000", 150000),
    ("2 lakhs", 200000), ("five thousand", 5000), ("₹ 2.5k", 2500), ("3 lacs", 300000),
    ("10 grand", 10000), ("₹1cr", 10_000_000),
])
def test_amounts(text: str, value: int) -> None:
    assert one(f"spent over {text}") == ("total_spend", ">", value)


@pytest.mark.parametrize(("text", "days"), [
    ("90 days", 90), ("3 weeks", 21), ("6 months", 180), ("a year", 365), ("2 years", 730),
    ("a fortnight", 14), ("one month", 30), ("twelve months", 365), ("a week", 7),
    ("half a year", 180), ("18 months", 540), ("a quarter", 90), ("10 yrs", 3650),
])
def test_periods(text: str, days: int) -> None:
    assert or_never(f"haven't ordered in {text}") == ("days_since_last_order", ">=", days)
    assert one(f"ordered in the last {text}") == ("days_since_last_order", "<", days)


@pytest.mark.parametrize(("words", "op"), [
    ("over", ">"), ("more than", ">"), ("above", ">"), ("greater than", ">"),
    ("at least", ">="), ("no less than", ">="), ("minimum", ">="),
    ("under", "<"), ("below", "<"), ("less than", "<"), ("fewer than", "<"),
    ("at most", "<="), ("up to", "<="), ("no more than", "<="), ("exactly", "="),
    ("not more than", "<="),
])
def test_comparisons_in_words(words: str, op: str) -> None:
    assert one(f"customers with {words} 4 orders") == ("order_count", op, 4)


@pytest.mark.parametrize(("text", "expected"), [
    ("3 or more orders", (">=", 3)), ("5+ orders", (">=", 5)), ("2 orders or fewer", ("<=", 2)),
    ("between 2 and 5 orders", ("between", [2, 5])), ("2-4 orders", ("between", [2, 4])),
    ("bought twice", ("=", 2)), ("ordered more than once", (">", 1)),
    ("one-time buyers", ("=", 1)), ("never ordered", ("=", 0)), ("no orders yet", ("=", 0)),
    ("haven't purchased anything", ("=", 0)), ("repeat customers", (">=", 2)),
    ("zero orders", ("=", 0)), ("customers who have ordered", (">=", 1)),
])
def test_order_counts(text: str, expected: tuple[str, Any]) -> None:
    f, op, v = one(text)
    assert (f, op, v) == ("order_count", *expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("joined in the last 2 weeks", ("days_since_signup", "<", 14)),
    ("signed up within 30 days", ("days_since_signup", "<", 30)),
    ("customers for over a year", ("days_since_signup", ">", 365)),
    ("members for at least 2 years", ("days_since_signup", ">=", 730)),
    ("been with us for more than 6 months", ("days_since_signup", ">", 180)),
    ("registered more than 90 days ago", ("days_since_signup", ">", 90)),
    ("last ordered more than 60 days ago", ("days_since_last_order", ">", 60)),
    ("inactive for 45 days", ("days_since_last_order", ">=", 45)),  # a lapse: did order
    ("first order within the last 10 days", ("days_since_first_order", "<", 10)),
    ("ordered between 30 and 90 days ago", ("days_since_last_order", "between", [30, 90])),
    ("last purchased 3 to 6 months ago", ("days_since_last_order", "between", [90, 180])),
])
def test_recency_and_signup_age(text: str, expected: tuple[str, str, Any]) -> None:
    assert one(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("no purchase in the past 3 months", ("days_since_last_order", ">=", 90)),
    ("haven't ordered since January", ("last_order_at", "<", "2026-01-01")),
    ("customers who haven't ordered in the last 30 days", ("days_since_last_order", ">=", 30)),
])
def test_not_ordered_lately_includes_never_ordered(text: str,
                                                   expected: tuple[str, str, Any]) -> None:
    assert or_never(text) == expected
    explanation = parse(text, cities=CITIES, attribute_keys=[], today=TODAY).explanation
    assert "or have never ordered" in explanation[-1]


@pytest.mark.parametrize(("text", "expected"), [
    ("customers with more than 3 orders last year",
     {"field": "window_order_count", "operator": ">", "value": 3,
      "window": {"from": "2025-01-01", "to": "2025-12-31"}}),
    ("spent over ₹10K in the last 6 months",
     {"field": "window_spend", "operator": ">", "value": 10000, "window": {"last_days": 180}}),
    ("bought from category shoes in the last 90 days",
     {"field": "window_order_count", "operator": ">", "value": 0, "window": {"last_days": 90},
      "items_match": {"key": "category", "value": "shoes"}}),
    ("at least 2 orders in the last 30 days",
     {"field": "window_order_count", "operator": ">=", "value": 2, "window": {"last_days": 30}}),
    ("spent over 5k in March 2026",
     {"field": "window_spend", "operator": ">", "value": 5000,
      "window": {"from": "2026-03-01", "to": "2026-03-31"}}),
])
def test_windowed_order_rules(text: str, expected: dict[str, Any]) -> None:
    assert rules_of(text) == [expected]


def test_not_in_a_city_says_it_includes_customers_with_no_city() -> None:
    parsed = parse("customers not in Mumbai", cities=CITIES, attribute_keys=[], today=TODAY)
    assert parsed.rules["rules"] == [{"field": "city", "operator": "not_in", "value": ["Mumbai"]}]
    assert parsed.explanation == ["“not in Mumbai” → are not in Mumbai (including customers "
                                  "with no city)"]


@pytest.mark.parametrize("text", ["spent over 5.000,00", "spent over 1.234"])
def test_ambiguous_numbers_are_reported_with_how_to_write_them(text: str) -> None:
    parsed = parse(text, cities=CITIES, attribute_keys=[], today=TODAY)
    assert parsed.rules["rules"] == []
    assert "write" in parsed.unparsed[0]


@pytest.mark.parametrize(("text", "expected"), [
    ("ordered since March", ("last_order_at", ">=", "2026-03-01")),
    ("joined since June", ("created_at", ">=", "2025-06-01")),  # the last June that passed
    ("signed up before 2025", ("created_at", "<", "2025-01-01")),
    ("joined after March 2025", ("created_at", ">", "2025-03-31")),
    ("signed up in 2024", ("created_at", "between", ["2024-01-01", "2024-12-31"])),
    ("joined this year", ("created_at", "between", ["2026-01-01", "2026-12-31"])),
    ("last order before 2026-02-15", ("last_order_at", "<", "2026-02-15")),
])
def test_dates(text: str, expected: tuple[str, str, Any]) -> None:
    assert one(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("customers in Mumbai", ("city", "in", ["Mumbai"])),
    ("in mumbai, pune or delhi", ("city", "in", ["Mumbai", "Pune", "Delhi"])),
    ("Bombay customers", ("city", "in", ["Mumbai"])),
    ("shoppers in Bangalore", ("city", "in", ["Bengaluru"])),
    ("customers in Banglore", ("city", "in", ["Bengaluru"])),  # a typo
    ("not in Pune", ("city", "not_in", ["Pune"])),
    ("outside Mumbai and Delhi", ("city", "not_in", ["Mumbai", "Delhi"])),
    ("everyone except Delhi", ("city", "not_in", ["Delhi"])),
    # a place verb between the negation and the city (was "in Pune", "doesn't" left over)
    ("customers who doesn't live in Pune", ("city", "not_in", ["Pune"])),
    ("people who do not stay in Delhi", ("city", "not_in", ["Delhi"])),
    ("who don't live in Pune", ("city", "not_in", ["Pune"])),
    ("in New Delhi Cantonment", ("city", "in", ["New Delhi Cantonment"])),
])
def test_cities_from_the_data(text: str, expected: tuple[str, str, Any]) -> None:
    assert one(text) == expected


def test_cities_not_in_the_data_are_not_invented() -> None:
    parsed = parse("customers in Chennai", cities=CITIES, attribute_keys=[], today=TODAY)
    assert parsed.rules["rules"] == [] and parsed.unparsed == ["customers in Chennai"]


@pytest.mark.parametrize(("text", "expected"), [
    ("gmail users", ("email", "ends_with", "@gmail.com")),
    ("customers with a yahoo address", ("email", "contains", "@yahoo.")),
    ("emails at acme.co.in", ("email", "ends_with", "@acme.co.in")),
    ("email ends with .in", ("email", "ends_with", ".in")),
    ("name contains 'Kumar'", ("name", "contains", "Kumar")),
    ("name starts with Pri", ("name", "starts_with", "Pri")),
    ("phone starts with +9198", ("phone", "starts_with", "+9198")),
    ("customers without an email", ("email", "is_null", None)),
    ("no phone number", ("phone", "is_null", None)),
])
def test_email_domains_text_and_missing_values(text: str, expected: tuple) -> None:
    assert one(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("tier is gold", ("attributes.loyalty_tier", "=", "gold")),
    ("gold members", ("attributes.loyalty_tier", "=", "gold")),
    ("platinum or gold customers", ("attributes.loyalty_tier", "in", ["platinum", "gold"])),
    ("loyalty tier is not silver", ("attributes.loyalty_tier", "!=", "silver")),
    ("preferred channel is email", ("attributes.preferred_channel", "=", "email")),
    ("who prefer whatsapp", ("attributes.preferred_channel", "=", "whatsapp")),
    ("women", ("attributes.gender", "=", "female")),
    ("with the app installed", ("attributes.app_installed", "=", True)),
    ("without the app", ("attributes.app_installed", "=", False)),
    ("birthday in March", ("attributes.birthday_month", "=", 3)),
    ("aged 25-34", ("attributes.age_band", "=", "25-34")),
    ("acquired through google ads", ("attributes.acquisition_source", "=", "google_ads")),
    ("with attribute plan = pro", ("attributes.plan", "=", "pro")),
    ("attribute vip is true", ("attributes.vip", "=", True)),
])
def test_custom_attributes(text: str, expected: tuple) -> None:
    assert one(text) == expected


def test_and_or_not_combine_as_spoken() -> None:
    assert rules_of("in Pune who spent over 5k or ordered 3 times") == [
        {"field": "city", "operator": "in", "value": ["Pune"]},
        {"combinator": "or", "not": False, "rules": [
            {"field": "total_spend", "operator": ">", "value": 5000},
            {"field": "order_count", "operator": "=", "value": 3}]}]
    assert rules_of("gold members except those who ordered in the last 30 days") == [
        {"field": "attributes.loyalty_tier", "operator": "=", "value": "gold"},
        {"combinator": "and", "not": True, "rules": [
            {"field": "days_since_last_order", "operator": "<", "value": 30}]}]
    assert rules_of("spent over ₹2K but not in Mumbai") == [
        {"field": "total_spend", "operator": ">", "value": 2000},
        {"field": "city", "operator": "not_in", "value": ["Mumbai"]}]


def test_explanation_quotes_the_prompt_and_reads_the_rule_back() -> None:
    parsed = parse("people who haven’t shopped in 6 months and spent over ₹5K",
                   cities=CITIES, attribute_keys=[], today=TODAY)
    assert parsed.explanation == ["“haven’t shopped in 6 months” → have not ordered in 180 days "
                                  "or have never ordered",
                                  "“spent over ₹5K” → spent over ₹5,000"]
    assert parsed.unparsed == []


def test_unknown_words_are_reported_not_guessed() -> None:
    parsed = parse("high value customers in Pune who love cricket", cities=CITIES,
                   attribute_keys=[], today=TODAY)
    assert parsed.rules["rules"] == [{"field": "city", "operator": "in", "value": ["Pune"]}]
    assert "love cricket" in parsed.unparsed
    assert parse("", cities=CITIES, attribute_keys=[]).rules["rules"] == []


def test_leftover_words_are_reported_and_do_not_join_rules() -> None:
    parsed = parse("VIP customers in Pune", cities=CITIES, attribute_keys=[], today=TODAY)
    assert parsed.unparsed == ["VIP"]
    # the unknown city's "or" must not turn the next clause into an alternative
    parsed = parse("in Pune or Kochi, with gmail", cities=CITIES, attribute_keys=[],
                   today=TODAY)
    assert parsed.rules["rules"] == [
        {"field": "city", "operator": "in", "value": ["Pune"]},
        {"field": "email", "operator": "ends_with", "value": "@gmail.com"}]
    assert parsed.unparsed == ["Kochi"]


def test_all_customers_is_understood_as_no_rules() -> None:
    parsed = parse("all customers", cities=CITIES, attribute_keys=[], today=TODAY)
    assert parsed.everyone and parsed.rules["rules"] == [] and parsed.unparsed == []
    assert not parse("hello", cities=CITIES, attribute_keys=[]).everyone


def test_out_of_range_numbers_are_dropped() -> None:
    assert rules_of("spent over 99999999999999 crore") == []
    assert rules_of("haven't ordered in 500 years") == []


def test_negate_keeps_meaning_exact() -> None:
    assert negate({"field": "order_count", "operator": ">", "value": 3})["operator"] == "<="
    assert negate({"field": "city", "operator": "in", "value": ["Pune"]})["operator"] == "not_in"
    # days fields may be null (never ordered): a NOT group, not a flipped operator
    assert negate({"field": "days_since_last_order", "operator": "<", "value": 30})["not"]


def test_tokens_keep_their_place_in_the_prompt() -> None:
    text = "Spent ₹5K"
    mapped = lx.normalise(text)
    money = [t for t in lx.tokenize(mapped.text) if t.kind == "money"][0]
    start, end = mapped.source(money.start, money.end)
    assert text[start:end] == "₹5K" and money.value == 5000


_WORDS = ("customers in Mumbai Pune or and not never ordered orders spent over under between "
          "5k 1.5 lakh ₹ rs 3 months a year ago last past within joined since January 2024 "
          "gmail tier gold attribute plan = pro with without email phone name contains starts "
          "ends .in @x.com except but who 0 crore times twice once repeat first , ; . ( ) \" ' "
          "+ - > < >= this month")
WORDS = _WORDS.split()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=14) | st.text(max_size=80))
def test_any_text_gives_valid_rules(words: list[str] | str) -> None:
    text = words if isinstance(words, str) else " ".join(words)
    parsed = parse(text, cities=CITIES, attribute_keys=list(VALUES), attribute_values=VALUES,
                   today=TODAY)
    parse_rules(parsed.rules)


# Birthdays relative to the brand's month (TODAY is 10 May 2026) ----------------------

def _parsed(text: str, today: date = TODAY, keys: dict[str, list[Any]] | None = None):
    values = VALUES if keys is None else keys
    return parse(text, cities=CITIES, attribute_keys=list(values), attribute_values=values,
                 today=today)


@pytest.mark.parametrize(("text", "month", "words"), [
    ("birthday next month", 6, "have a birthday in June (next month)"),
    ("customers with a birthday this month", 5, "have a birthday in May (this month)"),
    ("birthdays last month", 4, "have a birthday in April (last month)"),
    ("birthdays in March", 3, "have a birthday in March"),
    ("people with birthdays in the coming month", 6, "have a birthday in June (next month)"),
])
def test_birthday_months_read_from_the_brand_month(text: str, month: int,
                                                   words: str) -> None:
    parsed = _parsed(text)
    assert parsed.rules["rules"] == [{"field": "attributes.birthday_month", "operator": "=",
                                      "value": month}]
    assert parsed.unparsed == [] and parsed.explanation[0].endswith("→ " + words)


def test_next_month_wraps_the_year() -> None:
    parsed = _parsed("birthday next month", today=date(2026, 12, 31))
    assert parsed.rules["rules"][0]["value"] == 1
    assert "January (next month)" in parsed.explanation[0]


def test_a_birthday_not_this_month_is_the_negative_rule() -> None:
    assert one("customers whose birthday is not this month") == (
        "attributes.birthday_month", "!=", 5)


@pytest.mark.parametrize("text", ["birthday in the next 7 days", "birthday next week",
                                  "birthday today", "birthdays this week in Pune",
                                  "birthday in 2 months", "birthday within 30 days",
                                  "customers born in 1990", "born in March 1990"])
def test_a_span_shorter_than_a_month_is_refused_not_misread(text: str) -> None:
    """Only the month is stored: no rule from the birthday part (it once became
    'ordered in the last 7 days'), and the report says what to write instead."""
    parsed = _parsed(text)
    assert not any("order" in str(r) or "birthday" in str(r) for r in parsed.rules["rules"])
    assert any("only the birthday month is stored" in u and "birthday next month" in u
               for u in parsed.unparsed), parsed.unparsed
    if "Pune" in text:
        assert parsed.rules["rules"] == [{"field": "city", "operator": "in",
                                          "value": ["Pune"]}]


def test_without_a_birthday_attribute_the_date_is_not_an_order_date() -> None:
    parsed = _parsed("birthday this month", keys={"loyalty_tier": ["gold"]})
    assert parsed.rules["rules"] == []
    assert parsed.unparsed and "no birthday is stored" in parsed.unparsed[0]


@pytest.mark.parametrize(("text", "op", "months", "words"), [
    ("birthdays in March or April", "in", [3, 4], "have a birthday in March or April"),
    ("birthdays in March and April", "in", [3, 4], "have a birthday in March or April"),
    ("born in March, April or June", "in", [3, 4, 6],
     "have a birthday in March, April or June"),
    ("no birthday in March or April", "not_in", [3, 4],
     "do not have a birthday in March or April"),
])
def test_a_month_list_after_a_birthday_word_is_the_birthday(text: str, op: str,
                                                            months: list[int],
                                                            words: str) -> None:
    """The months after the first stay with the birthday ("April" once became a clause of
    its own, read as "last order in April")."""
    parsed = _parsed(text)
    assert parsed.rules["rules"] == [{"field": "attributes.birthday_month", "operator": op,
                                      "value": months}]
    assert parsed.unparsed == [] and parsed.explanation == [f"“{text}” → {words}"]


def test_born_in_a_month_is_the_birthday_month() -> None:
    assert one("born in March") == ("attributes.birthday_month", "=", 3)


def _window(start: str, end: str, op: str = ">", value: int = 0) -> dict[str, Any]:
    return {"field": "window_order_count", "operator": op, "value": value,
            "window": {"from": start, "to": end}}


@pytest.mark.parametrize(("text", "rules", "words"), [
    ("ordered in April", [_window("2026-04-01", "2026-04-30")],
     ["“ordered in April” → placed at least one order between 1 Apr 2026 and 30 Apr 2026"]),
    ("bought in 2025", [_window("2025-01-01", "2025-12-31")],
     ["“bought in 2025” → placed at least one order between 1 Jan 2025 and 31 Dec 2025"]),
    ("ordered in March and April",
     [_window("2026-03-01", "2026-03-31"), _window("2026-04-01", "2026-04-30")],
     ["“ordered in March” → placed at least one order between 1 Mar 2026 and 31 Mar 2026",
      "“April” → placed at least one order between 1 Apr 2026 and 30 Apr 2026"]),
    ("haven't ordered in April", [_window("2026-04-01", "2026-04-30", "=", 0)],
     ["“haven't ordered in April” → placed no orders between 1 Apr 2026 and 30 Apr 2026"]),
    ("ordered between 2026-01-01 and 2026-02-15", [_window("2026-01-01", "2026-02-15")],
     ["“ordered between 2026-01-01 and 2026-02-15” → placed at least one order between "
      "1 Jan 2026 and 15 Feb 2026"]),
    ("ordered on 2026-04-01", [_window("2026-04-01", "2026-04-01")],
     ["“ordered on 2026-04-01” → placed at least one order on 1 Apr 2026"]),
    ("last ordered in April",
     [{"field": "last_order_at", "operator": "between", "value": ["2026-04-01", "2026-04-30"]}],
     ["“last ordered in April” → last ordered between 1 Apr 2026 and 30 Apr 2026"]),
    ("customers whose most recent order was in April",
     [{"field": "last_order_at", "operator": "between", "value": ["2026-04-01", "2026-04-30"]}],
     ["“most recent order was in April” → last ordered between 1 Apr 2026 and 30 Apr 2026"]),
])
def test_ordered_in_a_period_is_any_order_in_it(text: str, rules: list[dict[str, Any]],
                                                words: list[str]) -> None:
    """"ordered in April" is at least one order in April (a windowed rule); only "last
    ordered in April" is about the last order's date."""
    parsed = _parsed(text)
    assert parsed.rules["rules"] == rules
    assert parsed.unparsed == [] and parsed.explanation == words


def _or(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"combinator": "or", "not": False, "rules": list(rules)}


@pytest.mark.parametrize("text, expected", [
    # "or under 500" after a number compares 500, not the number before it (was read as
    # "spent over ₹1,000 AND spent at least ₹500": the fresh tester's "silent misread")
    ("spent over 1000 or under 500", [_or(
        {"field": "total_spend", "operator": ">", "value": 1000},
        {"field": "total_spend", "operator": "<", "value": 500})]),
    ("more than 2 or fewer than 6 orders", [_or(
        {"field": "order_count", "operator": ">", "value": 2},
        {"field": "order_count", "operator": "<", "value": 6})]),
    ("placed over 5 orders or under 2 orders", [_or(
        {"field": "order_count", "operator": ">", "value": 5},
        {"field": "order_count", "operator": "<", "value": 2})]),
    # ... and a comparison after its number is still one
    ("3 orders or fewer", [{"field": "order_count", "operator": "<=", "value": 3}]),
    ("spent 5000 or more", [{"field": "total_spend", "operator": ">=", "value": 5000}]),
    ("spent 500 and above", [{"field": "total_spend", "operator": ">=", "value": 500}]),
])
def test_a_comparison_before_a_number_is_not_a_post_comparison(text, expected) -> None:
    assert rules_of(text) == expected


@pytest.mark.parametrize("text, note", [
    ("spent less than 500 but more than 1000",
     "spent under ₹500 and spent over ₹1,000 cannot both hold: this matches no one"),
    ("placed more than 5 orders and fewer than 3 orders",
     "placed more than 5 orders and placed fewer than 3 orders cannot both hold: "
     "this matches no one"),
    ("spent over 5000 and under 5000",
     "spent over ₹5,000 and spent under ₹5,000 cannot both hold: this matches no one"),
])
def test_rules_that_match_no_one_together_are_warnings_not_unused_words(text, note) -> None:
    parsed = _parsed(text)
    assert parsed.warnings == [note]  # so the builder asks before applying them
    assert parsed.unparsed == []  # every word was read: none is reported as ignored


@pytest.mark.parametrize("text", ["spent more than 1000 but less than 5000",
                                  "spent over 1000 or under 500", "spent at least 500 at most 500"])
def test_ranges_that_can_hold_are_not_reported(text) -> None:
    assert _parsed(text).warnings == []


def test_a_threshold_in_paise_is_shown_in_paise_and_dilli_is_delhi() -> None:
    assert _parsed("spent ₹5,000.50+").explanation == [
        "“spent ₹5,000.50+” → spent at least ₹5,000.50"]
    assert rules_of("customers in Dilli") == [
        {"field": "city", "operator": "in", "value": ["Delhi"]}]


def test_an_ambiguous_number_is_a_refusal_with_how_to_write_it() -> None:
    parsed = _parsed("spent 5.000,00")
    assert parsed.rules["rules"] == []
    assert parsed.refused == ["“5.000,00”: it is ambiguous (dots grouping and a decimal comma): "
                              "use '.' for decimals and ',' only to group digits: write 5000.00"]


@pytest.mark.parametrize("text", ["spent under -500", "spent over -1000", "spent over ₹-1000"])
def test_a_negative_amount_is_refused_never_flipped(text) -> None:
    """The sign used to be dropped: "spent under -500" read as "spent at least ₹500"."""
    parsed = _parsed(text)
    assert parsed.rules["rules"] == []
    assert parsed.refused and "below zero" in parsed.refused[0]


def test_a_dash_between_numbers_is_a_range_not_a_sign() -> None:
    assert rules_of("placed 1-2 orders") == [
        {"field": "order_count", "operator": "between", "value": [1, 2]}]


@pytest.mark.parametrize("text, window", [
    ("ordered between 1 March 2026 and 1 February 2026",
     {"from": "2026-02-01", "to": "2026-03-01"}),
    ("ordered between 5 March and 2 March", {"from": "2026-03-02", "to": "2026-03-05"}),
])
def test_a_date_range_written_backwards_is_the_same_range(text, window) -> None:
    """It used to fall apart into two one-day rules joined by AND (an audience of ~1)."""
    assert rules_of(text) == [{"field": "window_order_count", "operator": ">", "value": 0,
                               "window": window}]

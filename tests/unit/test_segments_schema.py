from __future__ import annotations

import pytest

from mini_crm.core.segments import RulesError, catalogue, describe, parse_rules
from mini_crm.core.segments.fields import operator_label


def group(*rules, combinator="and", negate=False):
    return {"combinator": combinator, "not": negate, "rules": list(rules)}


@pytest.mark.parametrize(("rules", "path", "needle"), [
    (group({"field": "shoe_size", "operator": "=", "value": 3}), "rules[0]", "unknown field"),
    (group({"field": "city", "operator": ">", "value": "x"}), "rules[0]", "does not apply"),
    (group({"field": "total_spend", "operator": ">", "value": "lots"}), "rules[0]",
     "“lots” is not a number: write it in digits"),
    (group({"field": "total_spend", "operator": ">", "value": " "}), "rules[0]",
     "enter a number, e.g. 5000"),
    (group({"field": "total_spend", "operator": "between", "value": [9, 1]}), "rules[0]",
     "above the high"),
    (group({"field": "days_since_signup", "operator": ">", "value": 1.5}), "rules[0]",
     "whole number of days"),
    (group({"field": "created_at", "operator": "<", "value": "last tuesday"}), "rules[0]",
     "expected a date"),
    (group(group({"field": "city", "operator": "in", "value": []})), "rules[0].rules[0]",
     "at least one value"),
    (group({"field": "attributes.bad key", "operator": "=", "value": 1}), "rules[0]",
     "unknown field"),
    (group({"field": "city", "operator": "like", "value": "x"}), "rules[0]", "unknown operator"),
    (group({"field": "city", "operator": "=", "value": "x", "sql": "1"}), "rules[0]",
     "unknown key"),
    ({"combinator": "xor", "rules": []}, "rules", "combinator"),
    ([], "rules", "expected a group"),
])
def test_errors_name_the_rule_and_field(rules, path: str, needle: str) -> None:
    with pytest.raises(RulesError) as err:
        parse_rules(rules)
    assert err.value.path == path
    assert needle in str(err.value)


@pytest.mark.parametrize(("rule", "message"), [
    ({"field": "city", "operator": "in", "value": []}, "“is any of” needs at least one value"),
    ({"field": "city", "operator": "not_in", "value": []},
     "“is none of” needs at least one value"),
    ({"field": "total_spend", "operator": "between", "value": [1]},
     "“is between” needs two values, low and high"),
    ({"field": "attributes.plan", "operator": "not_contains", "value": 5},
     "“does not contain” needs a text value"),
    ({"field": "attributes.plan", "operator": ">", "value": "gold"},
     "“is more than” needs a number or a date"),
    ({"field": "attributes.plan", "operator": "starts_with", "value": ""},
     "a blank value means a missing one: use “is empty” or “is not empty”"),
    ({"field": "city", "operator": "=", "value": "  "},
     "a blank value means a missing one: use “is empty” or “is not empty”"),
    ({"field": "attributes.plan", "operator": "in", "value": ["Pune", True]},
     "“is any of” values must all be numbers or all be text"),
])
def test_errors_name_the_operator_as_the_builder_shows_it(rule: dict, message: str) -> None:
    with pytest.raises(RulesError) as err:
        parse_rules(group(rule))
    assert err.value.reason == message  # the builder shows `reason` under the rule


def test_a_date_operator_error_uses_the_date_words() -> None:
    with pytest.raises(RulesError) as err:
        parse_rules(group({"field": "last_order_at", "operator": "contains", "value": "x"}))
    assert err.value.reason.startswith("“contains” does not apply to a date field")
    assert operator_label("<", "date") == "“is before”"
    assert operator_label("<") == "“is less than”"


def test_react_querybuilder_comma_lists_are_accepted() -> None:
    tree = parse_rules(group({"field": "city", "operator": "in", "value": "Mumbai, Pune"},
                             {"field": "total_spend", "operator": "between",
                              "value": "1000,5000"}))
    assert tree.rules[0].value == ("Mumbai", "Pune")
    assert tree.rules[1].value == (1000.0, 5000.0)


def test_sentence_reads_like_the_design_example() -> None:
    rules = group({"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
                  {"field": "total_spend", "operator": ">", "value": 5000},
                  {"field": "days_since_last_order", "operator": ">=", "value": 180})
    assert describe(rules) == ("Customers who are in Mumbai or Pune and spent over ₹5,000 and "
                               "have not ordered in 180 days")
    nested = group({"field": "order_count", "operator": ">=", "value": 3},
                   group({"field": "city", "operator": "=", "value": "Pune"},
                         {"field": "email", "operator": "ends_with", "value": "@gmail.com"},
                         combinator="or", negate=True))
    assert describe(nested) == ('Customers who placed at least 3 orders and do not match '
                                '[(are in Pune or have an email that ends with "@gmail.com")]')
    assert describe(group()) == "All customers"


def test_catalogue_lists_every_field_with_operators() -> None:
    names = {f["name"] for f in catalogue()}
    assert {"total_spend", "days_since_last_order", "city", "attributes.<key>"} <= names
    assert all(f["operators"] for f in catalogue())


def test_sentences_name_fields_in_words_never_raw_keys() -> None:
    # the audience panel showed "have attributes.loyalty_tier is ..." and
    # "have signup date is under 8 Nov 2026"
    sentence = describe(group({"field": "attributes.loyalty_tier", "operator": "=",
                               "value": "gold"}))
    assert sentence == 'Customers who have a loyalty tier that is "gold"'
    assert "attributes." not in describe(group(
        {"field": "attributes.loyalty_tier", "operator": "!=", "value": "gold"}))
    assert describe(group({"field": "created_at", "operator": "<", "value": "2026-11-08"})) \
        == "Customers who have a signup date that is before 8 Nov 2026"
    assert describe(group({"field": "created_at", "operator": ">=", "value": "2026-11-08"})) \
        == "Customers who have a signup date that is on or after 8 Nov 2026"


def test_sentences_say_how_missing_values_and_windows_are_read() -> None:
    assert describe(group({"field": "city", "operator": "not_in", "value": ["Mumbai"]})) == (
        "Customers who are not in Mumbai (including customers with no city)")
    assert describe(group({"field": "city", "operator": "!=", "value": "Mumbai"},
                          {"field": "city", "operator": "is_not_null"})) == (
        "Customers who are not in Mumbai (excluding customers with no city)")
    assert describe(group({"field": "window_order_count", "operator": ">", "value": 3,
                           "window": {"from": "2025-01-01", "to": "2025-12-31"}})) == (
        "Customers who placed more than 3 orders between 1 Jan 2025 and 31 Dec 2025")
    assert describe(group({"field": "window_spend", "operator": ">", "value": "₹10K",
                           "window": {"last_days": 180}})) == (
        "Customers who spent over ₹10,000 in the last 180 days")
    assert describe(group({"field": "window_order_count", "operator": "=", "value": 0,
                           "window": {"last_days": 30}})) == (
        "Customers who placed no orders in the last 30 days")
    assert describe(group({"field": "window_order_count", "operator": ">", "value": 0,
                           "window": {"last_days": 90},
                           "items_match": {"key": "category", "value": "shoes"}})) == (
        "Customers who placed at least one order with an item whose category is shoes in "
        "the last 90 days")
    assert describe(group({"field": "last_order_at", "operator": "=",
                           "value": "2026-11-29"})) == "Customers who last ordered on 29 Nov 2026"

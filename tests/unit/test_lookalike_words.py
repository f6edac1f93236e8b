"""The lookalike explanation reads the rules the tree produced with the rule sentence's
own words (core/segments/describe), so the builder, the campaign page and the lookalike
answer say a rule the same way."""

from __future__ import annotations

import pytest

from mini_crm.core.ai.lookalike_tree import NEVER_DAYS, NUMERIC, conditions, tighten, why
from mini_crm.core.segments.describe import describe

SPEND, ORDERS, RECENCY, SIGNUP = (NUMERIC.index(n) for n in NUMERIC)
CITIES = ["Pune", "Mumbai", "Delhi"]
PUNE, MUMBAI, DELHI = (len(NUMERIC) + i for i in range(len(CITIES)))


@pytest.mark.parametrize(("path", "words"), [
    ([(SPEND, ">", 15795.5), (RECENCY, "<=", 30.5)],
     "spent over ₹15,795 and ordered in the last 31 days"),
    ([(SPEND, "<=", 4999.5), (ORDERS, ">", 4.5)],
     "spent at most ₹4,999 and placed at least 5 orders"),
    ([(ORDERS, "<=", 1.5)], "placed at most 1 order"),
    ([(RECENCY, ">", 89.5)], "have not ordered in 90 days or have never ordered"),
    ([(RECENCY, ">", 89.5), (RECENCY, "<=", NEVER_DAYS - 1)], "have not ordered in 90 days"),
    ([(RECENCY, ">", NEVER_DAYS - 1)], "have never ordered"),
    ([(RECENCY, "<=", NEVER_DAYS - 1)], "have ordered at least once"),
    ([(SIGNUP, ">", 364.5)], "have been customers for at least 365 days"),
    ([(SIGNUP, "<=", 29.5)], "signed up in the last 30 days"),
    ([(PUNE, ">", 0.5), (SPEND, ">", 100.0)], "spent over ₹100 and are in Pune"),
    ([(MUMBAI, "<=", 0.5), (DELHI, "<=", 0.5)],
     "are not in Delhi or Mumbai (including customers with no city)"),
])
def test_a_tree_path_reads_as_the_rule_sentence(path: list, words: str) -> None:
    rules = conditions(tighten(path), CITIES)
    assert why(rules) == words


def test_the_rule_sentence_says_signup_and_recency_in_days() -> None:
    def said(field: str, operator: str, value: int | None = None) -> str:
        rule = {"field": field, "operator": operator}
        return describe({"combinator": "and", "rules": [
            rule if value is None else {**rule, "value": value}]})

    assert said("days_since_signup", ">", 30) == "Customers who have been customers for at " \
                                                  "least 31 days"
    assert said("days_since_signup", "<", 1) == "Customers who signed up in the last 1 day"
    assert said("days_since_last_order", "is_not_null") == ("Customers who have ordered at "
                                                            "least once")
    # A days field without words of its own keeps the generic phrasing.
    assert said("days_since_first_order", ">=", 10) == ("Customers who have a days since "
                                                         "first order that is at least 10")

"""Plain English never silently misreads (issue 14): unused words are reported, shares
without data and unplaceable dates are refused, vocabulary follows its definitions."""

from __future__ import annotations

from datetime import date

import pytest

from mini_crm.core.ai.nl import named_dates, parse
from mini_crm.core.ai.nl.terms import Term

TODAY = date(2026, 11, 20)
CITIES = ["Mumbai", "Pune", "Lucknow"]
VIP = Term("vip", "VIP", {"combinator": "and", "not": False, "rules": [
    {"field": "total_spend", "operator": ">=", "value": 50000}]}, "₹50,000 or more")


def p(text: str, **kw):  # noqa: ANN003, ANN201 - test helper
    return parse(text, cities=CITIES, attribute_keys=[], today=TODAY, **kw)


def test_a_word_no_rule_used_is_reported_not_dropped() -> None:
    got = p("gold tier customers in Lucknow")  # no such attribute in the data
    assert got.rules["rules"] == [{"field": "city", "operator": "in", "value": ["Lucknow"]}]
    assert got.unparsed == ["gold tier"]
    # a grammar word with nothing to attach to is content too ("churned" without terms)
    assert "churned" in " ".join(p("churned customers in Mumbai").unparsed)
    assert p("customers in Mumbai who spent over ₹5K").unparsed == []


def test_vocabulary_uses_the_definition_given_and_negates() -> None:
    got = p("non-VIP customers in Pune", terms={"vip": VIP})
    assert got.rules["rules"][0] == {"field": "total_spend", "operator": "<", "value": 50000}
    assert got.unparsed == []
    assert any("not VIP (your definition in Settings: ₹50,000 or more)" in line
               for line in got.explanation)


def test_a_share_without_data_is_refused_with_why() -> None:
    got = p("top 10% spenders in Pune")
    assert got.rules["rules"] == [{"field": "city", "operator": "in", "value": ["Pune"]}]
    assert "needs customer data" in got.unparsed[0]
    got = p("top 10% spenders", quantile=lambda f, side, pct: 12400)
    assert got.rules["rules"] == [{"field": "total_spend", "operator": ">=", "value": 12400}]
    assert "bottom 25%" in p("bottom quartile by orders").unparsed[0]


def test_named_dates_come_from_the_calendar() -> None:
    assert named_dates.resolve("Diwali", "", TODAY) == (date(2026, 11, 8), date(2026, 11, 8))
    assert named_dates.resolve("Diwali", "last", date(2026, 11, 8))[0] == date(2025, 10, 20)
    assert named_dates.resolve("Christmas", "last", TODAY)[0] == date(2025, 12, 25)
    assert named_dates.resolve("festive season", "this", TODAY) == (date(2026, 10, 11),
                                                                    date(2026, 11, 10))
    assert "in the future" in named_dates.resolve("Diwali", "next", TODAY)
    assert "not begun" in named_dates.resolve("Christmas", "this", TODAY)
    assert "covers" in named_dates.resolve("Diwali", "", date(2040, 1, 1))  # never stale


def test_an_unplaceable_date_gives_no_rule_at_all() -> None:
    got = p("customers who haven't ordered since next Diwali")
    assert got.rules["rules"] == []  # never "have never ordered"
    assert "in the future" in got.unparsed[0]
    got = p("Pune customers who haven't ordered since Holi")
    assert got.rules["rules"][1] == {"combinator": "or", "not": False, "rules": [
        {"field": "last_order_at", "operator": "<", "value": "2026-03-04"},
        {"field": "last_order_at", "operator": "is_null"}]}


def _term(key: str) -> Term:
    from mini_crm.core.ai.vocabulary import DEFAULTS
    label, rules, why = DEFAULTS[key]
    return Term(key, label, rules, why)


TERMS = {k: _term(k) for k in ("lapsed", "churned", "new", "vip", "at_risk")}
DIWALI, HOLI, XMAS = "2026-11-08", "2026-03-04", "2025-12-25"


def test_a_lapse_word_with_since_is_about_the_last_order_not_the_signup() -> None:
    # was "signup date before 8 Nov 2026" with "lapsed" silently dropped (96% of customers)
    for text, day in (("lapsed customers since Diwali", DIWALI),
                      ("churned customers since last Christmas", XMAS),
                      ("customers lapsed since Holi", HOLI)):
        for terms in (TERMS, None):  # with or without the vocabulary in Settings
            got = p(text, terms=terms)
            # ordered before, nothing since: never-ordered customers are not lapsed
            assert got.rules["rules"] == [
                {"field": "last_order_at", "operator": "<", "value": day}], (text, got)
            assert got.unparsed == []
            assert "last ordered before" in got.explanation[0]


def test_a_time_about_something_else_keeps_the_vocabulary_definition() -> None:
    got = p("VIP customers since Holi", terms=TERMS)
    assert got.rules["rules"] == [
        {"field": "total_spend", "operator": ">=", "value": 50000},
        {"field": "created_at", "operator": ">=", "value": HOLI}]
    assert got.unparsed == []
    got = p("new customers since Diwali", terms=TERMS)
    assert got.rules["rules"] == [{"field": "created_at", "operator": ">=", "value": DIWALI}]
    assert "signup date that is on or after 8 Nov 2026" in got.explanation[0]
    # the definition applies and the date stays on the signup
    got = p("churned signups since Diwali", terms=TERMS)
    assert {"field": "created_at", "operator": ">=", "value": DIWALI} in got.rules["rules"]
    assert TERMS["churned"].rules["rules"][1] in got.rules["rules"][0]["rules"]


def test_a_lapse_word_never_negates_a_signup_time() -> None:
    got = p("lapsed signups since Diwali")  # no vocabulary: "lapsed" cannot be read here
    assert got.rules["rules"] == [{"field": "created_at", "operator": ">=", "value": DIWALI}]
    assert got.unparsed == ["lapsed"]


def test_an_excluded_part_is_quoted_with_its_excluding_words() -> None:
    got = p("customers in Pune except those in Mumbai")
    assert got.explanation[1].startswith("“except those in Mumbai” → are not in Mumbai")
    got = p("everyone but not Mumbai")
    assert got.explanation[0].startswith("“but not Mumbai” → are not in Mumbai")


def test_a_negated_place_reads_with_its_negation() -> None:
    got = p("customers who don't live in Mumbai and spent over ₹5K")
    assert got.rules["rules"][0] == {"field": "city", "operator": "not_in", "value": ["Mumbai"]}
    assert got.explanation[0].startswith("“don't live in Mumbai” → are not in Mumbai")
    assert got.unparsed == []


def test_a_lapse_word_without_a_period_is_never_read_as_never_ordered() -> None:
    # "stopped ordering" says they did order once: it was read as "have never ordered"
    got = p("Pune customers who stopped ordering")
    assert got.rules["rules"] == [{"field": "city", "operator": "in", "value": ["Pune"]}]
    assert got.unparsed == ["stopped ordering"]
    assert p("customers who have not ordered").rules["rules"] == [
        {"field": "order_count", "operator": "=", "value": 0}]


def test_a_negation_with_after_or_before_is_never_ignored() -> None:
    # was "last order after 8 Nov 2026" with "haven't" left over
    got = p("customers who haven't ordered after Diwali")
    assert got.rules["rules"] == [{"combinator": "or", "not": False, "rules": [
        {"field": "last_order_at", "operator": "<=", "value": DIWALI},
        {"field": "last_order_at", "operator": "is_null"}]}]
    assert got.unparsed == []
    # no one reading: refused with how to say it, never a rule
    for text in ("customers who stopped ordering after Diwali",
                 "customers who have not ordered before Diwali"):
        got = p(text)
        assert got.rules["rules"] == [] and "unclear with" in got.unparsed[0], text
    assert p("ordered after Diwali").rules["rules"] == [
        {"field": "last_order_at", "operator": ">", "value": DIWALI}]


@pytest.mark.parametrize(("text", "warning"), [
    ("customers in Mumbay", "“Mumbay” is not a city in your data: did you mean Mumbai?"),
    ("people from Pume who spent over 5k",
     "“Pume” is not a city in your data: did you mean Pune?"),
    ("spent over 5k, Pume customers",  # capitalised, not the first word
     "“Pume” is not a city in your data: did you mean Pune?"),
])
def test_a_near_miss_of_a_city_is_a_warning_never_a_rule(text: str, warning: str) -> None:
    got = p(text)
    assert got.warnings == [warning]
    assert all(r.get("field") != "city" for r in got.rules["rules"])  # never applied
    assert any(warning.split("”")[0][1:] in u for u in got.unparsed)  # still unused


@pytest.mark.parametrize("text", [
    "sales customers in Pune",  # "sales" is one letter from Salem, but no place word
    "Sales in Pune",  # capitalised only as the prompt's first word
    "customers in Pune who like sales",
])
def test_a_common_word_near_a_city_is_not_suggested(text: str) -> None:
    got = parse(text, cities=[*CITIES, "Salem"], attribute_keys=[], today=TODAY)
    assert got.warnings == []
    assert "sales" in " ".join(got.unparsed).lower()  # reported as unused, nothing more


def test_a_near_miss_of_an_attribute_value_names_its_key() -> None:
    got = parse("customers on Whatsap in Pune", cities=CITIES,
                attribute_keys=["preferred_channel"],
                attribute_values={"preferred_channel": ["whatsapp", "sms"]}, today=TODAY)
    assert got.warnings == ["“Whatsap” is not a known preferred channel in your data: did "
                            "you mean whatsapp?"]


@pytest.mark.parametrize("text", ["ordered in the last 0 days", "in the past 0 months",
                                  "signed up in the last zero days"])
def test_a_period_of_zero_is_refused_not_an_empty_audience(text: str) -> None:
    got = p(text)
    assert got.rules["rules"] == []
    assert any("a period of zero is no time at all" in r for r in got.refused)


@pytest.mark.parametrize("text", ["ordered in the last -3 days",
                                  "signed up in the past -2 months"])
def test_a_negative_period_is_refused_not_read_as_positive(text: str) -> None:
    got = p(text)
    assert got.rules["rules"] == []
    assert any("below zero" in r for r in got.refused)


def test_a_zero_period_with_other_rules_leaves_them_and_reports_it() -> None:
    got = p("customers in Pune who ordered in the last 0 days")
    assert got.rules["rules"] == [{"field": "city", "operator": "in", "value": ["Pune"]}]
    assert any("no time at all" in u for u in got.unparsed)  # the builder asks first

"""Plain English never silently misreads (issue 14): unused words are reported, shares
without data and unplaceable dates are refused, vocabulary follows its definitions."""

from __future__ import annotations

from datetime import date

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

"""Issue 13's segment failures, each with the right value, on SQLite, PostgreSQL, MariaDB:
brand-calendar days, one meaning for "not", blanks as missing, numbers, windowed rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from mini_crm.core.segments import RulesError, audience_size, matching_customer_ids, parse_rules
from mini_crm.models import Customer, Order
from mini_crm.settings import get_settings

# 29 Nov 2026, 12:00 IST.
NOW = datetime(2026, 11, 29, 6, 30)


def one(field: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    rule = {"field": field, "operator": op, **extra}
    if value is not None:
        rule["value"] = value
    return {"combinator": "and", "rules": [rule]}


def ids(session: Session, rules: dict[str, Any]) -> set[str]:
    found = session.exec(matching_customer_ids(rules, NOW)).all()
    return {session.get(Customer, i).external_id for i in found}


def customer(session: Session, ext: str, **kw: Any) -> Customer:
    c = Customer(external_id=ext, **kw)
    session.add(c)
    session.flush()
    return c


def order(session: Session, c: Customer, at: datetime, amount: int = 1000,
          status: str = "completed", items: Any = None) -> None:
    session.add(Order(external_id=f"{c.external_id}-{at.isoformat()}", customer_id=c.id,
                      amount=amount, status=status, ordered_at=at, items=items))
    session.flush()


@pytest.fixture
def london(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("BRAND_TIMEZONE", "Europe/London")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("BRAND_TIMEZONE")
    get_settings.cache_clear()


# 1. One calendar ---------------------------------------------------------------------

def test_an_early_morning_ist_order_is_on_its_brand_day(session: Session) -> None:
    # 2026-11-29 01:30 +05:30 is 2026-11-28 20:00 UTC.
    customer(session, "early", last_order_at=datetime(2026, 11, 28, 20, 0))
    customer(session, "midnight", last_order_at=datetime(2026, 11, 28, 18, 30))  # 00:00 IST
    customer(session, "before", last_order_at=datetime(2026, 11, 28, 18, 29, 59))  # 23:59:59
    customer(session, "late", last_order_at=datetime(2026, 11, 29, 18, 29))  # 23:59 IST
    customer(session, "next", last_order_at=datetime(2026, 11, 29, 18, 30))  # 30 Nov 00:00
    session.commit()
    assert ids(session, one("last_order_at", "=", "2026-11-29")) == {"early", "midnight",
                                                                    "late"}
    assert ids(session, one("last_order_at", "<", "2026-11-29")) == {"before"}
    assert ids(session, one("last_order_at", ">", "2026-11-29")) == {"next"}
    assert ids(session, one("last_order_at", "between", ["2026-11-28", "2026-11-29"])) == {
        "early", "midnight", "late", "before"}
    assert ids(session, one("last_order_at", "!=", "2026-11-29")) == {"before", "next"}


def test_calendar_days_follow_a_dst_zone(session: Session, london: None) -> None:
    # Summer: a London day starts at 23:00 UTC the day before; winter: at midnight UTC.
    customer(session, "summer", last_order_at=datetime(2026, 7, 1, 23, 30))  # 2 Jul BST
    customer(session, "winter", last_order_at=datetime(2026, 12, 1, 23, 30))  # 1 Dec GMT
    customer(session, "fold", last_order_at=datetime(2026, 10, 25, 23, 30))  # 25 Oct GMT
    session.commit()
    assert ids(session, one("last_order_at", "=", "2026-07-02")) == {"summer"}
    assert ids(session, one("last_order_at", "=", "2026-12-01")) == {"winter"}
    assert ids(session, one("last_order_at", "=", "2026-10-25")) == {"fold"}


# 2. One meaning for "not" --------------------------------------------------------------

@pytest.fixture
def cities(session: Session) -> None:
    for ext, city in (("m", "Mumbai"), ("p", "Pune"), ("none", None)):
        customer(session, ext, city=city)
    session.commit()


def test_not_in_equals_not_of_in(session: Session, cities: None) -> None:
    not_in = ids(session, one("city", "not_in", ["Mumbai"]))
    negated = ids(session, {"combinator": "and", "not": True, "rules": [
        {"field": "city", "operator": "in", "value": ["Mumbai"]}]})
    assert not_in == negated == {"p", "none"}
    assert ids(session, one("city", "!=", "mumbai")) == {"p", "none"}
    assert ids(session, one("city", "not_contains", "mum")) == {"p", "none"}
    # The builder's "exclude unknowns": an explicit is_not_null beside it.
    assert ids(session, {"combinator": "and", "rules": [
        {"field": "city", "operator": "not_in", "value": ["Mumbai"]},
        {"field": "city", "operator": "is_not_null"}]}) == {"p"}


# 3. Blank is missing ----------------------------------------------------------------------

def test_blank_text_left_in_the_table_is_missing(session: Session) -> None:
    customer(session, "blank", city="", attributes={"tier": "  "})
    customer(session, "spaces", city="   ", attributes={})
    customer(session, "pune", city="Pune", attributes={"tier": "gold"})
    session.commit()
    assert ids(session, one("city", "is_null")) == {"blank", "spaces"}
    assert ids(session, one("city", "is_not_null")) == {"pune"}
    assert ids(session, one("attributes.tier", "is_null")) == {"blank", "spaces"}
    assert ids(session, one("attributes.tier", "!=", "gold")) == {"blank", "spaces"}


def test_a_list_of_labels_means_each_label(session: Session) -> None:
    # "is any of A1, 12" on an attribute: "12" finds the number 12 and the text "12",
    # as ["12"] alone does; "A1" finds "A1". The same list of JSON values reads the same.
    for ext, value in (("num", 12), ("text", "12"), ("dec", "12.0"), ("a1", "a1"),
                       ("b2", "B2"), ("thirteen", 13), ("zip", "012"), ("none", None)):
        customer(session, ext, attributes={} if value is None else {"code": value})
    session.commit()
    found = {"num", "text", "dec", "a1"}
    assert ids(session, one("attributes.code", "in", ["A1", "12"])) == found
    assert ids(session, one("attributes.code", "in", ["A1", 12])) == found
    assert ids(session, one("attributes.code", "in", "A1, 12")) == found  # the builder's text
    assert ids(session, one("attributes.code", "in", ["12"])) == {"num", "text", "dec"}
    everyone = {"num", "text", "dec", "a1", "b2", "thirteen", "zip", "none"}
    assert ids(session, one("attributes.code", "not_in", ["A1", "12"])) == everyone - found
    assert ids(session, {"combinator": "and", "not": True, "rules": [
        {"field": "attributes.code", "operator": "in", "value": ["A1", "12"]}]}) == \
        everyone - found
    condition = parse_rules(one("attributes.code", "in", ["A1", 12])).rules[0]
    assert (condition.value, condition.value_type) == (("A1", "12"), "text")


def test_a_blank_rule_value_is_refused_in_favour_of_is_empty() -> None:
    with pytest.raises(RulesError, match="use “is empty” or “is not empty”"):
        parse_rules(one("city", "=", "   "))


# 4. Numbers -----------------------------------------------------------------------------

def test_indian_grouping_in_a_list_is_one_value(session: Session) -> None:
    customer(session, "lakh", total_spend=Decimal(150000), order_count=2)
    customer(session, "one", total_spend=Decimal(1), order_count=1)
    customer(session, "fifty", total_spend=Decimal(50), order_count=1)
    session.commit()
    assert parse_rules(one("total_spend", "in", "1,50,000")).rules[0].value == (
        Decimal(150000),)
    assert ids(session, one("total_spend", "in", "1,50,000")) == {"lakh"}
    assert ids(session, one("total_spend", ">=", "₹1.5 lakh")) == {"lakh"}
    assert ids(session, one("total_spend", "in", "1; 50")) == {"one", "fifty"}


@pytest.mark.parametrize("value", ["5.000,00", "1.234", "1,2,3"])
def test_ambiguous_rule_numbers_are_refused(value: str) -> None:
    with pytest.raises(RulesError, match="write"):
        parse_rules(one("total_spend", ">", value))


def test_out_of_range_numbers_are_a_rule_error_not_a_driver_crash(session: Session) -> None:
    for field in ("total_spend", "order_count", "avg_order_value"):
        with pytest.raises(RulesError, match="too large"):
            audience_size(session, one(field, ">", 99999999999999999999999), NOW)
    with pytest.raises(RulesError, match="too large"):
        parse_rules(one("attributes.age", ">", 1e300))


def test_preview_answers_422_for_a_huge_number(api: TestClient, make_key) -> None:
    r = api.post("/api/v1/segments/preview",
                 json={"rules": one("total_spend", ">", 99999999999999999999999)},
                 headers=make_key("read"))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_rules" and err["details"]["field"] == "total_spend"
    assert "999,999,999,999.99" in err["message"]


# 5. Windowed order rules --------------------------------------------------------------------

@pytest.fixture
def shoppers(session: Session) -> None:
    frequent = customer(session, "frequent")
    for month in (2, 4, 6, 8):  # four orders in 2025 (last year in brand time)
        order(session, frequent, datetime(2025, month, 10, 10))
    order(session, frequent, datetime(2024, 12, 31, 19, 0))  # 1 Jan 2025 00:30 IST
    three = customer(session, "three")
    for month in (3, 5, 7):
        order(session, three, datetime(2025, month, 1, 10))
    order(session, three, datetime(2025, 9, 1, 10), status="cancelled")
    big = customer(session, "big")
    order(session, big, NOW - timedelta(days=20), amount=6000,
          items=[{"category": "Shoes", "sku": "RUN-1"}])
    order(session, big, NOW - timedelta(days=100), amount=5000)
    order(session, big, NOW - timedelta(days=10), amount=50000, status="refunded")
    customer(session, "never")
    session.commit()


def test_more_than_three_orders_last_year(session: Session, shoppers: None) -> None:
    rule = one("window_order_count", ">", 3, window={"from": "2025-01-01", "to": "2025-12-31"})
    assert ids(session, rule) == {"frequent"}  # five in 2025; "three" has a cancelled fourth


def test_spent_over_10k_in_the_last_6_months(session: Session, shoppers: None) -> None:
    rule = one("window_spend", ">", "₹10K", window={"last_days": 180})
    assert ids(session, rule) == {"big"}  # 6000 + 5000; the refunded 50000 does not count
    assert ids(session, one("window_spend", ">", "₹10K", window={"last_days": 90})) == set()


def test_bought_from_category_shoes_in_the_last_90_days(session: Session,
                                                         shoppers: None) -> None:
    rule = one("window_order_count", ">", 0, window={"last_days": 90},
               items_match={"key": "category", "value": "shoes"})
    assert ids(session, rule) == {"big"}


def test_has_not_ordered_in_the_window_includes_never_ordered(session: Session,
                                                               shoppers: None) -> None:
    rule = one("window_order_count", "=", 0, window={"last_days": 30})
    assert ids(session, rule) == {"frequent", "three", "never"}


def test_window_rules_are_validated() -> None:
    with pytest.raises(RulesError, match="window"):
        parse_rules(one("window_order_count", ">", 3))
    with pytest.raises(RulesError, match="ends"):
        parse_rules(one("window_spend", ">", 1, window={"from": "2026-02-01",
                                                       "to": "2026-01-01"}))
    with pytest.raises(RulesError, match="applies only"):
        parse_rules(one("total_spend", ">", 1, window={"last_days": 3}))


def test_items_match_folds_case_beyond_ascii(session: Session) -> None:
    summer = customer(session, "summer")
    order(session, summer, NOW - timedelta(days=3), items=[{"category": "ÉTÉ", "sku": "x"}])
    accent = customer(session, "accent")
    order(session, accent, NOW - timedelta(days=3), items=[{"category": "ete"}])
    session.commit()
    rule = one("window_order_count", ">", 0, window={"last_days": 30},
               items_match={"key": "category", "value": "été"})
    assert ids(session, rule) == {"summer"}

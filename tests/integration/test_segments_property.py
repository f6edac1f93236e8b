"""Property: the compiled SQL selects exactly who the plain-Python evaluator selects,
on SQLite, PostgreSQL and MariaDB, for random customers (with missing and blank values,
and orders around brand-calendar midnights) and random rule trees (every negative
operator, NOT groups, windowed order rules)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from mini_crm.core.segments import matching_customer_ids, parse_rules
from mini_crm.models import Customer, Order
from tests.segment_reference import matches

NOW = datetime(2026, 3, 15, 13, 30, 0)
CITIES = ["Mumbai", "Pune", "Zürich", "Zurich", "São Paulo", "Delhi_1", "50% Off", "李村", None,
          "", "   "]
NAMES = ["Asha Rao", "ÉLODIE", "élodie b", "Elodie", "Ravi_Kumar", "100% Ravi", "O'Brien", "Zoë",
         "zoe", None, "  "]
# Ages in days that sit exactly on the rule constants below, so off-by-one errors show.
EDGE_DAYS = [0, 1, 7, 30, 89, 90, 180, 365, 400]
ATTR_KEYS = ["tier", "age", "vip", "note"]
# Texts that mean numbers ("3", "12", "7.50", "-2") and texts that only look like them
# ("0400" a zip code, "1,200", "+3", "3 "): a CSV cell arrives as text.
ATTR_VALUES = ["gold", "Gold", "silver", 3, 7.5, 0, True, False, None, "3", "", "  ", "12",
               "7.50", "-2", "0400", "1,200", "+3", "3 ", "0"]
# Seconds before NOW (13:30 UTC) that land on 18:30 UTC of the day before, i.e. midnight
# in Kolkata: the brand-calendar day boundary.
BRAND_MIDNIGHT = [68399, 68400, 68401]
STATUSES = ["completed", "completed", "shipped", "cancelled", "refunded", "canceled",
            "returned"]
ITEMS = [None, [], [{"category": "Shoes", "sku": "s1"}],
         [{"category": "bags", "sku": "b1"}, {"category": "shoes", "sku": "s2"}],
         [{"category": 5}], [{"sku": "SHOES"}], {"category": "shoes"}, ["shoes"],
         [{"category": "ÉTÉ"}], [{"category": "ete"}]]


def _customer(rng: random.Random, i: int) -> dict[str, Any]:
    orders = rng.choice([0, 0, 1, 2, 3, 5, 8])
    def age() -> timedelta:
        whole = rng.choice(EDGE_DAYS) if rng.random() < 0.6 else rng.randint(0, 900)
        return timedelta(days=whole, seconds=rng.choice(
            [0, 1, rng.randint(0, 86399), 86399, *BRAND_MIDNIGHT]))

    created = NOW - age() - timedelta(days=400)
    first = last = None
    if orders:
        last = NOW - age()
        first = last - (age() if orders > 1 else timedelta(0))
    attrs = {k: rng.choice(ATTR_VALUES) for k in rng.sample(ATTR_KEYS, rng.randint(0, 3))}
    return {
        "id": i + 1, "external_id": f"c{i}", "name": rng.choice(NAMES), "city": rng.choice(CITIES),
        "email": rng.choice([f"u{i}@gmail.com", f"U{i}@Shop.in", None]),
        "phone": rng.choice(["+91 98200 1", "98200", None]),
        "total_spend": Decimal(rng.choice([0, 499, 500, 1000, 4999, 5000, 5001, 12345])) if orders
        else Decimal(0),
        "order_count": orders, "created_at": created, "updated_at": created,
        "first_order_at": first, "last_order_at": last, "attributes": attrs,
        "orders": [{"external_id": f"o{i}-{k}", "customer_id": i + 1, "ordered_at": NOW - age(),
                    "amount": Decimal(rng.choice([0, 499, 500, 1000, 2500.5, 5000])),
                    "status": rng.choice(STATUSES), "items": rng.choice(ITEMS),
                    "created_at": NOW, "updated_at": NOW}
                   for k in range(rng.choice([0, 0, 1, 2, 3, 5]))],
    }


def dataset(seed: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [_customer(rng, i) for i in range(n)]


# Rule strategies ------------------------------------------------------------------

numbers = st.sampled_from([0, 1, 2, 3, 499, 500, 999.5, 1000, 5000, 5001, 250.0, 2499.5])
days = st.sampled_from([0, 1, 7, 30, 89, 90, 180, 365, 400, 401, 900])
# NOW minus the edge ages, as calendar days.
dates = st.sampled_from(["2024-02-09", "2025-02-08", "2025-09-16", "2026-01-14", "2026-02-13",
                         "2026-03-14", "2026-03-15", "2025-03-10"])
texts = st.sampled_from(["mumbai", "PUNE", "zürich", "zurich", "é", "e", "_", "%", "50%", "李",
                         "ravi", "a", "gmail", ".in", "o'b", "98200", "são", "zoe", "ZOË",
                         "elodie", "Élodie"])
cmp_ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
null_ops = st.sampled_from(["is_null", "is_not_null"])


def _pair(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.tuples(values, values).map(lambda p: sorted(p))


def _rule(field: str, op: Any, value: Any) -> dict[str, Any]:
    return {"field": field, "operator": op, "value": value}


number_rule = st.one_of(
    st.builds(_rule, st.sampled_from(["total_spend", "order_count", "avg_order_value"]),
              cmp_ops, numbers),
    st.builds(_rule, st.sampled_from(["total_spend", "order_count"]), st.just("between"),
              _pair(numbers)),
    st.builds(_rule, st.just("order_count"), st.sampled_from(["in", "not_in"]),
              st.lists(st.sampled_from([0, 1, 2, 5]), min_size=1, max_size=3)),
    st.builds(_rule, st.just("avg_order_value"), null_ops, st.none()),
)
days_rule = st.one_of(
    st.builds(_rule, st.sampled_from(["days_since_last_order", "days_since_first_order",
                                      "days_since_signup"]), cmp_ops, days),
    st.builds(_rule, st.just("days_since_last_order"), st.just("between"), _pair(days)),
    st.builds(_rule, st.just("days_since_last_order"), null_ops, st.none()),
)
date_rule = st.one_of(
    st.builds(_rule, st.sampled_from(["last_order_at", "first_order_at", "created_at"]),
              cmp_ops, dates),
    st.builds(_rule, st.just("created_at"), st.just("between"), _pair(dates)),
)
text_rule = st.one_of(
    st.builds(_rule, st.sampled_from(["city", "name", "email", "phone"]),
              st.sampled_from(["=", "!=", "contains", "not_contains", "starts_with",
                               "ends_with"]), texts),
    st.builds(_rule, st.sampled_from(["city", "name", "phone"]), null_ops, st.none()),
    st.builds(_rule, st.just("city"), st.sampled_from(["in", "not_in"]),
              st.lists(st.sampled_from(["mumbai", "Pune", "ZÜRICH", "李村", "50% off"]),
                       min_size=1, max_size=3)),
    st.builds(_rule, st.sampled_from(["city", "email", "name"]), null_ops, st.none()),
)
attr_rule = st.one_of(
    st.builds(_rule, st.sampled_from([f"attributes.{k}" for k in ATTR_KEYS]),
              st.sampled_from(["=", "!="]), st.sampled_from(["gold", "GOLD", "3", True, False,
                                                             3, 0, 7.5, "12", "0400", "-2"])),
    st.builds(_rule, st.sampled_from(["attributes.age", "attributes.tier"]),
              st.sampled_from(["<", ">=", "between"]).flatmap(
                  lambda op: st.tuples(st.just(op), _pair(st.sampled_from([0, 3, 5, 7.5])))
                  if op == "between" else st.tuples(st.just(op),
                                                    st.sampled_from([0, 3, 5, "3", "7.5"]))),
              st.none()).map(lambda r: {"field": r["field"], "operator": r["operator"][0],
                                        "value": r["operator"][1]}),
    st.builds(_rule, st.sampled_from([f"attributes.{k}" for k in ATTR_KEYS]),
              st.sampled_from(["contains", "not_contains", "in", "not_in"]),
              st.sampled_from(["ol", "Gold", "s", "3", "0"])).map(
        lambda r: {**r, "value": [r["value"], "silver"]} if r["operator"].endswith("in")
        else r),
    # mixed lists: labels and number-like labels ("A1", "12"), text or JSON numbers
    st.builds(_rule, st.sampled_from([f"attributes.{k}" for k in ATTR_KEYS]),
              st.sampled_from(["in", "not_in"]),
              st.lists(st.sampled_from(["gold", "A1", "12", "3", "7.50", "0", "-2", "0400",
                                        "1,200", 3, 7.5, 0]), min_size=1, max_size=3,
                       unique=True)),
    st.builds(_rule, st.sampled_from(["attributes.age", "attributes.vip"]),
              st.sampled_from(["!=", "not_in"]), st.sampled_from([3, 0, 7.5])).map(
        lambda r: {**r, "value": [r["value"]]} if r["operator"] == "not_in" else r),
    st.builds(_rule, st.sampled_from([f"attributes.{k}" for k in ATTR_KEYS]), null_ops,
              st.none()),
)
windows = st.one_of(
    st.sampled_from([1, 2, 7, 30, 90, 365, 900]).map(lambda n: {"last_days": n}),
    _pair(dates).map(lambda p: {"from": p[0], "to": p[1]}),
)
window_rule = st.builds(
    lambda field, op_value, window, items: {
        "field": field, "operator": op_value[0], "value": op_value[1], "window": window,
        **({"items_match": {"key": "category", "value": items}} if items else {})},
    st.sampled_from(["window_order_count", "window_spend"]),
    st.one_of(st.tuples(cmp_ops, st.sampled_from([0, 1, 2, 499, 1000])),
              st.tuples(st.sampled_from(["in", "not_in"]),
                        st.lists(st.sampled_from([0, 1, 2, 500]), min_size=1, max_size=2)),
              st.tuples(st.just("between"), _pair(st.sampled_from([0, 1, 2, 999.5, 3000])))),
    windows, st.sampled_from([None, None, "shoes", "SHOES", "bags", "hats", "été"]))
leaf = st.one_of(number_rule, days_rule, date_rule, text_rule, attr_rule, window_rule).map(
    lambda r: {k: v for k, v in r.items() if not (k == "value" and v is None)})


def _group(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(lambda comb, neg, rules: {"combinator": comb, "not": neg, "rules": rules},
                     st.sampled_from(["and", "or"]), st.booleans(),
                     st.lists(children, min_size=0, max_size=4))


rule_trees = _group(st.recursive(leaf, _group, max_leaves=8))


def _insert(session: Session, customers: list[dict[str, Any]]) -> None:
    if customers:
        session.execute(sa.insert(Customer),
                        [{k: v for k, v in c.items() if k != "orders"} for c in customers])
    orders = [o for c in customers for o in c["orders"]]
    if orders:
        session.execute(sa.insert(Order), orders)
    session.commit()


def _sql_ids(session: Session, rules: dict[str, Any]) -> set[int]:
    return set(session.exec(matching_customer_ids(rules, NOW)).all())


def _ref_ids(customers: list[dict[str, Any]], rules: dict[str, Any]) -> set[int]:
    tree = parse_rules(rules)
    return {c["id"] for c in customers if matches(tree, c, NOW)}


@pytest.fixture
def population(session: Session) -> list[dict[str, Any]]:
    customers = dataset(seed=20261124, n=160)
    _insert(session, customers)
    return customers


PROPERTY = settings(max_examples=250, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@PROPERTY
@given(rules=rule_trees)
def test_sql_equals_reference_on_a_varied_population(session: Session,
                                                     population: list[dict[str, Any]],
                                                     rules: dict[str, Any]) -> None:
    assert _sql_ids(session, rules) == _ref_ids(population, rules), rules


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(0, 12), rules=rule_trees)
def test_sql_equals_reference_on_random_small_populations(session: Session, seed: int, n: int,
                                                          rules: dict[str, Any]) -> None:
    session.execute(sa.delete(Order))
    session.execute(sa.delete(Customer))
    customers = dataset(seed, n)
    _insert(session, customers)
    assert _sql_ids(session, rules) == _ref_ids(customers, rules), rules


def test_population_really_varies(session: Session, population: list[dict[str, Any]]) -> None:
    # Guard against a property that holds only because every answer is empty.
    no_orders = {"combinator": "and", "rules": [{"field": "last_order_at",
                                                 "operator": "is_null"}]}
    size = len(_sql_ids(session, no_orders))
    assert 0 < size < len(population)
    assert session.exec(select(sa.func.count()).select_from(Customer)).one() == 160
    for rule in ({"field": "window_order_count", "operator": ">", "value": 0,
                  "window": {"last_days": 365}},
                 {"field": "window_spend", "operator": ">=", "value": 1000,
                  "window": {"last_days": 900}},
                 {"field": "window_order_count", "operator": ">", "value": 0,
                  "window": {"last_days": 900}, "items_match": {"key": "category",
                                                                 "value": "shoes"}},
                 {"field": "city", "operator": "not_in", "value": ["Mumbai"]},
                 {"field": "city", "operator": "is_null"}):
        size = len(_sql_ids(session, {"combinator": "and", "rules": [rule]}))
        assert 0 < size < len(population), rule


def _every_single_rule() -> list[dict[str, Any]]:
    """Every field × operator × a spread of edge values, as one-rule groups (and NOT)."""
    rules: list[dict[str, Any]] = []
    for field in ("total_spend", "order_count", "avg_order_value"):
        for op in ("=", "!=", "<", "<=", ">", ">="):
            rules += [_rule(field, op, v) for v in (0, 1, 2, 500, 999.5, 5000, 5001)]
        rules.append(_rule(field, "between", [1, 5000]))
    for field in ("days_since_last_order", "days_since_first_order", "days_since_signup"):
        for op in ("=", "!=", "<", "<=", ">", ">="):
            rules += [_rule(field, op, v) for v in EDGE_DAYS + [401, 765, 766]]
        rules.append(_rule(field, "between", [30, 365]))
    for field in ("last_order_at", "first_order_at", "created_at"):
        for op in ("=", "!=", "<", "<=", ">", ">="):
            rules += [_rule(field, op, v) for v in ("2026-03-14", "2026-02-13", "2025-02-07",
                                                     "2025-02-08", "2024-02-09")]
    for field in ("city", "name", "email"):
        for op in ("=", "!=", "contains", "not_contains", "starts_with", "ends_with"):
            rules += [_rule(field, op, v) for v in ("zoe", "ZOË", "zurich", "_", "%", "é", "李")]
    for key in ATTR_KEYS:
        for op in ("=", "!="):
            rules += [_rule(f"attributes.{key}", op, v)
                      for v in ("gold", 3, True, False, "3", "7.5", 7.5, "0400", "1,200", 12)]
        rules += [_rule(f"attributes.{key}", ">", 2), _rule(f"attributes.{key}", "in",
                                                           ["gold", "silver"])]
    for field in ("last_order_at", "city", "name", "attributes.tier", "attributes.note",
                  "avg_order_value"):
        rules += [{"field": field, "operator": "is_null"},
                  {"field": field, "operator": "is_not_null"}]
    for field in ("city", "name", "email", "attributes.tier", "attributes.note"):
        rules += [_rule(field, "not_in", ["mumbai", "gold"]), _rule(field, "in", ["Pune"]),
                  _rule(field, "not_contains", "o"), _rule(field, "!=", "zoe")]
    rules += [_rule("attributes.age", op, 3) for op in ("!=", "not_in", "=", "in")]
    for key in ATTR_KEYS:  # numbers written as text, as a builder or a CSV user writes them
        rules += [_rule(f"attributes.{key}", ">", "3"), _rule(f"attributes.{key}", "<=", "0"),
                  _rule(f"attributes.{key}", "between", ["1", "20"]),
                  _rule(f"attributes.{key}", "between", "-2,7.5"),
                  _rule(f"attributes.{key}", "in", ["12", "3"]),
                  _rule(f"attributes.{key}", "not_in", ["0400", "12"]),
                  # labels some of which look like numbers: "12" finds 12 and "12"
                  _rule(f"attributes.{key}", "in", ["A1", "12"]),
                  _rule(f"attributes.{key}", "not_in", ["gold", "3", "7.50"]),
                  _rule(f"attributes.{key}", "in", ["silver", 3, 7.5]),
                  _rule(f"attributes.{key}", "not_in", ["0400", "-2", "Gold"])]
    rules += [_rule("days_since_last_order", "!=", 30), _rule("last_order_at", "!=",
                                                               "2026-03-14")]
    for field in ("window_order_count", "window_spend"):
        for window in ({"last_days": 1}, {"last_days": 30}, {"last_days": 365},
                       {"from": "2025-09-16", "to": "2026-03-14"}):
            for op, v in (("=", 0), (">", 0), (">=", 2), ("<", 2), ("!=", 1),
                          ("between", [1, 3]), ("not_in", [0])):
                rules.append({**_rule(field, op, v), "window": window})
            rules.append({**_rule(field, ">", 0), "window": window,
                          "items_match": {"key": "category", "value": "shoes"}})
    return rules


def test_every_single_rule_and_its_negation(session: Session,
                                            population: list[dict[str, Any]]) -> None:
    mismatches = []
    for rule in _every_single_rule():
        for negate in (False, True):
            rules = {"combinator": "and", "not": negate, "rules": [rule]}
            if _sql_ids(session, rules) != _ref_ids(population, rules):
                mismatches.append(rules)
    assert mismatches == []

"""Property: the compiled SQL selects exactly who the plain-Python evaluator selects,
on SQLite, PostgreSQL and MariaDB, for random customers and random rule trees."""

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
from mini_crm.models import Customer
from tests.segment_reference import matches

NOW = datetime(2026, 3, 15, 13, 30, 0)
CITIES = ["Mumbai", "Pune", "Zürich", "Zurich", "São Paulo", "Delhi_1", "50% Off", "李村", None]
NAMES = ["Asha Rao", "ÉLODIE", "élodie b", "Elodie", "Ravi_Kumar", "100% Ravi", "O'Brien", "Zoë",
         "zoe", None]
# Ages in days that sit exactly on the rule constants below, so off-by-one errors show.
EDGE_DAYS = [0, 1, 7, 30, 89, 90, 180, 365, 400]
ATTR_KEYS = ["tier", "age", "vip", "note"]
ATTR_VALUES = ["gold", "Gold", "silver", 3, 7.5, 0, True, False, None, "3"]


def _customer(rng: random.Random, i: int) -> dict[str, Any]:
    orders = rng.choice([0, 0, 1, 2, 3, 5, 8])
    def age() -> timedelta:
        whole = rng.choice(EDGE_DAYS) if rng.random() < 0.6 else rng.randint(0, 900)
        return timedelta(days=whole, seconds=rng.choice([0, 1, rng.randint(0, 86399), 86399]))

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
        "order_count": orders, "created_at": created, "first_order_at": first,
        "last_order_at": last, "attributes": attrs,
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
    st.builds(_rule, st.just("city"), st.sampled_from(["in", "not_in"]),
              st.lists(st.sampled_from(["mumbai", "Pune", "ZÜRICH", "李村", "50% off"]),
                       min_size=1, max_size=3)),
    st.builds(_rule, st.sampled_from(["city", "email", "name"]), null_ops, st.none()),
)
attr_rule = st.one_of(
    st.builds(_rule, st.sampled_from([f"attributes.{k}" for k in ATTR_KEYS]),
              st.sampled_from(["=", "!="]), st.sampled_from(["gold", "GOLD", "3", True, False,
                                                             3, 0, 7.5])),
    st.builds(_rule, st.sampled_from(["attributes.age", "attributes.tier"]),
              st.sampled_from(["<", ">=", "between"]).flatmap(
                  lambda op: st.tuples(st.just(op), _pair(st.sampled_from([0, 3, 5, 7.5])))
                  if op == "between" else st.tuples(st.just(op), st.sampled_from([0, 3, 5]))),
              st.none()).map(lambda r: {"field": r["field"], "operator": r["operator"][0],
                                        "value": r["operator"][1]}),
    st.builds(_rule, st.sampled_from([f"attributes.{k}" for k in ATTR_KEYS]),
              st.sampled_from(["contains", "in"]),
              st.sampled_from(["ol", "Gold", "s"])).map(
        lambda r: {**r, "value": [r["value"], "silver"]} if r["operator"] == "in" else r),
    st.builds(_rule, st.sampled_from([f"attributes.{k}" for k in ATTR_KEYS]), null_ops,
              st.none()),
)
leaf = st.one_of(number_rule, days_rule, date_rule, text_rule, attr_rule).map(
    lambda r: {k: v for k, v in r.items() if not (k == "value" and v is None)})


def _group(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(lambda comb, neg, rules: {"combinator": comb, "not": neg, "rules": rules},
                     st.sampled_from(["and", "or"]), st.booleans(),
                     st.lists(children, min_size=0, max_size=4))


rule_trees = _group(st.recursive(leaf, _group, max_leaves=8))


def _insert(session: Session, customers: list[dict[str, Any]]) -> None:
    if customers:
        session.execute(sa.insert(Customer), customers)
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
            rules += [_rule(f"attributes.{key}", op, v) for v in ("gold", 3, True, False, "3")]
        rules += [_rule(f"attributes.{key}", ">", 2), _rule(f"attributes.{key}", "in",
                                                           ["gold", "silver"])]
    for field in ("last_order_at", "city", "attributes.tier", "avg_order_value"):
        rules += [{"field": field, "operator": "is_null"},
                  {"field": field, "operator": "is_not_null"}]
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

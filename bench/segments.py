"""Segment preview latency on PostgreSQL: compiled rules vs the same queries hand-written.

    .venv/bin/python -m bench.segments --customers 1000000 --orders 10000000
    .venv/bin/python -m bench.segments --customers 100000 --orders 1000000  # a shared box

Creates a throwaway database, generates synthetic customers and orders inside PostgreSQL
(bench/segment_data.py: deterministic, customer aggregates computed from the orders,
indexes rebuilt after the load; 1M / 10M in minutes), then for
20 representative rule trees plus 5 windowed order rules times the preview (COUNT plus a
10-row sample, what the builder runs) through the compiler and through hand-written SQL,
interleaved in the same run so machine noise hits both alike. Prints p50/p95 per tree
and the ratios compiled / hand-written (p50 and p95). `--orders 0` skips the orders and
the windowed cases.

Windowed rules (window_order_count, window_spend, items_match) compile to EXISTS / NOT
EXISTS over the customer's orders grouped within the window; the hand-written baseline
is what a developer would write for each (IN over a grouped subquery, a correlated
EXISTS with json_array_elements, NOT EXISTS). They use ix_order_ordered_at and
ix_order_customer_ordered.

Indexes that matter (all in the initial migration): customer(total_spend),
customer(order_count), customer(last_order_at), customer(first_order_at),
customer(created_at), customer(city). Day-based rules compile to ranges on the
timestamp columns, so they use those indexes; text rules fold case and so scan.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from bench import segment_data
from mini_crm import migrations
from mini_crm.core import brand_time, segments
from mini_crm.db import create_db_engine

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
NOW = datetime.fromisoformat(segment_data.NOW)


def window_sql(first_day: str, last_day: str) -> str:
    """The hand-written window predicate on "order" o for brand days first..last."""
    start, end = brand_time.days_bounds(datetime.fromisoformat(first_day).date(),
                                        datetime.fromisoformat(last_day).date())
    return (f"o.ordered_at >= '{start.isoformat()}' AND o.ordered_at < '{end.isoformat()}' "
            "AND o.status NOT IN ('cancelled', 'refunded')")


def last_days(n: int) -> str:
    first, last = brand_time.last_days(n, NOW)
    return window_sql(first.isoformat(), last.isoformat())


def d(days: int) -> str:
    return f"'{(NOW - timedelta(days=days)).isoformat()}'"


# (name, rules, hand-written WHERE clause over customer)
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("spend > 5000", {"rules": [{"field": "total_spend", "operator": ">", "value": 5000}]},
     "total_spend > 5000"),
    ("spend between", {"rules": [{"field": "total_spend", "operator": "between",
                                  "value": [2000, 8000]}]},
     "total_spend >= 2000 AND total_spend <= 8000"),
    ("orders >= 3", {"rules": [{"field": "order_count", "operator": ">=", "value": 3}]},
     "order_count >= 3"),
    ("lapsed 180d", {"rules": [{"field": "days_since_last_order", "operator": ">=",
                                "value": 180}]},
     f"last_order_at IS NOT NULL AND last_order_at <= {d(180)}"),
    ("active 30d", {"rules": [{"field": "days_since_last_order", "operator": "<",
                               "value": 30}]},
     f"last_order_at IS NOT NULL AND last_order_at > {d(30)}"),
    ("never ordered", {"rules": [{"field": "last_order_at", "operator": "is_null"}]},
     "last_order_at IS NULL"),
    ("new signups", {"rules": [{"field": "days_since_signup", "operator": "<=", "value": 14}]},
     f"created_at > {d(15)}"),
    ("city =", {"rules": [{"field": "city", "operator": "=", "value": "Pune"}]},
     "lower(city) = 'pune'"),
    ("city in", {"rules": [{"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]}]},
     "lower(city) IN ('mumbai', 'pune')"),
    ("email domain", {"rules": [{"field": "email", "operator": "ends_with",
                                 "value": "@gmail.com"}]},
     "lower(email) LIKE '%@gmail.com'"),
    ("attribute", {"rules": [{"field": "attributes.loyalty_tier", "operator": "=",
                              "value": "gold"}]},
     "json_typeof(attributes -> 'loyalty_tier') = 'string' AND "
     "lower(attributes ->> 'loyalty_tier') = 'gold'"),
    ("avg order", {"rules": [{"field": "avg_order_value", "operator": ">", "value": 3000}]},
     "order_count > 0 AND round(total_spend * 1.0 / order_count, 2) > 3000"),
    ("design example", {"rules": [
        {"field": "total_spend", "operator": ">", "value": 5000},
        {"field": "days_since_last_order", "operator": ">=", "value": 180},
        {"combinator": "or", "rules": [
            {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
            {"field": "order_count", "operator": ">=", "value": 3}]}]},
     f"total_spend > 5000 AND last_order_at IS NOT NULL AND last_order_at <= {d(180)} AND "
     "((city IS NOT NULL AND lower(city) IN ('mumbai', 'pune')) OR order_count >= 3)"),
    ("win-back", {"rules": [
        {"field": "order_count", "operator": ">=", "value": 2},
        {"field": "days_since_last_order", "operator": "between", "value": [90, 365]}]},
     f"order_count >= 2 AND last_order_at <= {d(90)} AND last_order_at > {d(366)}"),
    ("not group", {"not": True, "rules": [
        {"field": "city", "operator": "=", "value": "Delhi"},
        {"field": "total_spend", "operator": "<", "value": 1000}]},
     "NOT (city IS NOT NULL AND lower(city) = 'delhi' AND total_spend < 1000)"),
    ("or of ranges", {"combinator": "or", "rules": [
        {"field": "total_spend", "operator": ">", "value": 30000},
        {"field": "order_count", "operator": ">=", "value": 10}]},
     "total_spend > 30000 OR order_count >= 10"),
    ("signed up in 2025", {"rules": [{"field": "created_at", "operator": "between",
                                      "value": ["2025-01-01", "2025-12-31"]}]},
     # Brand-calendar days (Asia/Kolkata): 2025 starts at 2024-12-31 18:30 UTC.
     "created_at >= '{}' AND created_at < '{}'".format(
         *(t.isoformat() for t in brand_time.days_bounds(datetime(2025, 1, 1).date(),
                                                         datetime(2025, 12, 31).date())))),
    ("first order recent", {"rules": [{"field": "days_since_first_order", "operator": "<",
                                       "value": 60}]},
     f"first_order_at IS NOT NULL AND first_order_at > {d(60)}"),
    ("name contains", {"rules": [{"field": "name", "operator": "contains", "value": "99"}]},
     "lower(name) LIKE '%99%'"),
    ("everyone", {"rules": []}, "TRUE"),
]
# Windowed order rules (need orders): the same (name, rules, hand-written WHERE) shape.
WINDOW_CASES: list[tuple[str, dict[str, Any], str]] = [
    (">3 orders last year", {"rules": [
        {"field": "window_order_count", "operator": ">", "value": 3,
         "window": {"from": "2025-01-01", "to": "2025-12-31"}}]},
     f'id IN (SELECT o.customer_id FROM "order" o WHERE {window_sql("2025-01-01", "2025-12-31")} '
     "GROUP BY o.customer_id HAVING count(*) > 3)"),
    ("spent >10K in 180d", {"rules": [
        {"field": "window_spend", "operator": ">", "value": 10000,
         "window": {"last_days": 180}}]},
     f'id IN (SELECT o.customer_id FROM "order" o WHERE {last_days(180)} '
     "GROUP BY o.customer_id HAVING sum(o.amount) > 10000)"),
    ("shoes in 90d", {"rules": [
        {"field": "window_order_count", "operator": ">", "value": 0,
         "window": {"last_days": 90}, "items_match": {"key": "category", "value": "shoes"}}]},
     f'EXISTS (SELECT 1 FROM "order" o WHERE o.customer_id = customer.id AND {last_days(90)} '
     "AND EXISTS (SELECT 1 FROM json_array_elements(o.items) e "
     "WHERE lower(e ->> 'category') = 'shoes'))"),
    ("no orders in 30d", {"rules": [
        {"field": "window_order_count", "operator": "=", "value": 0,
         "window": {"last_days": 30}}]},
     f'NOT EXISTS (SELECT 1 FROM "order" o WHERE o.customer_id = customer.id AND '
     f"{last_days(30)})"),
    ("Pune, ordered in 7d", {"rules": [
        {"field": "city", "operator": "=", "value": "Pune"},
        {"field": "window_order_count", "operator": ">=", "value": 1,
         "window": {"last_days": 7}}]},
     f"lower(city) = 'pune' AND EXISTS (SELECT 1 FROM \"order\" o WHERE "
     f"o.customer_id = customer.id AND {last_days(7)})"),
]


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=None,
                        help="orders to load (default 10 per customer; 0 = no windowed cases)")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--window-repeat", type=int, default=None,
                        help="repeats for the windowed cases (default --repeat)")
    parser.add_argument("--cases", default="",
                        help="only the rule trees whose name contains this text "
                             "(e.g. 'shoes'); default all")
    parser.add_argument("--keep-indexes", action="store_true",
                        help="load with the secondary indexes in place (to measure the "
                             "drop-and-rebuild the load does by default)")
    args = parser.parse_args()
    orders = 10 * args.customers if args.orders is None else args.orders
    name = f"bench_segments_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        migrations.upgrade(url)
        t0 = time.perf_counter()
        segment_data.load(url.replace("postgresql+psycopg://", "postgresql://"),
                          args.customers, orders, keep_indexes=args.keep_indexes,
                          report=lambda step, s: print(f"  {step}: {s:.1f}s", flush=True))
        print(f"loaded {args.customers:,} customers and {orders:,} orders in "
              f"{time.perf_counter() - t0:.1f}s", flush=True)
        engine = create_db_engine(url)
        print(f"{'rule tree':<20}{'size':>9}{'p50 ms':>9}{'p95 ms':>9}{'hand p50':>10}"
              f"{'hand p95':>10}{'ratio p50':>11}{'ratio p95':>11}")
        ratios, p95s = [], []
        with Session(engine) as s:
            cases = [(c, args.repeat) for c in CASES] + [
                (c, args.window_repeat or args.repeat) for c in (WINDOW_CASES if orders else [])]
            cases = [c for c in cases if args.cases in c[0][0]]
            for (label, body, where), repeat in cases:
                rules = {"combinator": body.get("combinator", "and"), "not": body.get("not", False),
                         "rules": body["rules"]}
                tree = segments.parse_rules(rules)
                hand_count = sa.text(f"SELECT count(*) FROM customer WHERE {where}")
                hand_sample = sa.text(f"SELECT id, external_id, name, email, city, total_spend, "
                                      f"order_count, last_order_at FROM customer WHERE {where} "
                                      "ORDER BY id DESC LIMIT 10")
                ours, hand = [], []
                size = segments.preview(s, tree, now=NOW).size
                assert size == s.execute(hand_count).scalar_one(), label
                for _ in range(repeat):  # interleaved: noise hits both alike
                    ours.append(timed(lambda t=tree: segments.preview(s, t, now=NOW)))
                    hand.append(timed(lambda c=hand_count, h=hand_sample: (
                        s.execute(c).scalar_one(), s.execute(h).all())))
                q = lambda xs: (statistics.median(xs), statistics.quantiles(xs, n=20)[-1])  # noqa: E731
                (o50, o95), (h50, h95) = q(ours), q(hand)
                ratios.append(o50 / h50)
                p95s.append(o95)
                print(f"{label:<20}{size:>9,}{o50:>9.1f}{o95:>9.1f}{h50:>10.1f}{h95:>10.1f}"
                      f"{o50 / h50:>11.2f}{o95 / h95:>11.2f}", flush=True)
        print(f"\nmedian ratio compiled/hand-written: {statistics.median(ratios):.2f} "
              f"(worst {max(ratios):.2f}); worst p95 {max(p95s):.0f} ms")
        engine.dispose()
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()

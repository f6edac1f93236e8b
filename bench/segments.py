"""Segment preview latency on PostgreSQL: compiled rules vs the same queries hand-written.

    .venv/bin/python -m bench.segments --customers 1000000

Creates a throwaway database, bulk-loads synthetic customers (COPY), then for 20
representative rule trees times the preview (COUNT plus a 10-row sample, what the
builder runs) through the compiler and through hand-written SQL, interleaved in
the same run so machine noise hits both alike. Prints p50/p95 per tree and the
ratio compiled / hand-written.

Indexes that matter (all in the initial migration): customer(total_spend),
customer(order_count), customer(last_order_at), customer(first_order_at),
customer(created_at), customer(city). Day-based rules compile to ranges on the
timestamp columns, so they use those indexes; text rules fold case and so scan.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlmodel import Session

from mini_crm import migrations
from mini_crm.core import segments
from mini_crm.db import create_db_engine

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2026, 11, 1, 12, 0)
CITIES = ["Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Chennai", "Kolkata", "Pune",
          "Ahmedabad", "Jaipur", "Lucknow", "Kochi", "Indore"]
TIERS = ["bronze", "silver", "gold", "platinum"]


def load(url: str, n: int) -> None:
    rng = random.Random(5)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    cols = ("external_id, name, email, city, attributes, is_stub, created_at, "
            "updated_at, total_spend, order_count, first_order_at, last_order_at")
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        chunk = 100_000
        for start in range(0, n, chunk):
            buf = io.StringIO()
            for i in range(start, min(n, start + chunk)):
                created = NOW - timedelta(days=rng.randint(0, 1000), seconds=rng.randint(0, 86399))
                orders = rng.choice([0, 0, 1, 1, 2, 3, 4, 6, 10])
                first = last = "\\N"
                spend = "0"
                if orders:
                    f = created + timedelta(days=rng.randint(0, 60))
                    lst = min(NOW, f + timedelta(days=rng.randint(0, 600)))
                    first, last = f.isoformat(), lst.isoformat()
                    spend = f"{orders * rng.uniform(300, 4000):.2f}"
                tier = rng.choice(TIERS)
                buf.write(f"b{i}\tName {i}\tu{i}@{'gmail.com' if i % 3 else 'shop.in'}\t"
                          f"{rng.choice(CITIES)}\t{{\"loyalty_tier\": \"{tier}\"}}\tf\t"
                          f"{created.isoformat()}\t{created.isoformat()}\t{spend}\t{orders}\t"
                          f"{first}\t{last}\n")
            buf.seek(0)
            with cur.copy(f"COPY customer ({cols}) FROM STDIN") as copy:
                copy.write(buf.read())
            conn.commit()
        cur.execute("ANALYZE customer")
        conn.commit()


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
     "created_at >= '2025-01-01' AND created_at < '2026-01-01'"),
    ("first order recent", {"rules": [{"field": "days_since_first_order", "operator": "<",
                                       "value": 60}]},
     f"first_order_at IS NOT NULL AND first_order_at > {d(60)}"),
    ("name contains", {"rules": [{"field": "name", "operator": "contains", "value": "99"}]},
     "lower(name) LIKE '%99%'"),
    ("everyone", {"rules": []}, "TRUE"),
]


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    name = f"bench_segments_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        migrations.upgrade(url)
        t0 = time.perf_counter()
        load(url, args.customers)
        print(f"loaded {args.customers:,} customers in {time.perf_counter() - t0:.1f}s")
        engine = create_db_engine(url)
        print(f"{'rule tree':<20}{'size':>9}{'p50 ms':>9}{'p95 ms':>9}{'hand p50':>10}"
              f"{'hand p95':>10}{'ratio p50':>11}")
        ratios, p95s = [], []
        with Session(engine) as s:
            for label, body, where in CASES:
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
                for _ in range(args.repeat):  # interleaved: noise hits both alike
                    ours.append(timed(lambda t=tree: segments.preview(s, t, now=NOW)))
                    hand.append(timed(lambda c=hand_count, h=hand_sample: (
                        s.execute(c).scalar_one(), s.execute(h).all())))
                q = lambda xs: (statistics.median(xs), statistics.quantiles(xs, n=20)[-1])  # noqa: E731
                (o50, o95), (h50, h95) = q(ours), q(hand)
                ratios.append(o50 / h50)
                p95s.append(o95)
                print(f"{label:<20}{size:>9,}{o50:>9.1f}{o95:>9.1f}{h50:>10.1f}{h95:>10.1f}"
                      f"{o50 / h50:>11.2f}")
        print(f"\nmedian ratio compiled/hand-written: {statistics.median(ratios):.2f} "
              f"(worst {max(ratios):.2f}); worst p95 {max(p95s):.0f} ms")
        engine.dispose()
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()

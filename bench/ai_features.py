"""AI features at scale: send times, lookalikes and insights beside plain scans.

    .venv/bin/python -m bench.ai_features --customers 100000 --orders 300000
    .venv/bin/python -m bench.ai_features --dialects postgresql --customers 500000

Per dialect, on a fresh database filled with synthetic customers, orders and one
campaign's log rows, each feature is timed beside the plain scan it cannot avoid:
- send times (everyone)  vs  streaming every order's ordered_at with no work (what
                             bucketing in Python would cost; the feature groups by
                             UTC quarter hour in SQL instead);
- lookalike (rules seed) vs  streaming every customer's feature columns with no work;
- insights               vs  one breakdown: the campaign's log joined to customers,
                             GROUP BY city, status (insights runs three, plus totals,
                             errors and the earlier campaigns).
Printed as ratios (feature / its scan), plus the peak Python memory (tracemalloc) of
the send-time and lookalike runs, which stays flat however large the tables are.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from mini_crm import migrations
from mini_crm.core.ai import insights, lookalike, send_time
from mini_crm.db import create_db_engine
from mini_crm.models import Campaign, CommunicationLog, Customer, Order, utcnow
from tests.databases import fresh_database

CHUNK = 5000
CITIES = ["Mumbai", "Pune", "Delhi", "Bengaluru", "Chennai", "Kolkata", "Jaipur", "Surat"]
EVERYONE = {"combinator": "and", "rules": []}
SEED = {"combinator": "and", "rules": [
    {"field": "total_spend", "operator": ">", "value": 20000},
    {"field": "days_since_last_order", "operator": "<=", "value": 30}]}


def fill(engine: sa.Engine, n_customers: int, n_orders: int) -> int:
    rng = random.Random(1)
    now = utcnow()
    with engine.begin() as conn:
        for start in range(0, n_customers, CHUNK):
            rows = []
            for i in range(start, min(n_customers, start + CHUNK)):
                count = rng.randint(0, 12)
                rows.append({
                    "external_id": f"c{i}", "name": f"Customer {i}", "email": None,
                    "phone": None, "city": rng.choice(CITIES), "attributes": {},
                    "is_stub": False,
                    "created_at": now - timedelta(days=rng.uniform(1, 1500)),
                    "updated_at": now, "order_count": count,
                    "total_spend": Decimal(rng.randint(200, 40000) if count else 0),
                    "first_order_at": now - timedelta(days=1400) if count else None,
                    "last_order_at": now - timedelta(days=rng.uniform(0, 400)) if count
                    else None})
            conn.execute(sa.insert(Customer), rows)
        first_id = conn.execute(sa.select(sa.func.min(Customer.id))).scalar_one()
        for start in range(0, n_orders, CHUNK):
            rows = []
            for i in range(start, min(n_orders, start + CHUNK)):
                at = now - timedelta(days=rng.uniform(0, 360), hours=rng.gauss(0, 3))
                rows.append({"external_id": f"o{i}", "amount": Decimal("499.00"),
                             "customer_id": first_id + rng.randrange(n_customers),
                             "currency": "INR", "status": "completed", "ordered_at": at,
                             "items": None, "created_at": at, "updated_at": at})
            conn.execute(sa.insert(Order), rows)
        campaign_id = conn.execute(sa.insert(Campaign).values(
            name="Bench", rules=EVERYONE, channel="sms", message_template="Hi",
            tags=[], status="completed", audience_size=0, created_at=now, started_at=now
        ).returning(Campaign.id)).scalar_one()
        statuses = sa.case((Customer.id % 10 == 0, "failed"),
                           (Customer.id % 7 == 0, "undelivered"), else_="delivered")
        conn.execute(sa.insert(CommunicationLog).from_select(
            ["campaign_id", "customer_id", "status", "attempts", "created_at", "updated_at"],
            select(sa.literal(campaign_id), Customer.id, statuses, sa.literal(1),
                   sa.literal(now), sa.literal(now)).where(Customer.id % 2 == 0)))
    return int(campaign_id)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def stream(session: Session, stmt: sa.Select) -> int:
    n = 0
    for part in session.execute(stmt.execution_options(yield_per=CHUNK)).partitions():
        n += len(part)
    return n


def peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def run(dialect: str, n_customers: int, n_orders: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, fresh_database(dialect, Path(tmp)) as url:
        migrations.upgrade(url)
        engine = create_db_engine(url)
        t_fill = timed(lambda: fill(engine, n_customers, n_orders))
        with Session(engine) as s:
            campaign_id = s.execute(select(sa.func.max(Campaign.id))).scalar_one()
            scan_orders = timed(lambda: stream(s, select(Order.ordered_at)))
            t_send = timed(lambda: send_time.offline_send_times(s, EVERYONE))
            scan_customers = timed(lambda: stream(s, select(
                Customer.total_spend, Customer.order_count, Customer.last_order_at,
                Customer.created_at, Customer.city)))
            t_look = timed(lambda: lookalike.lookalike(s, rules=SEED))
            # One breakdown's worth of work: the log joined to customers, by city and status.
            group = (select(Customer.city, CommunicationLog.status, sa.func.count())
                     .join(Customer, Customer.id == CommunicationLog.customer_id)
                     .where(CommunicationLog.campaign_id == campaign_id)
                     .group_by(Customer.city, CommunicationLog.status))
            t_group = timed(lambda: s.execute(group).all())
            t_ins = timed(lambda: insights.compute_insights(s, campaign_id))
            mem_send = peak_mb(lambda: send_time.offline_send_times(s, EVERYONE))
            mem_look = peak_mb(lambda: lookalike.lookalike(s, rules=SEED))
        engine.dispose()
    print(f"\n{dialect}: {n_customers:,} customers, {n_orders:,} orders "
          f"(filled in {t_fill:.1f} s)")
    print(f"  send times   {t_send:7.2f} s = {t_send / scan_orders:5.1f}× streaming the "
          f"orders ({scan_orders:.2f} s); peak Python memory {mem_send:.1f} MB")
    print(f"  lookalike    {t_look:7.2f} s = {t_look / scan_customers:5.1f}× streaming the "
          f"customers ({scan_customers:.2f} s); peak Python memory {mem_look:.1f} MB")
    print(f"  insights     {t_ins:7.2f} s = {t_ins / t_group:5.1f}× one breakdown query "
          f"({t_group:.3f} s)")


def main() -> None:
    lookalike._fit([[0.0], [1.0]], [0, 1])  # import scikit-learn outside the timings
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=300_000)
    parser.add_argument("--dialects", default="sqlite,postgresql")
    args = parser.parse_args()
    for dialect in args.dialects.split(","):
        run(dialect.strip(), args.customers, args.orders)


if __name__ == "__main__":
    main()

"""The launch statement: reachability (skip rows with reasons) against the plain filter.

    .venv/bin/python -m bench.launch --customers 100000 [--dialect postgresql|mariadb|sqlite]

A fresh database with N customers (2% without a phone, 1% opted out of SMS, 1% on
the suppression list, 3% sharing a phone with another record) and a message history
that puts 2% at the frequency cap. Times, interleaved and each rolled back so the log
never grows between runs:
- baseline: the launch as it was before skip reasons — ONE INSERT ... SELECT of the
  matching customers that pass consent and the cap as WHERE filters (reconstructed
  here; no dedupe, no suppression, no rows for the left-out);
- reach: today's launch.audience_select — one row per matching customer with its
  skip_reason (window-function dedupe, suppression and cap joins);
- dealt: the same with a 10% holdout and an A/B test (2 variants, 20% test share),
  whose ranks (ROW_NUMBER) deal the exact even split (core/campaigns/split.py);
- preview: reach.preview_reach, the same statement counted by reason.
Prints the median of --runs each and the ratios reach / baseline, preview / baseline.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from mini_crm import migrations
from mini_crm.core.campaigns import launch, reach
from mini_crm.core.segments import matching_customer_ids, parse_rules
from mini_crm.db import create_db_engine
from mini_crm.models import (
    TIMESTAMP,
    Campaign,
    CommunicationLog,
    Customer,
    DeliveryStatus,
    Suppression,
    consent_column,
    utcnow,
)
from tests.databases import fresh_database

LOG = CommunicationLog.__table__
CUSTOMER = Customer.__table__
RULES = {"combinator": "and", "rules": [{"field": "total_spend", "operator": ">=",
                                         "value": 0}]}
CAP, CAP_DAYS = 3, 7


def load(engine: sa.Engine, n: int) -> None:
    now = utcnow()
    with engine.begin() as conn:
        for start in range(0, n, 5000):
            rows = []
            for i in range(start, min(n, start + 5000)):
                phone = None if i % 50 == 7 else f"+919{(i - i % 33 if i % 33 == 1 else i):09d}"
                rows.append({"external_id": f"b-{i}", "name": f"Customer {i}",
                             "email": f"c{i}@example.in", "phone": phone, "city": "Pune",
                             "attributes": {}, "is_stub": False, "consent_sms": i % 100 != 3,
                             "created_at": now, "updated_at": now,
                             "total_spend": Decimal("1000") + i % 5000, "order_count": 1})
            conn.execute(CUSTOMER.insert(), rows)
        conn.execute(Suppression.__table__.insert(), [
            {"address": f"+919{i:09d}", "channel": "sms", "source": "bench", "created_at": now}
            for i in range(5, n, 100)])
        old = [conn.execute(Campaign.__table__.insert().values(
            name=f"old {k}", rules={}, channel="sms", message_template="x", tags=[],
            status="completed", audience_size=0, created_at=now)).inserted_primary_key[0]
            for k in range(CAP)]
        ids = [r[0] for r in conn.execute(sa.select(CUSTOMER.c.id)
                                          .where(CUSTOMER.c.id % 50 == 11))]
        for cid in old:
            conn.execute(LOG.insert(), [
                {"campaign_id": cid, "customer_id": c, "status": "delivered", "attempts": 1,
                 "created_at": now - timedelta(days=1), "updated_at": now} for c in ids])


def baseline_select(campaign_id: int, now) -> sa.Select:
    """The launch statement before skip reasons (consent and cap as filters)."""
    recent = (sa.select(LOG.c.customer_id)
              .where(LOG.c.created_at >= now - timedelta(days=CAP_DAYS),
                     LOG.c.status != DeliveryStatus.FAILED, LOG.c.campaign_id != campaign_id)
              .group_by(LOG.c.customer_id).having(sa.func.count() >= CAP))
    stamp = sa.literal(now, TIMESTAMP)
    return (matching_customer_ids(parse_rules(RULES), now)
            .where(consent_column("sms") == sa.true(), Customer.id.not_in(recent))
            .with_only_columns(sa.literal(campaign_id, sa.Integer), Customer.id,
                               sa.literal(DeliveryStatus.QUEUED, sa.String),
                               sa.literal(0, sa.Integer), stamp, stamp))


def timed(engine: sa.Engine, kind: str, campaign_id: int) -> tuple[float, int]:
    now = utcnow()
    with Session(engine) as db:
        started = time.perf_counter()
        if kind == "baseline":
            db.execute(LOG.insert().from_select(
                ["campaign_id", "customer_id", "status", "attempts", "created_at",
                 "updated_at"], baseline_select(campaign_id, now)))
        elif kind == "reach":
            db.execute(LOG.insert().from_select(
                launch.COLUMNS, launch.audience_select(campaign_id, RULES, now, "sms")))
        elif kind == "dealt":
            db.execute(LOG.insert().from_select(
                launch.COLUMNS, launch.audience_select(campaign_id, RULES, now, "sms",
                                                       holdout_percent=10, n_variants=2,
                                                       test_percent=20)))
        else:
            n = reach.preview_reach(db, RULES, "sms", now).matching
        took = time.perf_counter() - started
        if kind != "preview":
            n = db.execute(sa.select(sa.func.count()).select_from(LOG)
                           .where(LOG.c.campaign_id == campaign_id)).scalar_one()
        db.rollback()
    return took, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--dialect", default="postgresql",
                        choices=["postgresql", "mariadb", "sqlite"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.dialect, Path(tmp)) as url:
        migrations.upgrade(url)
        engine = create_db_engine(url)
        load(engine, args.customers)
        if args.dialect == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(sa.text("ANALYZE"))
        with engine.begin() as conn:
            target = conn.execute(Campaign.__table__.insert().values(
                name="bench", rules=RULES, channel="sms", message_template="x", tags=[],
                status="sending", audience_size=0, created_at=utcnow())
            ).inserted_primary_key[0]
        times: dict[str, list[float]] = {"baseline": [], "reach": [], "dealt": [],
                                          "preview": []}
        rows: dict[str, int] = {}
        for _ in range(args.runs):
            for kind in times:
                took, n = timed(engine, kind, target)
                times[kind].append(took)
                rows[kind] = n
        engine.dispose()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.dialect}, {args.customers:,} customers, median of {args.runs} runs")
    print(f"  baseline (filter, queued rows only): {med['baseline'] * 1000:8.0f} ms "
          f"({rows['baseline']:,} rows)")
    print(f"  reach (a row per match, reasons):    {med['reach'] * 1000:8.0f} ms "
          f"({rows['reach']:,} rows)")
    print(f"  dealt (holdout + A/B, ranked):       {med['dealt'] * 1000:8.0f} ms "
          f"({rows['dealt']:,} rows)")
    print(f"  preview (same statement, counted):   {med['preview'] * 1000:8.0f} ms")
    print(f"  ratio reach / baseline:   {med['reach'] / med['baseline']:.2f}")
    print(f"  ratio preview / baseline: {med['preview'] / med['baseline']:.2f}")
    print(f"  ratio dealt / reach:      {med['dealt'] / med['reach']:.2f}")


if __name__ == "__main__":
    main()

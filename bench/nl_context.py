"""What the plain-English parser knows of the data: whole table vs the old 500-row sample.

    .venv/bin/python -m bench.nl_context --customers 1000000
    .venv/bin/python -m bench.nl_context --customers 200000   # a shared box

Builds a throwaway SQLite file (migrated), bulk-inserts synthetic customers (attributes
with a few categorical keys, one of them only on the oldest 1% — the case the sample
lost), then times, in the same run:

- baseline: the old data_context query, the newest 500 customers (what each prompt paid);
- full:     core/ai/data_vocabulary's first pass over the whole table (once per process);
- steady:   a later call with nothing changed (count(*) + one indexed range read);
- changed:  a call after 1,000 customers were upserted (reads just those).

Prints each median and its ratio to the baseline, and whether the rare key was learnt.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from mini_crm import migrations
from mini_crm.core.ai import data_vocabulary
from mini_crm.db import create_db_engine
from mini_crm.models import Customer, utcnow

TIERS = ["member", "silver", "gold", "platinum"]
CHANNELS = ["sms", "email", "whatsapp"]


def _load(engine: sa.Engine, n: int) -> None:
    rng = random.Random(7)
    start = utcnow() - timedelta(days=30)
    rows = []
    for i in range(n):
        attrs = {"loyalty_tier": rng.choice(TIERS), "preferred_channel": rng.choice(CHANNELS),
                 "age_band": rng.choice(["18-24", "25-34", "35-44", "45-54"])}
        if i < n // 100:  # only the oldest customers carry it: the sample never saw it
            attrs["legacy_club"] = rng.choice(["founders", "charter"])
        at = start + timedelta(seconds=i)
        domain = rng.choice(["gmail.com", "yahoo.in", "acme.in"])
        rows.append({"external_id": f"c{i}", "email": f"c{i}@{domain}",
                     "city": "Pune", "attributes": json.dumps(attrs), "is_stub": False,
                     "consent_sms": True, "consent_email": True, "consent_whatsapp": True,
                     "created_at": at, "updated_at": at, "total_spend": 0, "order_count": 0})
        if len(rows) == 20_000:
            _insert(engine, rows)
            rows = []
    if rows:
        _insert(engine, rows)


def _insert(engine: sa.Engine, rows: list[dict]) -> None:
    cols = list(rows[0])
    stmt = sa.text(f"INSERT INTO customer ({', '.join(cols)}) VALUES "
                   f"({', '.join(':' + c for c in cols)})")
    with engine.begin() as conn:
        conn.execute(stmt, rows)


def _old_sample(db: Session) -> set[str]:
    rows = db.exec(select(Customer.attributes, Customer.email)
                   .order_by(Customer.id.desc()).limit(500)).all()
    return {k for attrs, _ in rows if isinstance(attrs, dict) for k in attrs}


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrations.upgrade(url)
        engine = create_db_engine(url)
        t = time.perf_counter()
        _load(engine, args.customers)
        print(f"loaded {args.customers:,} customers in {time.perf_counter() - t:.1f} s")
        with Session(engine) as db:
            baseline = _median(lambda: _old_sample(db), args.repeat)
            data_vocabulary.forget()
            t = time.perf_counter()
            stats = data_vocabulary.current(db)
            full = time.perf_counter() - t
            steady = _median(lambda: data_vocabulary.current(db), args.repeat)

            def change() -> None:
                now = utcnow()
                ids = random.sample(range(1, args.customers + 1), 1000)
                db.exec(sa.update(Customer).where(Customer.id.in_(ids))
                        .values(updated_at=now))
                db.commit()
                data_vocabulary.current(db)

            changed = _median(change, args.repeat)
            sample_keys = _old_sample(db)
        print(f"baseline (newest 500)   {baseline * 1000:9.1f} ms   1.00x   "
              f"knows legacy_club: {'legacy_club' in sample_keys}")
        print(f"full pass (once)        {full * 1000:9.1f} ms {full / baseline:7.1f}x   "
              f"knows legacy_club: {'legacy_club' in stats.keys}")
        print(f"steady call             {steady * 1000:9.1f} ms {steady / baseline:7.2f}x")
        print(f"after 1,000 upserts     {changed * 1000:9.1f} ms {changed / baseline:7.2f}x "
              f"(includes the UPDATE)")
        engine.dispose()


if __name__ == "__main__":
    main()

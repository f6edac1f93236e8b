"""Ingestion throughput: the HTTP API beside raw bulk upserts of the same rows.

    .venv/bin/python -m bench.ingest --orders 100000
    .venv/bin/python -m bench.ingest --customers 50000 --orders 1000000 \
        --dialects postgresql --modes queued        # the flat-memory run
    .venv/bin/python -m bench.ingest --spend-check --customers 5000 --orders 50000
        # raw ingest without / with the per-item total-spend check, same run

For SQLite and PostgreSQL, in one run: (1) raw — the same upsert functions the API
uses, called directly in batches of 1000 on one thread; (2) the API in sync mode —
uvicorn serving the real app, 4 concurrent clients posting batches of 1000;
(3) the API in queued mode (PostgreSQL) — clients post to the Redis Stream and one
consumer drains it; measured to the last row written, with the consumer's memory
sampled while it works. Prints rows/s and the ratio API / raw.

Safe on a shared machine: every database is a fresh `bench_<tag>` on the server given by
--postgresql-url (else DATABASE_URL's server, else the local one), dropped afterwards;
Redis is --redis-url (else REDIS_URL) and the run writes and deletes only keys naming
`bench-<tag>` (bench/common.py).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.common import RedisRun, add_service_args, bench_database, redis_url, server_url
from mini_crm import migrations
from mini_crm.core import apikeys
from mini_crm.core.ingestion.schemas import CustomerIn, OrderIn
from mini_crm.core.ingestion.upsert import ingest_customers, ingest_orders
from mini_crm.db import create_db_engine, session_scope
from mini_crm.settings import PROJECT_ROOT

BATCH = 1000
CLIENTS = 4


def customers(n: int, tag: str) -> list[dict]:
    return [{"external_id": f"{tag}-c{i}", "name": f"Customer {i}", "city": "Pune",
             "email": f"c{i}@example.in", "attributes": {"tier": "gold"}} for i in range(n)]


def orders(n: int, n_customers: int, tag: str) -> list[dict]:
    start = datetime(2025, 1, 1)
    return [{"external_id": f"{tag}-o{i}", "customer_external_id": f"{tag}-c{i % n_customers}",
             "amount": f"{100 + i % 900}.50", "status": "completed",
             "ordered_at": (start + timedelta(minutes=i)).isoformat()} for i in range(n)]


def batches(rows: list[dict]) -> list[list[dict]]:
    return [rows[i:i + BATCH] for i in range(0, len(rows), BATCH)]


def raw_rate(url: str, cust: list[dict], ords: list[dict]) -> float:
    engine = create_db_engine(url)
    c_models = [CustomerIn.model_validate(c) for c in cust]
    o_models = [OrderIn.model_validate(o) for o in ords]
    t0 = time.perf_counter()
    for i in range(0, len(c_models), BATCH):
        ingest_customers(c_models[i:i + BATCH], engine)
    for i in range(0, len(o_models), BATCH):
        ingest_orders(o_models[i:i + BATCH], engine)
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return (len(cust) + len(ords)) / elapsed


def spend_check_ratio(dialect: str, server: str | None, cust: list[dict],
                      ords: list[dict]) -> tuple[float, float]:
    """Raw rows/s without and with the per-item spend-limit check (core/ingestion/
    limits: the sum per customer, and two SELECTs only for a batch that could reach the
    limit, which none of these does), each on a fresh database,
    alternated twice so drift on a shared machine hits both alike; best of each."""
    from mini_crm.core.ingestion import limits

    real = limits.cannot_overflow
    rates: dict[bool, list[float]] = {False: [], True: []}
    for checked in (False, True, False, True):
        # Without the check: "cannot overflow" always, so neither the sum nor a query runs.
        limits.cannot_overflow = real if checked else (  # type: ignore[assignment]
            lambda *_a: True)
        try:
            with bench_database(dialect, server) as url:
                migrations.upgrade(url)
                rates[checked].append(raw_rate(url, cust, ords))
        finally:
            limits.cannot_overflow = real  # type: ignore[assignment]
    return max(rates[False]), max(rates[True])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, extra_env: dict[str, str]) -> tuple[subprocess.Popen, str, str]:
    with session_scope(create_db_engine(url)) as s:
        secret = apikeys.create_key(s, "bench", ["ingest", "read"]).secret
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "API_RATE_LIMIT_PER_MINUTE": "1000000",
           **extra_env}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory",
                             "mini_crm.api.app:create_api", "--port", str(port),
                             "--log-level", "warning"], env=env, cwd=PROJECT_ROOT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(base + "/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return proc, base, secret


def post_all(base: str, secret: str, path: str, rows: list[dict]) -> None:
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(timeout=120) as client, ThreadPoolExecutor(CLIENTS) as pool:
        def send(batch: list[dict]) -> None:
            r = client.post(base + path, json={"items": batch}, headers=headers)
            assert r.status_code == 202 and r.json()["rejected"] == 0, r.text
        list(pool.map(send, batches(rows)))


def api_rate(url: str, cust: list[dict], ords: list[dict], env: dict[str, str],
             drain: bool = False) -> tuple[float, list[int]]:
    """Rows/s through the API (and the stream consumer when `drain`) with `env`."""
    proc, base, secret = serve(url, env)
    consumer, rss = None, []
    try:
        if drain:
            consumer = subprocess.Popen(
                [sys.executable, "-c", "import threading, redis; from mini_crm.core.ingestion "
                 "import stream; stream.run_consumer(redis.Redis.from_url("
                 f"{env['REDIS_URL']!r}), 'bench', threading.Event())"],
                env={**os.environ, "DATABASE_URL": url, **env}, cwd=PROJECT_ROOT)
        t0 = time.perf_counter()
        post_all(base, secret, "/api/v1/customers", cust)
        if drain:  # orders after customers so order stubs are not the common case
            wait_rows(url, "customer", len(cust), consumer, rss)
        post_all(base, secret, "/api/v1/orders", ords)
        if drain:
            wait_rows(url, "order", len(ords), consumer, rss)
        return (len(cust) + len(ords)) / (time.perf_counter() - t0), rss
    finally:
        proc.terminate()
        proc.wait()
        if consumer:
            consumer.terminate()
            consumer.wait()


def wait_rows(url: str, table: str, n: int, consumer: subprocess.Popen, rss: list[int]) -> None:
    engine = create_db_engine(url)
    while True:
        with engine.connect() as c:
            done = c.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one()
        rss.append(int(Path(f"/proc/{consumer.pid}/status").read_text().split("VmRSS:")[1]
                       .split()[0]) // 1024)
        if done >= n:
            break
        time.sleep(0.2)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--dialects", default="sqlite,postgresql",
                        help="comma list of sqlite, postgresql")
    parser.add_argument("--modes", default="sync,queued",
                        help="comma list of sync, queued (queued runs on PostgreSQL only)")
    parser.add_argument("--spend-check", action="store_true",
                        help="only compare raw ingest without and with the per-item "
                             "spend-limit check (issue 12 gaps, item 1)")
    add_service_args(parser)
    args = parser.parse_args()
    wanted_modes = set(args.modes.split(","))
    print(f"{args.customers:,} customers + {args.orders:,} orders, batches of {BATCH}, "
          f"{CLIENTS} clients")
    if args.spend_check:
        print(f"{'database':<12}{'no check':>12}{'checked':>12}{'ratio':>8}")
        for dialect in args.dialects.split(","):
            tag = uuid.uuid4().hex[:6]
            server = None if dialect == "sqlite" else server_url(args, dialect)
            cust = customers(args.customers, tag)
            without, checked = spend_check_ratio(dialect, server, cust,
                                                 orders(args.orders, args.customers, tag))
            print(f"{dialect:<12}{without:>12,.0f}{checked:>12,.0f}{checked / without:>8.2f}")
        return
    print(f"{'database':<12}{'path':<10}{'rows/s':>10}{'raw rows/s':>12}{'ratio':>8}")
    for dialect in args.dialects.split(","):
        tag = uuid.uuid4().hex[:6]
        server = None if dialect == "sqlite" else server_url(args, dialect)
        cust, ords = customers(args.customers, tag), orders(args.orders, args.customers, tag)
        with bench_database(dialect, server) as raw_url:
            migrations.upgrade(raw_url)
            raw = raw_rate(raw_url, cust, ords)
        modes = []
        if "sync" in wanted_modes:
            modes.append(("sync", {"REDIS_URL": "", "INGEST_MODE": "sync"}, None))
        if dialect == "postgresql" and "queued" in wanted_modes:
            modes.append(("queued", {"INGEST_MODE": "queued"}, RedisRun(redis_url(args))))
        for mode, env, run in modes:
            try:
                with bench_database(dialect, server) as url:
                    migrations.upgrade(url)
                    rate, rss = api_rate(url, cust, ords, {**env, **(run.env() if run else {})},
                                         drain=run is not None)
            finally:
                if run is not None:
                    run.cleanup()
            print(f"{dialect:<12}{mode:<10}{rate:>10,.0f}{raw:>12,.0f}{rate / raw:>8.2f}")
            if rss:
                print(f"{'':<22}consumer RSS MB: start {rss[0]}, peak {max(rss)}, "
                      f"end {rss[-1]} over {len(rss)} samples")

if __name__ == "__main__":
    main()

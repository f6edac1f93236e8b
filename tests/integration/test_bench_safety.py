"""Benchmarks are safe on a shared machine: a run's Redis clean-up deletes its own keys,
queues and jobs and nothing else; its database is its own and is dropped."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from rq import Queue

from bench.common import RedisRun, bench_database
from tests.databases import PG_ADMIN_URL

REDIS_URL = "redis://127.0.0.1:6379/15"


def double(x: int) -> int:
    return 2 * x


def test_cleanup_deletes_the_runs_keys_queues_and_jobs_only() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    run = RedisRun(REDIS_URL)
    other = f"someone-else-{uuid.uuid4().hex[:6]}"
    # Someone else's work in the same Redis database, named much like ours.
    foreign_queue = Queue(f"{other}:default", connection=client)
    foreign_job = foreign_queue.enqueue(double, 1)
    client.set(f"{other}:mc:delivery:jobs:1", "x")
    client.set("bench-not-this-run:receipts:queue", "x")
    try:
        env = run.env()
        db = "postgresql://bench@127.0.0.1/bench_x"
        mine = run.queue("default", db).enqueue(double, 2)
        finished = run.queue("low", db).enqueue(double, 3)
        run.queue("low", db).finished_job_registry.add(finished, -1)
        client.rpush(f"{env['RECEIPT_BUFFER_PREFIX']}:queue", "r")
        client.hset(f"{env['REDIS_NAMESPACE']}mc:delivery:jobs:1", "j", "1:2")
        client.xadd(f"{env['INGEST_STREAM_PREFIX']}:stream", {"k": "v"})
        assert run.cleanup() > 0
        assert not client.exists(f"rq:job:{mine.id}", f"rq:job:{finished.id}")
        assert list(client.scan_iter(f"*{run.tag}*")) == []
        assert not any(run.tag in m.decode() for m in client.smembers("rq:queues"))
        # Theirs is untouched.
        assert client.exists(f"rq:job:{foreign_job.id}") and foreign_queue.count == 1
        assert client.get(f"{other}:mc:delivery:jobs:1") == b"x"
        assert client.get("bench-not-this-run:receipts:queue") == b"x"
    finally:
        foreign_queue.delete(delete_jobs=True)
        client.delete(f"{other}:mc:delivery:jobs:1", "bench-not-this-run:receipts:queue")


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_bench_database_is_fresh_and_dropped(dialect: str) -> None:
    server = PG_ADMIN_URL if dialect == "postgresql" else None
    with bench_database(dialect, server) as url:
        name = sa.engine.make_url(url).database
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        engine.dispose()
    if dialect == "postgresql":
        admin = sa.create_engine(PG_ADMIN_URL)
        with admin.connect() as conn:
            assert conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                {"n": name}).first() is None
        admin.dispose()
    else:
        assert name.endswith(".db") and not Path(name).exists()

"""Queued ingestion on real Redis: the stream, the consumer group, crashes, dead letters."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.core import redis_conn
from mini_crm.core.ingestion import stream
from mini_crm.core.ingestion.schemas import OrderIn
from mini_crm.models import Customer, Order
from mini_crm.settings import PROJECT_ROOT, get_settings

REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture
def queued(app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[redis.Redis]:
    prefix = f"test:{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("INGEST_STREAM_PREFIX", prefix)
    monkeypatch.setenv("INGEST_RECLAIM_IDLE_SECONDS", "1")
    get_settings.cache_clear()
    redis_conn.reset_cache()
    client = redis_conn.get_redis()
    assert client is not None, "these tests need Redis at " + REDIS_URL
    yield client
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    get_settings.cache_clear()
    redis_conn.reset_cache()


def _orders(n: int, prefix: str, customers: int = 7) -> list[dict]:
    return [{"external_id": f"{prefix}-{i}", "customer_external_id": f"c{i % customers}",
             "amount": "10.00", "ordered_at": "2025-06-01T10:00:00Z"} for i in range(n)]


def _totals(engine: sa.Engine) -> tuple[int, Decimal, int]:
    with Session(engine) as s:
        orders = s.exec(select(sa.func.count()).select_from(Order)).one()
        spend, count = s.exec(select(sa.func.sum(Customer.total_spend),
                                     sa.func.sum(Customer.order_count))).one()
    return orders, Decimal(spend or 0), int(count or 0)


def test_api_queues_and_the_consumer_writes(api: TestClient, make_key, queued) -> None:
    h = make_key("ingest")
    r = api.post("/api/v1/orders", json={"items": _orders(50, "a") + [{"external_id": "bad"}]},
                 headers=h)
    assert r.status_code == 202
    assert r.json()["mode"] == "queued" and r.json()["accepted"] == 50
    assert _totals(_engine())[0] == 0  # not written until a consumer takes it
    written = stream.consume_once(queued, "t1", block_ms=100)
    assert written == 50
    assert _totals(_engine()) == (50, Decimal("500.00"), 50)
    assert queued.xlen(stream.Names.from_settings().stream) == 0  # acked and removed


def _engine() -> sa.Engine:
    from mini_crm.db import get_engine

    return get_engine()


def test_poison_goes_to_dead_letters_and_can_be_replayed(queued, app_settings) -> None:
    names = stream.Names.from_settings()
    queued.xadd(names.stream, {"kind": "orders", "items": b"{not json"})
    good = [OrderIn.model_validate(o) for o in _orders(3, "g")]
    stream.enqueue(queued, "orders", good)
    for _attempt in range(4):  # fails, is retried after the idle time, then dead-lettered
        stream.consume_once(queued, "t1", block_ms=50)
        time.sleep(1.1)
    dead = stream.dead_letters(queued)
    assert len(dead) == 1 and "JSONDecodeError" in dead[0]["error"]
    assert _totals(app_settings)[0] == 3  # the good entry was not held up

    # Fix the cause (here: replace the payload), then replay.
    queued.xdel(names.dead, dead[0]["id"])
    fixed = queued.xadd(names.dead, {"kind": "orders", "items": stream.json.dumps(
        _orders(2, "fixed")), "error": "x"}).decode()
    stream.replay(queued, fixed)
    stream.consume_once(queued, "t1", block_ms=50)
    assert _totals(app_settings)[0] == 5
    assert stream.dead_letters(queued) == []


CONSUMER = """
import threading, redis
from mini_crm.core.ingestion import stream
stream.run_consumer(redis.Redis.from_url({url!r}), {name!r}, threading.Event())
"""


def _start_consumer(name: str) -> subprocess.Popen:
    env = dict(os.environ)  # carries DATABASE_URL, REDIS_URL, the prefix and idle time
    return subprocess.Popen([sys.executable, "-c", CONSUMER.format(url=REDIS_URL, name=name)],
                            env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def test_consumers_killed_mid_batch_lose_nothing_and_count_nothing_twice(queued,
                                                                        app_settings) -> None:
    entries, per_entry = 30, 400
    for e in range(entries):
        stream.enqueue(queued, "orders", [OrderIn.model_validate(o)
                                          for o in _orders(per_entry, f"e{e}", customers=11)])
    rng = random.Random(7)
    for round_ in range(4):  # start, let it work a little, SIGKILL
        proc = _start_consumer(f"victim-{round_}")
        time.sleep(rng.uniform(1.3, 2.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    survivor = _start_consumer("survivor")
    try:
        deadline = time.monotonic() + 90
        names = stream.Names.from_settings()
        # On a loaded machine the victims may die before any of them created the group.
        stream.ensure_group(queued, names)
        while time.monotonic() < deadline:
            try:
                pending = queued.xpending(names.stream, stream.GROUP)["pending"]
            except redis.ResponseError:  # NOGROUP: on a loaded machine no consumer has
                time.sleep(0.5)          # started far enough to create the group yet
                continue
            if queued.xlen(names.stream) == 0 and pending == 0:
                break
            time.sleep(0.5)
    finally:
        survivor.send_signal(signal.SIGKILL)
        survivor.wait()
    total = entries * per_entry
    assert _totals(app_settings) == (total, Decimal(total * 10), total)
    with Session(app_settings) as s:  # and every customer's stats equal its orders
        for c in s.exec(select(Customer)).all():
            n = s.exec(select(sa.func.count()).select_from(Order)
                       .where(Order.customer_id == c.id)).one()
            assert (c.order_count, c.total_spend) == (n, Decimal(n * 10))

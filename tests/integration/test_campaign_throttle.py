"""The per-vendor rate limit and concurrency cap, in Redis and in process."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis

from mini_crm.core import redis_conn
from mini_crm.core.delivery import throttle
from mini_crm.settings import get_settings

REDIS_URL = "redis://127.0.0.1:6379/9"


@pytest.fixture(params=["", REDIS_URL], ids=["in-process", "redis"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REDIS_URL", request.param)
    get_settings.cache_clear()
    redis_conn.reset_cache()
    vendor = f"test-{uuid.uuid4().hex[:8]}"
    yield vendor
    if request.param:
        redis.Redis.from_url(REDIS_URL).delete(f"{throttle.PREFIX}:{vendor}:bucket",
                                               f"{throttle.PREFIX}:{vendor}:slots")
    get_settings.cache_clear()
    redis_conn.reset_cache()


def test_bucket_lends_and_makes_the_next_caller_wait(backend: str, monkeypatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(throttle, "_sleep", slept.append)
    assert throttle.wait_for_rate(backend, 100, 60) == 0  # within the burst of 100
    wait = throttle.wait_for_rate(backend, 100, 100)  # 40 left: 60 borrowed = 0.6 s
    assert 0.5 < wait <= 0.61 and slept == [wait]
    assert throttle.wait_for_rate(backend, 0, 10**6) == 0  # 0 = no limit


def test_slots_cap_concurrency_across_callers(backend: str) -> None:
    inside, peak, lock = 0, 0, threading.Lock()

    def work() -> None:
        nonlocal inside, peak
        with throttle.slot(backend, 2, lease_seconds=30):
            with lock:
                inside += 1
                peak = max(peak, inside)
            time.sleep(0.05)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert peak == 2 and inside == 0


def test_a_dead_holders_slot_expires() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    key = f"{throttle.PREFIX}:test-{uuid.uuid4().hex[:8]}:slots"
    try:
        assert client.eval(throttle._ACQUIRE, 1, key, 1, 0.2, "a") == 1
        assert client.eval(throttle._ACQUIRE, 1, key, 1, 0.2, "b") == 0  # full
        time.sleep(0.3)  # "a" never released: its lease runs out
        assert client.eval(throttle._ACQUIRE, 1, key, 1, 0.2, "c") == 1
    finally:
        client.delete(key)

"""The per-vendor rate limit and concurrency cap, in Redis and in process."""

from __future__ import annotations

import os
import subprocess
import sys
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


def test_a_live_holder_keeps_its_slot_past_the_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lease is renewed while the block runs: a request slower than the lease does
    not lose its slot to the next caller (which would break the cap)."""
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    redis_conn.reset_cache()
    client = redis.Redis.from_url(REDIS_URL)
    vendor = f"test-{uuid.uuid4().hex[:8]}"
    key = f"{throttle._prefix()}:{vendor}:slots"
    try:
        with throttle.slot(vendor, 1, lease_seconds=0.4):
            deadline = time.monotonic() + 1.5  # almost four leases
            while time.monotonic() < deadline:
                assert client.eval(throttle._ACQUIRE, 1, key, 1, 0.4, "other") == 0
                time.sleep(0.1)
        assert client.eval(throttle._ACQUIRE, 1, key, 1, 0.4, "other") == 1  # released
    finally:
        client.delete(key)
        get_settings.cache_clear()
        redis_conn.reset_cache()


def test_a_sigkilled_holders_slot_comes_back_after_one_lease(tmp_path) -> None:
    """A worker killed mid-request frees its slot one lease later, not never."""
    client = redis.Redis.from_url(REDIS_URL)
    vendor = f"test-{uuid.uuid4().hex[:8]}"
    key = f"{throttle._prefix()}:{vendor}:slots"
    ready = tmp_path / "holding"
    code = (f"from mini_crm.core.delivery import throttle; import time, pathlib\n"
            f"with throttle.slot({vendor!r}, 1, lease_seconds=1.0):\n"
            f"    pathlib.Path({str(ready)!r}).touch(); time.sleep(60)\n")
    env = {**os.environ, "REDIS_URL": REDIS_URL}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.5)  # past one lease: still held, because the holder renews it
        assert client.eval(throttle._ACQUIRE, 1, key, 1, 1.0, "other") == 0
        proc.kill()
        proc.wait(10)
        killed_at = time.monotonic()
        while not client.eval(throttle._ACQUIRE, 1, key, 1, 1.0, "other"):
            assert time.monotonic() - killed_at < 10, "the dead holder's slot never came back"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        client.delete(key)

"""Per-vendor rate limit and concurrency cap, shared by every worker process.

With Redis both live there (one Lua script each, so a check-and-take is atomic
across machines); without Redis (the embedded mode, one process) they live in
this process. The rate limit is a token bucket that lends: a caller asking for
more tokens than are left takes them anyway and is told how long to wait, so a
500-message request against a 100/s limit waits 5 s instead of spinning.
The concurrency cap is a semaphore of leases that expire: a worker killed while
holding a slot gives it back after `lease_seconds` on its own.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis

from mini_crm.core.redis_conn import get_redis
from mini_crm.settings import get_settings

# The rate limiter's own sleep, so a test can replace it without touching time.sleep
# for every other thread in the process.
_sleep = time.sleep

PREFIX = "mc:vendor"


def _prefix() -> str:
    return get_settings().redis_namespace + PREFIX

_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local rate, burst, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(v[1]) or burst
local ts = tonumber(v[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate) - n
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
if tokens >= 0 then return 0 end
return math.ceil(-tokens / rate * 1000)
"""

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 2))
  return 1
end
return 0
"""


class _LocalBucket:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: float | None = None
        self.ts = time.monotonic()

    def take(self, rate: float, burst: float, n: int) -> float:
        with self.lock:
            now = time.monotonic()
            tokens = burst if self.tokens is None else self.tokens
            self.tokens = min(burst, tokens + (now - self.ts) * rate) - n
            self.ts = now
            return 0.0 if self.tokens >= 0 else -self.tokens / rate


_local_buckets: dict[str, _LocalBucket] = {}
_local_sems: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_local_lock = threading.Lock()


def wait_for_rate(vendor: str, per_second: int, n: int,
                  stop: Callable[[], bool] | None = None) -> float:
    """Take `n` tokens from the vendor's bucket, sleeping as long as it says; 0 = no limit.
    `stop` is asked every STOP_CHECK_SECONDS of the sleep and ends it early when true."""
    if per_second <= 0 or n <= 0:
        return 0.0
    client = get_redis()
    wait = None
    if client is not None:
        try:
            wait = int(client.eval(_BUCKET, 1, f"{_prefix()}:{vendor}:bucket", per_second,
                                   per_second, n)) / 1000
        except redis.RedisError:
            wait = None
    if wait is None:
        with _local_lock:
            bucket = _local_buckets.setdefault(vendor, _LocalBucket())
        wait = bucket.take(per_second, per_second, n)
    if wait > 0:
        sleep_unless(wait, stop)
    return wait


STOP_CHECK_SECONDS = 0.25


def sleep_unless(seconds: float, stop: Callable[[], bool] | None) -> bool:
    """Sleep `seconds`, in slices when `stop` is given; False when `stop` cut it short."""
    if stop is None:
        _sleep(seconds)
        return True
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if stop():
            return False
        _sleep(min(left, STOP_CHECK_SECONDS))
    return True


@contextmanager
def slot(vendor: str, limit: int, lease_seconds: float) -> Iterator[None]:
    """Hold one of the vendor's `limit` concurrent request slots for the block."""
    client = get_redis()
    if client is not None:
        key, token = f"{_prefix()}:{vendor}:slots", uuid.uuid4().hex
        try:
            while not int(client.eval(_ACQUIRE, 1, key, limit, lease_seconds, token)):
                time.sleep(0.02)
        except redis.RedisError:
            client = None
        else:
            try:
                yield
            finally:
                with contextlib.suppress(redis.RedisError):  # else the lease expires
                    client.zrem(key, token)
            return
    with _local_lock:
        sem = _local_sems.setdefault((vendor, limit), threading.BoundedSemaphore(limit))
    with sem:
        yield

"""Per-vendor rate limit and concurrency cap, shared by every worker process.

With Redis both live there (one Lua script each, so a check-and-take is atomic
across machines); without Redis (the embedded mode, one process) they live in
this process. The rate limit is a token bucket that lends: a caller asking for
more tokens than are left takes them anyway and is told how long to wait, so a
500-message request against a 100/s limit waits 5 s instead of spinning.
The concurrency cap is a semaphore of leases that expire: a worker killed while
holding a slot gives it back after `lease_seconds` on its own. A live holder renews
its leases (one thread per process, every quarter lease), so a lease can be short
whatever a request takes: SLOT_LEASE_SECONDS = 10 s. It used to be a fixed 30 s
with no renewal, so each SIGKILLed worker took up to VENDOR_CONCURRENCY slots out of
service for 30 s; three kills in a row stalled a 1,500-message campaign (4 slots,
100 ms vendor) from ~40 s to over 70 s.
"""

from __future__ import annotations

import contextlib
import logging
import os
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
log = logging.getLogger(__name__)


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


_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local n = 0
for i = 2, #ARGV do n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', now, ARGV[i]) end
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 2))
return n
"""

# Long enough that a renewal thread starved by a busy process (GIL, a loaded host)
# still renews in time; short enough that a killed worker's slots come back soon.
SLOT_LEASE_SECONDS = 10.0


class _Renewer:
    """This process's held slot leases, renewed every quarter lease by one daemon thread.

    Renewal is ZADD XX: a lease that already expired (and may have been handed to
    someone else) is never brought back, so the cap is not exceeded by a renewal."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: dict[str, dict[str, float]] = {}  # key -> token -> lease seconds
        self.pid = 0
        self.wake = threading.Event()  # a new, maybe shorter, lease: renew on its clock

    def add(self, key: str, token: str, lease: float) -> None:
        with self.lock:
            self.held.setdefault(key, {})[token] = lease
            self.wake.set()
            if self.pid != os.getpid():  # first use, or a forked child: its own thread
                self.pid = os.getpid()
                threading.Thread(target=self._run, name="slot-renewer", daemon=True).start()

    def remove(self, key: str, token: str) -> None:
        with self.lock:
            tokens = self.held.get(key, {})
            tokens.pop(token, None)
            if not tokens:
                self.held.pop(key, None)

    def renew_once(self) -> float:
        """Renew every held lease now; the seconds until the next renewal is due."""
        with self.lock:
            held = {k: dict(v) for k, v in self.held.items()}
        client = get_redis()
        for key, tokens in held.items():
            if client is None:
                break
            lease = min(tokens.values())
            try:
                client.eval(_RENEW, 1, key, lease, *tokens)
            except redis.RedisError as exc:  # the lease may run out; the cap then loosens
                log.warning("slot lease renewal failed: %s", exc)
        leases = [lease for tokens in held.values() for lease in tokens.values()]
        return min(leases, default=SLOT_LEASE_SECONDS) / 4

    def _run(self) -> None:
        while True:
            self.wake.clear()
            self.wake.wait(self.renew_once())


_renewer = _Renewer()


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
def slot(vendor: str, limit: int, lease_seconds: float = SLOT_LEASE_SECONDS
         ) -> Iterator[None]:
    """Hold one of the vendor's `limit` concurrent request slots for the block.

    With Redis the slot is a lease of `lease_seconds`, renewed while the block runs;
    a holder that dies without leaving the block frees it `lease_seconds` later."""
    client = get_redis()
    if client is not None:
        key, token = f"{_prefix()}:{vendor}:slots", uuid.uuid4().hex
        try:
            while not int(client.eval(_ACQUIRE, 1, key, limit, lease_seconds, token)):
                time.sleep(0.02)
        except redis.RedisError:
            client = None
        else:
            _renewer.add(key, token, lease_seconds)
            try:
                yield
            finally:
                _renewer.remove(key, token)
                with contextlib.suppress(redis.RedisError):  # else the lease expires
                    client.zrem(key, token)
            return
    with _local_lock:
        sem = _local_sems.setdefault((vendor, limit), threading.BoundedSemaphore(limit))
    with sem:
        yield

"""Periodic tasks (sweepers, schedulers) that keep the database-driven work moving.

The tasks themselves are listed, with their periods, in `periodic_tasks` (plain imports;
the doors import that module, which registers them here with `every(seconds)`).
`run_forever` runs them in one thread: in `mini-crm worker` when Redis is used, in the
app process otherwise.

With Redis, every `mini-crm worker` host runs `run_forever` but only the holder of a
leader lease runs the tasks: the lease is a Redis key taken with SET NX PX and renewed
every third of PERIODIC_LEASE_SECONDS by a thread of its own (so a long task does not
lose it); a host that dies stops renewing, and another takes over within the lease.
Tasks stay idempotent all the same: a host paused longer than the lease (a stopped VM)
may finish the task in hand after another took over.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from mini_crm.core.redis_conn import get_redis
from mini_crm.settings import Settings, get_settings

log = logging.getLogger(__name__)

@dataclass
class _Task:
    func: Callable[[], object]
    seconds: float
    next_at: float = field(default=0.0)


_tasks: dict[str, _Task] = {}


def every(seconds: float) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Register `func` to run every `seconds`; keyed by its qualified name, so registering
    the same function again replaces its entry instead of running it twice."""
    def register(func: Callable[[], object]) -> Callable[[], object]:
        _tasks[f"{func.__module__}.{func.__qualname__}"] = _Task(func, seconds)
        return func
    return register


def run_due(now: float | None = None) -> None:
    now = time.monotonic() if now is None else now
    for name, task in list(_tasks.items()):
        if now >= task.next_at:
            task.next_at = now + task.seconds
            try:
                task.func()
            except Exception:
                log.exception("periodic task %s failed", name)


LEADER_KEY = "mc:periodic:leader"


def leader_key(settings: Settings | None = None) -> str:
    """The lease's Redis key: REDIS_NAMESPACE + LEADER_KEY + ":" + the database's
    fingerprint. The periodic tasks work on one database, so one leader per database:
    with a key shared by two installs on one Redis, only one install's sweepers ran and
    the other's receipts, scheduled campaigns and A/B decisions waited for ever.
    `settings` are this process's unless given (a test or benchmark watching the lease
    of worker hosts it started with their own DATABASE_URL and REDIS_NAMESPACE)."""
    settings = settings or get_settings()
    return f"{settings.redis_namespace}{LEADER_KEY}:{settings.database_fingerprint}"


# Renew only our own lease; release only our own lease.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Leadership:
    """A leader lease in Redis: `key` holds the leader's token with an expiry of
    `lease_seconds`. `is_leader` is set while this process holds it."""

    def __init__(self, client: redis.Redis, key: str, lease_seconds: float,
                 token: str | None = None) -> None:
        self.client = client
        self.key = key
        self.lease_ms = int(lease_seconds * 1000)
        self.token = token or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.is_leader = threading.Event()

    @classmethod
    def from_settings(cls, client: redis.Redis) -> Leadership:
        settings = get_settings()
        return cls(client, leader_key(), settings.periodic_lease_seconds)

    def refresh(self) -> bool:
        """Renew the lease if ours, else try to take it; returns whether we lead now.
        Redis not answering counts as not leading (our lease may be gone)."""
        try:
            held = bool(self.client.eval(_RENEW, 1, self.key, self.token, self.lease_ms)) or \
                bool(self.client.set(self.key, self.token, nx=True, px=self.lease_ms))
        except redis.RedisError as exc:
            log.warning("periodic tasks: Redis unavailable for the leader lease: %s", exc)
            held = False
        if held and not self.is_leader.is_set():
            log.info("periodic tasks: this process leads (%s)", self.token)
            self.is_leader.set()
        elif not held and self.is_leader.is_set():
            log.warning("periodic tasks: lease lost (%s); another host leads", self.token)
            self.is_leader.clear()
        return held

    def keep(self, stop: threading.Event) -> None:
        """Refresh every third of the lease until `stop`, then release the lease."""
        while not stop.is_set():
            self.refresh()
            stop.wait(self.lease_ms / 3000)
        self.release()

    def release(self) -> None:
        self.is_leader.clear()
        with contextlib.suppress(redis.RedisError):  # else it expires on its own
            self.client.eval(_RELEASE, 1, self.key, self.token)


def current_leader(client: redis.Redis) -> str | None:
    """The token (host:pid:nonce) of the process leading the periodic tasks, if any."""
    value = client.get(leader_key())
    return value.decode() if value is not None else None


def run_forever(stop: threading.Event, tick: float = 1.0,
                leader: Leadership | None = None) -> None:
    """Run due tasks every `tick` seconds until `stop`. With Redis (or an explicit
    `leader`), only while this process holds the leader lease."""
    client = get_redis() if leader is None else None
    if client is not None:
        leader = Leadership.from_settings(client)
    keeper = None
    if leader is not None:
        leader.refresh()
        keeper = threading.Thread(target=leader.keep, args=(stop,), daemon=True,
                                  name="mini-crm-leader")
        keeper.start()
    while not stop.is_set():
        if leader is None or leader.is_leader.is_set():
            run_due()
        stop.wait(tick)
    if keeper is not None:
        keeper.join(5)


def start_in_thread() -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(stop,), name="mini-crm-periodic",
                     daemon=True).start()
    return stop

"""Per-key request rate limits: a fixed one-minute window, in Redis when it answers.

Redis makes the limit hold across app instances; without it each process keeps
its own counters (the embedded single-process mode).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import redis

from mini_crm.core.redis_conn import get_redis
from mini_crm.settings import get_settings

WINDOW_SECONDS = 60
_local: dict[tuple[str, int], int] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: int  # seconds until the window resets (when not allowed)


def hit(key: str, limit: int, now: float | None = None, prefix: str = "mc:rl") -> Decision:
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    reset_in = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    client = get_redis()
    name = f"{get_settings().redis_namespace}{prefix}:{key}:{window}"
    count = _redis_hit(client, name) if client else None
    if count is None:
        count = _local_hit(key, window)
    if count > limit:
        return Decision(False, 0, reset_in)
    return Decision(True, limit - count, 0)


def _redis_hit(client: redis.Redis, name: str) -> int | None:
    try:
        pipe = client.pipeline()
        pipe.incr(name)
        pipe.expire(name, WINDOW_SECONDS * 2)
        return int(pipe.execute()[0])
    except redis.RedisError:
        return None  # Redis went away: fall back to this process's counters


def _local_hit(key: str, window: int) -> int:
    with _lock:
        for old in [k for k in _local if k[1] < window]:
            del _local[old]
        _local[(key, window)] = _local.get((key, window), 0) + 1
        return _local[(key, window)]

"""The Redis connection, or None in the embedded mode (no REDIS_URL, or nothing answers)."""

from __future__ import annotations

import threading
import time

import redis

from mini_crm.settings import get_settings

_lock = threading.Lock()
_cached: tuple[float, redis.Redis | None] | None = None
_RECHECK_SECONDS = 30.0


def redis_configured() -> bool:
    return bool(get_settings().redis_url)


def probe(url: str) -> redis.Redis | None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError:
        return None
    return client


def get_redis() -> redis.Redis | None:
    """A live client when Redis answers at REDIS_URL; the answer is cached briefly."""
    global _cached
    url = get_settings().redis_url
    if not url:
        return None
    with _lock:
        now = time.monotonic()
        if _cached is None or now - _cached[0] > _RECHECK_SECONDS:
            _cached = (now, probe(url))
        return _cached[1]


def reset_cache() -> None:
    global _cached
    with _lock:
        _cached = None

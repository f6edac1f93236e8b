"""The cancel gate: once a cancel has answered, no new vendor request for its campaign starts.

Every vendor request of a campaign passes the gate: a worker `opens` a request right
before it calls the vendor (refused once the campaign is stopped) and `closes` it when
the vendor has answered and the rows are marked. `stop` (the cancel) shuts the gate
and returns, atomically, the requests open at that instant: the ones "in flight", which
the vendor may still accept after the cancel — their rows stay with their workers and
end `sent` or `failed` by the vendor's answer. Every later open is refused.

With Redis, open and stop are one Lua script each over two keys per campaign, so the
handshake holds across worker processes and machines; without Redis (embedded mode:
jobs run inside the app process) the same under a lock in this process. The database
status is the other half of the check (`delivery` reads it after opening): a cancel
whose Redis write failed still stops every worker at its next request, only without
an exact in-flight count. With REDIS_URL set but Redis not answering, workers in other
processes may hold requests this process cannot see, so the count is reported as
unknown (`Stopped.unknown`, "unknown: Redis unreachable"), never as this process's
partial count.

An open request's entry expires after `lease_seconds` (a worker killed mid-request
does not count as in flight for ever).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from dataclasses import dataclass

import redis

from mini_crm.core.redis_conn import get_redis, redis_configured
from mini_crm.settings import get_settings

STOPPED_TTL_SECONDS = 7 * 24 * 3600

_OPEN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(t[1]) + tonumber(t[2]) / 1e6, ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""

_STOP = """
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
return redis.call('ZRANGEBYSCORE', KEYS[2], now - tonumber(ARGV[2]), '+inf')
"""


@dataclass(frozen=True)
class Request:
    """One vendor request: its log ids run from first_id to last_id, `size` messages."""

    token: str
    first_id: int
    last_id: int
    size: int

    def member(self) -> str:
        return f"{self.token}:{self.first_id}:{self.last_id}:{self.size}"

    @classmethod
    def parse(cls, raw: str | bytes) -> Request:
        text = raw.decode() if isinstance(raw, bytes) else raw
        token, first, last, size = text.rsplit(":", 3)
        return cls(token, int(first), int(last), int(size))


REDIS_UNREACHABLE = "unknown: Redis unreachable"


@dataclass
class Stopped:
    """What a stop found: the requests known to be in flight, and `unknown`, why the
    full count cannot be known (None when `in_flight` is complete). With Redis
    unreachable `in_flight` holds only what this process saw (its rows are still left
    to their requests), `unknown` is REDIS_UNREACHABLE and `messages` is None."""

    in_flight: list[Request]
    unknown: str | None = None

    @property
    def messages(self) -> int | None:
        return None if self.unknown else sum(r.size for r in self.in_flight)


def _scope(campaign_id: int) -> str:
    """Campaign ids are per database: the keys name the database too, so two databases
    sharing one Redis (test runs, staging beside production) never stop each other."""
    settings = get_settings()
    return f"{settings.redis_namespace}mc:campaign:{settings.database_fingerprint}:" \
           f"{campaign_id}"


def _keys(campaign_id: int) -> tuple[str, str]:
    base = _scope(campaign_id)
    return f"{base}:stopped", f"{base}:inflight"


def _lease() -> float:
    return max(30.0, float(get_settings().delivery_claim_timeout_seconds))


_lock = threading.Lock()
_stopped: set[str] = set()
_open: dict[str, dict[str, tuple[Request, float]]] = {}


def open_request(campaign_id: int, first_id: int, last_id: int, size: int) -> Request | None:
    """Register a vendor request about to start; None when the campaign is stopped."""
    request = Request(uuid.uuid4().hex, first_id, last_id, size)
    client = get_redis()
    if client is not None:
        stopped, inflight = _keys(campaign_id)
        try:
            ok = int(client.eval(_OPEN, 2, stopped, inflight, request.member(),
                                 int(_lease() * 2)))
        except redis.RedisError:
            return request  # the database status still decides (delivery reads it next)
        return request if ok else None
    scope = _scope(campaign_id)
    with _lock:
        if scope in _stopped:
            return None
        _open.setdefault(scope, {})[request.token] = (request, time.monotonic())
    return request


def close_request(campaign_id: int, request: Request) -> None:
    """The vendor answered and the rows are marked: no longer in flight."""
    client = get_redis()
    if client is not None:
        with contextlib.suppress(redis.RedisError):  # else the entry's lease runs out
            client.zrem(_keys(campaign_id)[1], request.member())
        return
    with _lock:
        _open.get(_scope(campaign_id), {}).pop(request.token, None)


def stop(campaign_id: int) -> Stopped:
    """Shut the gate for good; returns the requests open at that instant."""
    client = get_redis()
    if client is not None:
        stopped, inflight = _keys(campaign_id)
        try:
            raw = client.eval(_STOP, 2, stopped, inflight, STOPPED_TTL_SECONDS, _lease())
        except redis.RedisError:
            return Stopped([], REDIS_UNREACHABLE)
        return Stopped([Request.parse(m) for m in raw])
    scope = _scope(campaign_id)
    with _lock:
        _stopped.add(scope)
        now = time.monotonic()
        live = [r for r, at in _open.get(scope, {}).values() if now - at < _lease()]
    # Redis configured but not answering: other processes' requests are invisible here.
    return Stopped(live, REDIS_UNREACHABLE if redis_configured() else None)


def reset(campaign_id: int) -> None:
    """At launch: a campaign that is starting is not stopped. (Ids are only ever reused
    by a database that was emptied — SQLite reuses the highest id after a delete — and
    a stop left from the old campaign must not hold the new one.)"""
    client = get_redis()
    if client is not None:
        with contextlib.suppress(redis.RedisError):
            client.delete(*_keys(campaign_id))
        return
    scope = _scope(campaign_id)
    with _lock:
        _stopped.discard(scope)
        _open.pop(scope, None)


def is_stopped(campaign_id: int) -> bool:
    """A cheap look (no registration): for waits that should end early on a cancel."""
    client = get_redis()
    if client is not None:
        try:
            return bool(client.exists(_keys(campaign_id)[0]))
        except redis.RedisError:
            return False
    with _lock:
        return _scope(campaign_id) in _stopped

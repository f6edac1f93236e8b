"""Which delivery jobs are waiting or running, per campaign, so the sweeper can tell
rows that a job will still reach from rows nobody will.

RQ: a Redis hash per campaign, job id -> "first:last"; RQ itself says each job's
status. In-process: the executor's futures. Everything here is advisory: a missing
entry only makes the sweeper enqueue a job that finds nothing to claim.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from mini_crm.core.redis_conn import get_redis
from mini_crm.settings import get_settings

# {database fingerprint}:{campaign id}: campaign ids are per database, and two installs
# can share one Redis.
KEY = "mc:delivery:jobs:{}:{}"
TTL_SECONDS = 3 * 24 * 3600
_WAITING = {JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED}



def _key(campaign_id: int) -> str:
    settings = get_settings()
    return settings.redis_namespace + KEY.format(settings.database_fingerprint, campaign_id)


_local: dict[int, list[tuple[Future, int, int]]] = {}
_lock = threading.Lock()


def remember(campaign_id: int, handle: str | Future, first: int, last: int) -> None:
    if isinstance(handle, Future):
        with _lock:
            _local.setdefault(campaign_id, []).append((handle, first, last))
        return
    client = get_redis()
    if client is None:
        return
    try:
        pipe = client.pipeline()
        pipe.hset(_key(campaign_id), handle, f"{first}:{last}")
        pipe.expire(_key(campaign_id), TTL_SECONDS)
        pipe.execute()
    except redis.RedisError:
        pass


def remember_many(campaign_id: int, entries: list[tuple[str, int, int]]) -> None:
    """RQ job ids with their ranges, in one round trip."""
    client = get_redis()
    if client is None or not entries:
        return
    with contextlib.suppress(redis.RedisError):
        pipe = client.pipeline()
        pipe.hset(_key(campaign_id),
                  mapping={job_id: f"{a}:{b}" for job_id, a, b in entries})
        pipe.expire(_key(campaign_id), TTL_SECONDS)
        pipe.execute()


def live_ranges(campaign_id: int, fresh_seconds: float) -> list[tuple[int, int]]:
    """Ranges of jobs still waiting to run, or started less than `fresh_seconds` ago
    (a job claims its rows as it starts; after that the rows' claims speak for it)."""
    ranges: list[tuple[int, int]] = []
    with _lock:
        entries = [e for e in _local.get(campaign_id, []) if not e[0].done()]
        if entries:
            _local[campaign_id] = entries
        else:
            _local.pop(campaign_id, None)
    ranges += [(a, b) for _, a, b in entries]
    client = get_redis()
    if client is None:
        return ranges
    try:
        held = client.hgetall(_key(campaign_id))
    except redis.RedisError:
        return ranges
    if not held:
        return ranges
    ids = [k.decode() for k in held]
    cutoff = datetime.now(UTC) - timedelta(seconds=fresh_seconds)
    finished: list[str] = []
    try:
        jobs = Job.fetch_many(ids, connection=client)
    except (redis.RedisError, NoSuchJobError):
        return ranges
    for job_id, job in zip(ids, jobs, strict=True):
        status = job.get_status(refresh=False) if job is not None else None
        started = job.started_at if job is not None else None
        if started is not None and started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        if status in _WAITING or (status == JobStatus.STARTED and started is not None
                                  and started > cutoff):
            first, last = held[job_id.encode()].decode().split(":")
            ranges.append((int(first), int(last)))
        elif status != JobStatus.STARTED:
            finished.append(job_id)
    if finished:
        with contextlib.suppress(redis.RedisError):
            client.hdel(_key(campaign_id), *finished)
    return ranges


def forget(campaign_id: int) -> None:
    with _lock:
        _local.pop(campaign_id, None)
    client = get_redis()
    if client is not None:
        with contextlib.suppress(redis.RedisError):
            client.delete(_key(campaign_id))

"""Background jobs: RQ when Redis answers, else an in-process executor.

Both run the very same job functions, so the embedded default and the scaled
deployment differ only in settings. The database, not the queue, records every
job's progress, so losing the in-process executor on restart loses nothing:
periodic sweepers (see `periodic`) re-enqueue whatever is unfinished.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from rq import Queue, Retry

from mini_crm.core.redis_conn import get_redis
from mini_crm.observability import logs
from mini_crm.settings import Settings, get_settings

log = logging.getLogger(__name__)

QUEUES = ("high", "default", "low")
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _local_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=get_settings().worker_processes,
                                           thread_name_prefix="mini-crm-job")
        return _executor


def queue_name(name: str, settings: Settings | None = None) -> str:
    """The RQ queue's name in Redis: REDIS_NAMESPACE + one of QUEUES + ":" + the
    database's fingerprint (settings.database_fingerprint), e.g. "default:3f2a9c01bd".
    `settings` are this process's (get_settings()) unless given: a benchmark or test
    names the queues of the app it started (its own DATABASE_URL and REDIS_NAMESPACE).

    A job names rows of one database (a campaign id, an import id), so a queue must
    belong to one database: two installs on one Redis with no namespace shared the
    queue "default", and a worker of one ran the other's jobs against its own database
    while the other's campaigns waited for a sweeper that never came (its leader lease
    was held by the first install too, see periodic.leader_key)."""
    settings = settings or get_settings()
    return f"{settings.redis_namespace}{name}:{settings.database_fingerprint}"


def queue_label(full_name: str) -> str:
    """The short name (one of QUEUES) of an RQ queue named by `queue_name`, for logs
    and metric labels; a name of another form is returned as it is."""
    settings = get_settings()
    return full_name.removeprefix(settings.redis_namespace).removesuffix(
        f":{settings.database_fingerprint}")


def job_meta() -> dict[str, Any] | None:
    """RQ job meta carrying the current request id (workers log under it)."""
    rid = logs.request_id.get()
    return {logs.META_KEY: rid} if rid else None


def _run_logged(func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    try:
        return func(*args, **kwargs)
    except Exception:
        log.exception("in-process job %s failed", getattr(func, "__name__", func))
        raise


def enqueue(func: Callable[..., Any], *args: Any, queue: str = "default",
            job_id: str | None = None, retries: int = 0, **kwargs: Any) -> str | Future:
    """Run `func(*args, **kwargs)` in the background; returns the RQ job id or a Future.

    `func` must be a module-level function (RQ imports it by name in the worker).
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; expected one of {QUEUES}")
    redis = get_redis()
    if redis is None:
        # The copied context carries the request id into the executor's thread.
        return _local_executor().submit(contextvars.copy_context().run, _run_logged, func,
                                        args, kwargs)
    job = Queue(queue_name(queue), connection=redis).enqueue(
        func, *args, job_id=job_id, retry=Retry(max=retries) if retries else None,
        failure_ttl=7 * 24 * 3600, meta=job_meta(), **kwargs)
    return job.id


def mode() -> str:
    return "rq" if get_redis() is not None else "in-process"


def shutdown_local(wait: bool = True) -> None:
    global _executor
    with _executor_lock:
        if _executor is not None:
            _executor.shutdown(wait=wait, cancel_futures=not wait)
            _executor = None

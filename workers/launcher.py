"""`mini-crm worker`: N RQ worker processes, the ingestion consumer, the periodic
sweepers (run by one worker host at a time: see core.periodic's leader lease) and,
with METRICS_PORT, this host's /metrics on an internal port.

SimpleWorker runs jobs in the worker process instead of forking per job: jobs
here carry hundreds of rows each and share a warm connection pool, so the fork
per job (about 150 jobs/s at best) would only cost. A crash mid-job is covered
by the database-driven sweepers, not by the fork.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import socket
import threading
import time
from typing import Any

from prometheus_client import start_http_server
from rq import SimpleWorker

import mini_crm.core.delivery.job  # noqa: F401 - the job modules, warm before the first job
from mini_crm.core import jobs, periodic_tasks
from mini_crm.core.delivery import vendors
from mini_crm.core.ingestion import stream
from mini_crm.core.redis_conn import get_redis, probe
from mini_crm.db import get_engine
from mini_crm.observability import logs, metrics
from mini_crm.settings import get_settings

log = logging.getLogger("mini_crm.worker")


class LoggedWorker(SimpleWorker):
    """A SimpleWorker that runs each job under the request id it was enqueued with (so
    its log lines carry it), logs its start and end, and counts it in /metrics."""

    def perform_job(self, job: Any, queue: Any, execution: Any) -> bool:
        token = logs.request_id.set((job.meta or {}).get(logs.META_KEY))
        name = jobs.queue_label(queue.name)
        fields = {"job_id": job.id, "queue": name, "function": job.func_name}
        log.info("job %s started: %s", job.id, job.func_name, extra=fields)
        started = time.perf_counter()
        try:
            return super().perform_job(job, queue, execution)
        finally:
            elapsed = time.perf_counter() - started
            outcome = "failed" if job.get_status(refresh=False) == "failed" else "finished"
            metrics.JOBS_PROCESSED.labels(name, outcome).inc()
            metrics.JOB_DURATION.labels(name).observe(elapsed)
            log.info("job %s %s in %.0f ms", job.id, outcome, elapsed * 1000,
                     extra={**fields, "outcome": outcome,
                            "duration_ms": round(elapsed * 1000, 1)})
            logs.request_id.reset(token)


def _work(redis_url: str, burst: bool) -> None:
    logs.configure("worker")
    connection = probe(redis_url)
    if connection is None:
        raise SystemExit(f"Redis does not answer at {redis_url}")
    # The job modules are imported with this module (RQ would on the first job), so the
    # first campaign's first batch does not wait half a second on imports. (No database
    # connection here: a worker must start, and wait for jobs, while the database is
    # still coming up.)
    _warm_up()
    # No RQ scheduler: nothing is scheduled through RQ (the database-driven sweeper starts
    # scheduled campaigns), and its forked process would outlive a SIGKILLed worker.
    LoggedWorker([jobs.queue_name(q) for q in jobs.QUEUES], connection=connection).work(
        burst=burst, with_scheduler=False, logging_level="WARNING")


def _warm_up() -> None:
    """Build the database engine and the vendors' HTTP client pool now; neither connects.
    Their imports (the database driver and dialect) and TLS set-up took ~0.3 s of CPU on
    the first batch of the first campaign (seen in a py-spy profile of bench.delivery)."""
    settings = get_settings()
    try:
        get_engine()
        vendors.http_pool(settings.vendor_timeout_seconds)
    except Exception as exc:  # noqa: BLE001 - a bad setting shows on the first job instead
        log.warning("warm-up skipped: %s", exc)


def _consume(redis_url: str) -> None:
    """The ingestion stream consumer (one per worker machine is plenty)."""
    logs.configure("ingest")
    connection = probe(redis_url)
    if connection is None:
        raise SystemExit(f"Redis does not answer at {redis_url}")
    stop = threading.Event()
    # Ctrl-C in `make run` reaches every process of the terminal: stop after the batch in
    # hand, as on SIGTERM, instead of a KeyboardInterrupt traceback mid-read.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stream.run_consumer(connection, f"{socket.gethostname()}-{os.getpid()}", stop)


def start_workers(processes: int, *, burst: bool = False) -> list[mp.Process]:
    url = get_settings().redis_url
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_work, args=(url, burst), name=f"rq-worker-{i}", daemon=False)
             for i in range(processes)]
    if not burst:
        procs.append(ctx.Process(target=_consume, args=(url,), name="ingest-consumer"))
    for p in procs:
        p.start()
    return procs


def start_exporter() -> Any:
    """This host's /metrics on METRICS_BIND:METRICS_PORT (an internal port, no token):
    every process of the host (PROMETHEUS_MULTIPROC_DIR) plus the shared state. None
    when METRICS_PORT is 0 or the port is taken (logged; the workers run regardless)."""
    settings = get_settings()
    if not settings.metrics_port:
        return None
    try:
        server, _thread = start_http_server(settings.metrics_port, settings.metrics_bind,
                                            registry=metrics.registry())
    except OSError as exc:
        log.error("metrics exporter not started on %s:%d: %s", settings.metrics_bind,
                  settings.metrics_port, exc)
        return None
    log.info("metrics at http://%s:%d/metrics", settings.metrics_bind, settings.metrics_port)
    return server


# name -> (monotonic time of its last start, seconds to wait before the next one)
_restarts: dict[str, tuple[float, float]] = {}
_QUICK_DEATH_SECONDS = 10.0
_MAX_RESTART_DELAY = 30.0


def revive(procs: list[mp.Process]) -> int:
    """Start again, in place, every worker process that exited: RQ's worker quits when
    Redis goes away (a restart, a failover), and without this the host would keep
    running with no worker at all. One that keeps dying young waits 1 s, 2 s … 30 s
    between starts (Redis still down); one that ran a while starts again at once.
    Returns how many were started. Call it about once a second."""
    url = get_settings().redis_url
    ctx = mp.get_context("spawn")
    now = time.monotonic()
    started = 0
    for i, proc in enumerate(procs):
        if proc.is_alive():
            continue
        last, delay = _restarts.get(proc.name, (float("-inf"), 0.0))
        if now - last > delay + _QUICK_DEATH_SECONDS:
            delay = 0.0  # it ran a while (or never needed a restart): no waiting
        elif now < last + delay:
            continue
        consumer = proc.name == "ingest-consumer"
        log.warning("%s exited with code %s; starting it again", proc.name, proc.exitcode)
        procs[i] = ctx.Process(target=_consume if consumer else _work,
                               args=(url,) if consumer else (url, False), name=proc.name)
        procs[i].start()
        started += 1
        _restarts[proc.name] = (now, min(max(delay * 2, 1.0), _MAX_RESTART_DELAY))
    return started


def run(processes: int | None = None, *, burst: bool = False) -> None:
    """Block running workers and sweepers until SIGINT/SIGTERM."""
    if get_redis() is None:
        raise SystemExit("`mini-crm worker` needs Redis at REDIS_URL; without Redis the app "
                         "runs jobs in-process and needs no worker.")
    procs = start_workers(processes or get_settings().worker_processes, burst=burst)
    exporter = start_exporter()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sweeper = threading.Thread(target=periodic_tasks.run_forever, args=(stop,), daemon=True)
    sweeper.start()
    log.info("started %d RQ workers", len(procs))
    while not stop.is_set() and (not burst or any(p.is_alive() for p in procs)):
        if not burst:
            revive(procs)
        stop.wait(1.0)
    stop.set()  # also when every worker died: release the leader lease for another host
    for p in procs:
        p.terminate()
    for p in procs:
        p.join(timeout=10)
    sweeper.join(timeout=5)
    if exporter is not None:
        exporter.shutdown()

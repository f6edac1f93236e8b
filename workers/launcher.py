"""`mini-crm worker`: N RQ worker processes plus the periodic sweepers.

SimpleWorker runs jobs in the worker process instead of forking per job: jobs
here carry hundreds of rows each and share a warm connection pool, so the fork
per job (about 150 jobs/s at best) would only cost. A crash mid-job is covered
by the database-driven sweepers, not by the fork.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import signal
import threading

from rq import SimpleWorker

from mini_crm.core import jobs, periodic
from mini_crm.core.redis_conn import get_redis, probe
from mini_crm.settings import get_settings

log = logging.getLogger("mini_crm.worker")


def _work(redis_url: str, burst: bool) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    connection = probe(redis_url)
    if connection is None:
        raise SystemExit(f"Redis does not answer at {redis_url}")
    # Import the job modules now (RQ would on the first job): the first campaign's first
    # batch then does not wait half a second on imports. (No database connection here: a
    # worker must start, and wait for jobs, while the database is still coming up.)
    import mini_crm.core.campaigns.delivery  # noqa: F401
    # No RQ scheduler: nothing is scheduled through RQ (the database-driven sweeper starts
    # scheduled campaigns), and its forked process would outlive a SIGKILLed worker.
    SimpleWorker(list(jobs.QUEUES), connection=connection).work(
        burst=burst, with_scheduler=False, logging_level="WARNING")


def _consume(redis_url: str) -> None:
    """The ingestion stream consumer (one per worker machine is plenty)."""
    import os
    import socket

    from mini_crm.core.ingestion import stream

    logging.basicConfig(level=logging.INFO, format="%(asctime)s ingest %(message)s")
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


def run(processes: int | None = None, *, burst: bool = False) -> None:
    """Block running workers and sweepers until SIGINT/SIGTERM."""
    if get_redis() is None:
        raise SystemExit("`mini-crm worker` needs Redis at REDIS_URL; without Redis the app "
                         "runs jobs in-process and needs no worker.")
    procs = start_workers(processes or get_settings().worker_processes, burst=burst)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sweeper = threading.Thread(target=periodic.run_forever, args=(stop,), daemon=True)
    sweeper.start()
    log.info("started %d RQ workers", len(procs))
    while not stop.is_set() and any(p.is_alive() for p in procs):
        stop.wait(1.0)
    for p in procs:
        p.terminate()
    for p in procs:
        p.join(timeout=10)

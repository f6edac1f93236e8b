"""What every benchmark shares: where its services are (flags, else settings), a fresh
database of its own, a Redis namespace of its own and the clean-up of exactly that, and
the /proc readings (CPU, RSS) the figures come from.

Safe on a shared machine: a run creates database `bench_<tag>` on the server it is given
and drops it; in Redis it uses only keys that contain `bench-<tag>` (REDIS_NAMESPACE for
the RQ queues and delivery keys, and the receipt, simulator and ingestion prefixes under
it) and deletes only those, plus the RQ job records of its own queues.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis
import sqlalchemy as sa
from rq import Queue
from rq.job import Job

from mini_crm.core import jobs, periodic
from mini_crm.settings import Settings, get_settings

# The local servers `make test` uses; a flag or DATABASE_URL of the same dialect wins.
DEFAULT_SERVERS = {"postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                   "mariadb": "mysql+pymysql://root@127.0.0.1:3306/"}


def add_service_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--redis-url", default=None,
                        help="Redis to use (default: REDIS_URL from settings); only keys "
                             "of this run are written and deleted")
    parser.add_argument("--postgresql-url", default=None,
                        help="a PostgreSQL server the run may CREATE/DROP a database on "
                             "(default: DATABASE_URL if PostgreSQL, else the local server)")
    parser.add_argument("--mariadb-url", default=None,
                        help="the same for MariaDB/MySQL")


def redis_url(args: argparse.Namespace) -> str:
    url = args.redis_url or get_settings().redis_url
    if not url:
        raise SystemExit("no Redis: pass --redis-url or set REDIS_URL")
    return url


def server_url(args: argparse.Namespace, dialect: str) -> str:
    given = getattr(args, f"{dialect}_url", None)
    if given:
        return given
    configured = get_settings().database_url
    backend = sa.engine.make_url(configured).get_backend_name()
    if (dialect, backend) in {("postgresql", "postgresql"), ("mariadb", "mysql")}:
        return configured
    return DEFAULT_SERVERS[dialect]


@contextmanager
def bench_database(dialect: str, server: str | None) -> Iterator[str]:
    """A new database on `server` (a file for SQLite), dropped afterwards; yields its URL."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / (name + '.db')}"
        return
    assert server is not None
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    quote = '"' if dialect == "postgresql" else "`"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {quote}{name}{quote}" + (
            "" if dialect == "postgresql" else
            " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")))
    try:
        yield sa.engine.make_url(server).set(database=name).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}" + (
                " WITH (FORCE)" if dialect == "postgresql" else "")))
        admin.dispose()


class RedisRun:
    """This run's corner of a shared Redis: `env()` points the app's settings at it,
    `cleanup()` deletes what the run created and nothing else."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tag = f"bench-{uuid.uuid4().hex[:8]}"
        self.client = redis.Redis.from_url(url)

    def env(self) -> dict[str, str]:
        return {"REDIS_URL": self.url, "REDIS_NAMESPACE": f"{self.tag}:",
                "RECEIPT_BUFFER_PREFIX": f"{self.tag}:receipts",
                "SIMULATOR_REDIS_PREFIX": f"{self.tag}:sim",
                "INGEST_STREAM_PREFIX": f"{self.tag}:ingest"}

    def settings(self, database_url: str) -> Settings:
        """The settings this run's app has on `database_url` (its REDIS_NAMESPACE): what
        the app's own jobs.queue_name and periodic.leader_key read, so the names here
        are spelled by the same code as the app's."""
        return Settings(_env_file=None, database_url=database_url,
                        redis_namespace=self.env()["REDIS_NAMESPACE"])

    def queue(self, name: str, database_url: str) -> Queue:
        """The RQ queue `name` of this run's app on `database_url` (jobs.queue_name)."""
        return Queue(jobs.queue_name(name, self.settings(database_url)),
                     connection=self.client)

    def leader_key(self, database_url: str) -> str:
        """The periodic tasks' lease key of this run's app on `database_url`."""
        return periodic.leader_key(self.settings(database_url))

    def queues(self) -> list[Queue]:
        """Every RQ queue this run's app created (their names start with the run's tag)."""
        return [Queue.from_queue_key(key.decode(), connection=self.client)
                for key in self.client.smembers("rq:queues")
                if key.decode().startswith(f"{Queue.redis_queue_namespace_prefix}{self.tag}:")]

    def cleanup(self) -> int:
        """Delete this run's jobs (with their results), then every key naming the run.
        RQ's per-execution records expire on their own."""
        for queue in self.queues():
            ids = set(queue.job_ids)
            for registry in (queue.finished_job_registry, queue.failed_job_registry,
                             queue.started_job_registry, queue.deferred_job_registry,
                             queue.scheduled_job_registry, queue.canceled_job_registry):
                ids.update(registry.get_job_ids())
            for job in Job.fetch_many(sorted(ids), connection=self.client):
                if job is not None:
                    job.delete(remove_from_queue=False)
            self.client.srem("rq:queues", queue.key)
        deleted = 0
        for key in self.client.scan_iter(f"*{self.tag}*", count=1000):
            deleted += self.client.delete(key)
        return deleted


def die_with_parent() -> None:
    """Linux: the child gets SIGKILL if this process dies, so no orphan outlives a run."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"process for {url} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(text.split("VmRSS:")[1].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DatabaseCpu:
    """CPU spent by the database server for THIS run's database only.

    PostgreSQL: the backends connected to it (pg_stat_activity, sampled with `sample()`
    during the run; a backend's CPU counts from when it is first seen), so other work on a
    shared server is not billed to the run. The server's shared background processes (WAL
    writer, checkpointer) are left out for pipeline and floor alike. MariaDB runs one
    process: its whole CPU is counted (on a quiet machine only).
    """

    def __init__(self, url: str) -> None:
        # One connection, kept: sampling must not fork a backend per sample.
        self.engine = sa.create_engine(url, pool_size=1, max_overflow=0)
        self.dialect = self.engine.dialect.name
        self.database = self.engine.url.database
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.exclude: set[int] = set()  # backends of observers (the bench's own polls)

    def _pids(self) -> list[int]:
        if self.dialect == "postgresql":
            with self.engine.connect() as conn:
                pids = conn.execute(sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> "
                    "pg_backend_pid()"), {"d": self.database}).scalars()
                return [p for p in pids if p not in self.exclude]
        return [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()
                and _comm(e) in ("mariadbd", "mysqld")]

    def sample(self) -> None:
        for pid in self._pids():
            cpu = cpu_seconds(pid)
            self.first.setdefault(pid, cpu)
            self.last[pid] = max(cpu, self.last.get(pid, 0.0))

    def reset(self) -> None:
        self.first.clear()
        self.last.clear()
        self.sample()

    def total(self) -> float:
        self.sample()
        return sum(self.last[p] - self.first[p] for p in self.first)

    def dispose(self) -> None:
        self.engine.dispose()


def _comm(entry: Path) -> str:
    try:
        return (entry / "comm").read_text().strip()
    except OSError:
        return ""

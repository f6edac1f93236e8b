"""Private instances of the services, for tests that stop, restart or break them.

The machine's PostgreSQL and Redis are shared by everyone's tests: a fault test never
touches them. It starts its own redis-server / postgres on a free port in a temp dir,
restarts it as the test needs, and stops it by its own pid in a `finally`.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.servers import free_socket

START_SECONDS = 30


def free_port() -> int:
    with free_socket() as sock:
        return sock.getsockname()[1]


def stop_process(proc: subprocess.Popen | None, timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if it does not go within `timeout` (by pid, never by name)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _wait(predicate, what: str, proc: subprocess.Popen, log: Path,
          timeout: float = START_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: "
                               f"{log.read_text()[-2000:] if log.exists() else ''}")
        if predicate():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start in {timeout}s")


@dataclass
class PrivateRedis:
    """redis-server on a free port, data in `dir`. `appendonly` picks the persistence the
    docs recommend (AOF, fsync every second) or none at all (memory only)."""

    dir: Path
    appendonly: bool = True
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        log = self.dir / "redis.log"
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.dir), "--logfile", str(log), "--daemonize", "no",
                "--protected-mode", "yes", "--save", ""]
        if self.appendonly:
            args += ["--appendonly", "yes", "--appendfsync", "everysec"]
        else:
            args += ["--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_timeout=1)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False
        _wait(up, "redis-server", self.proc, log)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown save; only what persistence already wrote survives."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        stop_process(self.proc)


@contextmanager
def private_redis(tmp: Path, *, appendonly: bool = True) -> Iterator[PrivateRedis]:
    tmp.mkdir(parents=True, exist_ok=True)
    server = PrivateRedis(tmp, appendonly=appendonly)
    try:
        yield server.start()
    finally:
        server.stop()


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed")
    return found[-1]


def _as_postgres() -> dict:
    """initdb and postgres refuse to run as root: run them as the postgres user (the
    process itself, not a runuser wrapper, so its pid is the postmaster's)."""
    if os.geteuid() == 0:
        return {"user": "postgres", "group": "postgres", "extra_groups": []}
    return {}


@dataclass
class PrivatePostgres:
    """A throw-away cluster: initdb into `dir`, postgres on a free port, socket in `dir`,
    trust authentication on 127.0.0.1 (it listens nowhere else)."""

    dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> PrivatePostgres:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        done = subprocess.run([_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres",
                               "-A", "trust", "--no-sync", "-E", "UTF8"], capture_output=True,
                              text=True, timeout=120, cwd=self.dir, **_as_postgres())
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr[-2000:]}")
        return self

    def start(self) -> PrivatePostgres:
        log = self.dir / "postgres.log"
        logf = open(log, "a")  # noqa: SIM115 - the server's own log, closed with the test
        # fsync stays on: a restart must keep what was committed, as in production.
        self.proc = subprocess.Popen(
            [_pg_bin("postgres"), "-D", str(self.data), "-p", str(self.port), "-k",
             str(self.dir), "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=60",
             "-c", "shared_buffers=32MB"],
            stdout=logf, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.dir,
            **_as_postgres())
        logf.close()
        _wait(self._accepts, "postgres", self.proc, log)
        return self

    def _accepts(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                                 dbname="postgres", connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl's shutdown modes by signal: fast = SIGINT, immediate = SIGQUIT (a crash:
        recovery replays the WAL on the next start)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGQUIT if mode == "immediate" else signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private cluster in its own directory under /tmp (pytest's tmp_path is private to
    root, and PostgreSQL runs as the postgres user); removed afterwards."""
    server = PrivatePostgres(Path(tempfile.mkdtemp(prefix="mini-crm-pg-")))
    try:
        yield server.init().start()
    finally:
        server.stop("immediate")
        shutil.rmtree(server.dir, ignore_errors=True)

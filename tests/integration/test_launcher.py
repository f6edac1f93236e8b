"""`mini-crm run` stops, always: SIGTERM with RQ workers running, and `--seed-customers 0`.

The launcher runs against its own redis-server (a free port, no persistence, stopped by
its pid), so its RQ workers can never take another test's jobs from the shared Redis.
Every process the test sees under the launcher is killed by pid in a finally.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from mini_crm.settings import PROJECT_ROOT
from tests.servers import free_socket

STOP_LIMIT_SECONDS = 10.0


def _free_port() -> int:
    with free_socket() as sock:
        return sock.getsockname()[1]


def _stat(pid: int) -> tuple[int, int, str] | None:
    """(parent pid, session id, state) from /proc, or None once the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # the command name may hold spaces
    return int(fields[1]), int(fields[3]), fields[0]


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[2] != "Z"


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _family(root: int, sessions: set[int]) -> set[int]:
    """Every live descendant of `root`, plus every process in one of `sessions` (the app
    leads its own session, and what it started stays in it even when re-parented)."""
    stats = {pid: s for pid in _all_pids() if (s := _stat(pid)) is not None}
    found: set[int] = set()
    frontier = {root}
    while frontier:
        found |= frontier
        frontier = {pid for pid, (ppid, _sid, _st) in stats.items()
                    if ppid in frontier and pid not in found}
    found |= {pid for pid, (_pp, sid, _st) in stats.items() if sid in sessions}
    found.discard(root)
    return {pid for pid in found if _alive(pid)}


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None, "no redis-server"
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _env(tmp_path: Path, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}", "REDIS_URL": redis_url,
                "APP_ENV": "development", "OIDC_CLIENT_ID": "",
                "DEV_OIDC_PORT": str(_free_port()), "WORKER_PROCESSES": "2"})
    return env


def _kill_all(pids: set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def test_sigterm_stops_the_launcher_and_every_child_within_10_s(
        tmp_path: Path, private_redis: str) -> None:
    port = _free_port()
    log = open(tmp_path / "run.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "mini_crm.cli", "run", "--port", str(port),
                             "--seed-customers", "0"], cwd=PROJECT_ROOT,
                            env=_env(tmp_path, private_redis), stdout=log,
                            stderr=subprocess.STDOUT)
    seen: set[int] = set()
    sessions: set[int] = set()
    try:
        client = redis.Redis.from_url(private_redis)
        deadline = time.monotonic() + 120
        # Up = both RQ workers registered in Redis and the app's process group started.
        while True:
            assert proc.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()[-3000:]
            seen |= _family(proc.pid, sessions)
            sessions |= {s[1] for pid in seen if (s := _stat(pid)) and s[1] == pid}
            if client.scard("rq:workers") >= 2 and sessions:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # let the app's own children start too
        seen |= _family(proc.pid, sessions)
        assert len(seen) >= 4, seen  # 2 RQ workers, the ingestion consumer, the app

        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()

        def left() -> set[int]:
            found = {pid for pid in seen if _alive(pid)}
            if proc.poll() is None:
                found |= _family(proc.pid, sessions) | {proc.pid}
            return found | {pid for pid in _all_pids()
                            if (s := _stat(pid)) and s[1] in sessions and s[2] != "Z"}

        # The promise: the launcher and every process it started gone within 10 s.
        while left() and time.monotonic() - sent < STOP_LIMIT_SECONDS + 5:
            time.sleep(0.05)
        took = time.monotonic() - sent
        remaining = left()
        assert not remaining, f"still running {took:.1f} s after SIGTERM: {sorted(remaining)}"
        assert took <= STOP_LIMIT_SECONDS, (f"everything was gone only after {took:.1f} s",
                                            (tmp_path / "run.log").read_text()[-3000:])
        output = (tmp_path / "run.log").read_text()
        assert "not seeding" in output and "Traceback" not in output, output[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        _kill_all({pid for pid in seen if _alive(pid)}
                  | {pid for pid in _all_pids() if (s := _stat(pid)) and s[1] in sessions})
        log.close()


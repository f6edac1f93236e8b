"""The periodic sweepers run on exactly one worker host: a leader lease in Redis.

Unit level against the shared Redis (a fresh key per test), then two real `mini-crm
worker` processes against a PRIVATE redis-server: one leads, the other waits; SIGKILL
the leader and the other takes over once the lease runs out.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from mini_crm import migrations
from mini_crm.core import periodic
from mini_crm.core.periodic import Leadership
from mini_crm.settings import Settings
from tests.servers import free_socket

SHARED_REDIS = "redis://127.0.0.1:6379/15"
MINI_CRM = str(Path(sys.executable).parent / "mini-crm")


@pytest.fixture
def key() -> Iterator[str]:
    name = f"test-leader:{uuid.uuid4().hex[:8]}"
    yield name
    redis.Redis.from_url(SHARED_REDIS).delete(name)


def test_one_holder_renewal_expiry_and_takeover(key: str) -> None:
    client = redis.Redis.from_url(SHARED_REDIS)
    a, b = Leadership(client, key, 0.6, "a"), Leadership(client, key, 0.6, "b")
    assert a.refresh() and not b.refresh()
    time.sleep(0.4)
    assert a.refresh() and not b.refresh()  # renewed: still a's after 0.8 s in all
    time.sleep(0.4)
    assert not b.refresh() and client.get(key) == b"a"
    time.sleep(0.7)  # a stopped renewing (it "died"): its lease ran out
    assert b.refresh() and b.is_leader.is_set()
    assert not a.refresh() and not a.is_leader.is_set()  # a learns it lost
    a.release()  # releasing someone else's lease does nothing
    assert client.get(key) == b"b"
    b.release()
    assert client.get(key) is None


def test_run_forever_runs_tasks_only_while_leading(key: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    client = redis.Redis.from_url(SHARED_REDIS)
    runs: list[float] = []
    monkeypatch.setattr(periodic, "run_due", lambda: runs.append(time.monotonic()))
    client.set(key, "someone-else", px=1500)
    me = Leadership(client, key, 0.6, "me")
    stop = threading.Event()
    thread = threading.Thread(target=periodic.run_forever, args=(stop, 0.05, me))
    thread.start()
    try:
        time.sleep(0.8)
        assert runs == [] and client.get(key) == b"someone-else"
        deadline = time.monotonic() + 10
        while not runs:  # the other holder's lease expires; we take over
            assert time.monotonic() < deadline, "never took over"
            time.sleep(0.05)
        assert client.get(key) == b"me"
    finally:
        stop.set()
        thread.join(5)
    assert client.get(key) is None  # released on stop


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
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
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def _leads(log: Path) -> bool:
    return any("this process leads" in json.loads(line)["message"]
               for line in log.read_text().splitlines() if line.startswith("{"))


@pytest.mark.slow  # real `mini-crm worker` processes: tens of seconds to start
def test_two_worker_hosts_one_leads_and_the_other_takes_over(private_redis: str,
                                                               tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'leader.db'}"
    migrations.upgrade(db_url)
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": private_redis,
           "PERIODIC_LEASE_SECONDS": "3", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
           "WORKER_PROCESSES": "1", "APP_URL": "http://127.0.0.1:9"}
    hosts: list[tuple[subprocess.Popen, Path]] = []
    try:
        for name in ("host-a", "host-b"):
            log = tmp_path / f"{name}.log"
            # Own session: the host's RQ worker and consumer are killed with it at the end.
            host_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"{name}-metrics")}
            proc = subprocess.Popen([MINI_CRM, "worker"], env=host_env, start_new_session=True,
                                    stdout=log.open("w"), stderr=subprocess.STDOUT)
            hosts.append((proc, log))
        client = redis.Redis.from_url(private_redis)
        # The hosts' lease key names their database (periodic.leader_key).
        lease = periodic.leader_key(Settings(_env_file=None, database_url=db_url))
        deadline = time.monotonic() + 60
        while client.get(lease) is None:
            assert time.monotonic() < deadline, "no host took the lease"
            assert all(p.poll() is None for p, _ in hosts), "a worker host exited"
            time.sleep(0.2)
        time.sleep(2)  # a few renewals: the follower must still not lead
        holder = client.get(lease).decode()
        (leader, leader_log), = [(p, lg) for p, lg in hosts if f":{p.pid}:" in holder]
        (follower, follower_log), = [(p, lg) for p, lg in hosts if p is not leader]
        assert _leads(leader_log) and not _leads(follower_log)

        os.kill(leader.pid, signal.SIGKILL)  # the host's main process: no release
        killed_at = time.monotonic()
        deadline = killed_at + 60
        while not _leads(follower_log):
            assert time.monotonic() < deadline, "the follower never took over"
            time.sleep(0.1)
        took = time.monotonic() - killed_at
        assert f":{follower.pid}:" in client.get(lease).decode()
        print(f"takeover {took:.1f} s after SIGKILL (lease 3 s, renewal every 1 s)")
    finally:
        for proc, _ in hosts:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, _ in hosts:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        time.sleep(0.5)  # the hosts' RQ worker and consumer got SIGTERM too: let them go
        for proc, _ in hosts:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

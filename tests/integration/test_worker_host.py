"""A worker host's /metrics (METRICS_PORT): one scrape sums every process of the host —
here a job that fails in an RQ worker process is counted by the launcher's exporter
through PROMETHEUS_MULTIPROC_DIR — plus the shared state (private Redis, SQLite)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import redis
from rq import Queue

from mini_crm import migrations
from mini_crm.core import jobs
from mini_crm.settings import Settings
from tests.integration.test_observability import boom
from tests.integration.test_periodic_leader import (  # noqa: F401 - private_redis: fixture
    MINI_CRM,
    private_redis,
)
from tests.servers import free_socket


def _scrape(url: str) -> str:
    try:
        r = httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return ""
    return r.text if r.status_code == 200 else ""


@pytest.mark.slow  # real `mini-crm worker` processes: tens of seconds to start
def test_worker_host_metrics_sum_its_processes(private_redis: str,  # noqa: F811
                                               tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'host.db'}"
    migrations.upgrade(db_url)
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": private_redis,
           "WORKER_PROCESSES": "1", "METRICS_PORT": str(port), "METRICS_BIND": "127.0.0.1",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "LOG_FORMAT": "json"}
    log = tmp_path / "host.log"
    proc = subprocess.Popen([MINI_CRM, "worker"], env=env, start_new_session=True,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        # The host listens on the queues of its database (jobs.queue_name).
        settings = Settings(_env_file=None, database_url=db_url)
        Queue(jobs.queue_name("low", settings), connection=redis.Redis.from_url(private_redis)
              ).enqueue(boom)
        deadline = time.monotonic() + 90
        text = ""
        while 'mc_jobs_processed_total{outcome="failed",queue="low"} 1.0' not in text:
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, text[-2000:] or log.read_text()[-2000:]
            time.sleep(0.5)
            text = _scrape(url)
        # The job ran in the host's RQ worker process, not in the process serving this.
        assert 'mc_jobs{queue="low",state="failed"} 1.0' in text
        assert 'mc_scrape_source_up{source="database"} 1.0' in text
        assert 'mc_scrape_source_up{source="redis"} 1.0' in text
        assert any((tmp_path / "metrics").glob("*.db"))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        time.sleep(0.5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

"""The import API end to end with RQ: the app enqueues run_import on a real Redis, real
SimpleWorker processes (as `mini-crm worker` starts them) run it slice by slice, and a
worker SIGKILLed mid-import loses nothing: the sweeper re-queues the import and another
worker resumes it after the last recorded chunk.

Redis DB 10 is this file's own: its RQ queues are emptied first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from rq import Queue
from sqlmodel import Session, select

from mini_crm.api.app import create_api
from mini_crm.core import jobs, redis_conn
from mini_crm.core.ingestion import import_runner
from mini_crm.db import get_engine
from mini_crm.models import Customer, ImportJob, Order
from mini_crm.settings import PROJECT_ROOT, get_settings

REDIS_URL = "redis://127.0.0.1:6379/10"
WORKER_CODE = f"from workers.launcher import _work; _work({REDIS_URL!r}, False)"
ROWS = 3000
pytestmark = pytest.mark.slow


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL if this process dies, so no orphan outlives a run."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@pytest.fixture
def workers(app_settings: sa.Engine, tmp_path, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[list[subprocess.Popen]]:
    raw = redis.Redis.from_url(REDIS_URL)
    # After app_settings (which turns Redis off), so these settings win.
    env = {"DATABASE_URL": app_settings.url.render_as_string(hide_password=False),
           "REDIS_URL": REDIS_URL, "IMPORT_DIR": str(tmp_path / "imports"),
           "IMPORT_SLICE_SECONDS": "0.3", "IMPORT_STALE_SECONDS": "3",
           "IMPORT_CHUNK_ROWS": "150"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    get_engine.cache_clear()
    redis_conn.reset_cache()
    for name in jobs.QUEUES:  # this database's queues (jobs.queue_name)
        Queue(jobs.queue_name(name), connection=raw).empty()
    procs: list[subprocess.Popen] = []

    try:
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for name in jobs.QUEUES:
            Queue(jobs.queue_name(name), connection=raw).empty()
        get_engine().dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()
        redis_conn.reset_cache()


def _start(procs: list[subprocess.Popen]) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", WORKER_CODE], cwd=PROJECT_ROOT,
                            env=dict(os.environ), preexec_fn=_die_with_parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(proc)
    return proc


def _orders_file() -> bytes:
    """UTF-16 with a BOM, tab-separated, Indian grouping: every hard part at once."""
    lines = ["Order ID\tCustomer ID\tTotal\tDate"]
    lines += [f"o{i}\tc{i % 300}\t1,{i % 90 + 10:02d},000\t2026-11-29 01:30"
              for i in range(ROWS)]
    lines += ["o-bad\tc1\t5.000,00\t2026-11-29 01:30"]
    return ("\r\n".join(lines) + "\r\n").encode("utf-16")


def _post(api: TestClient, headers: dict[str, str]) -> str:
    r = api.post("/api/v1/imports", headers=headers, data={"kind": "orders"},
                 files={"file": ("orders.tsv", _orders_file(), "text/tab-separated-values")})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def _status(api: TestClient, headers: dict[str, str], import_id: str) -> dict:
    return api.get(f"/api/v1/imports/{import_id}", headers=headers).json()


def _expected_spend() -> Decimal:
    return sum((Decimal(100_000 + (i % 90 + 10) * 1000) for i in range(ROWS)), Decimal(0))


def _check_database(engine: sa.Engine) -> None:
    with Session(engine) as s:
        assert s.exec(select(sa.func.count()).select_from(Order)).one() == ROWS
        customers = s.exec(select(Customer)).all()
        assert len(customers) == 300
        assert sum(c.order_count for c in customers) == ROWS
        assert sum((c.total_spend for c in customers), Decimal(0)) == _expected_spend()
        # 01:30 without an offset is Asia/Kolkata time: 20:00 UTC the day before.
        assert {str(t) for t in s.exec(select(Order.ordered_at).distinct())} == \
            {"2026-11-28 20:00:00"}


def _wait_done(api, headers, import_id: str, timeout: float = 240, sweep: bool = False
               ) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = _status(api, headers, import_id)
        if body["status"] in ("completed", "failed"):
            return body
        if sweep:
            import_runner.sweep()  # what `mini-crm worker`'s periodic thread does
        time.sleep(0.3)
    raise AssertionError(f"import still {body['status']} after {timeout}s: {body}")


def test_workers_import_a_file_slice_by_slice(workers, engine, make_key) -> None:
    _start(workers)
    _start(workers)
    api = TestClient(create_api())
    headers = make_key("ingest")
    assert jobs.mode() == "rq"
    import_id = _post(api, headers)
    done = _wait_done(api, headers, import_id)
    assert (done["status"], done["rows"], done["imported"], done["error_count"]) == \
        ("completed", ROWS + 1, ROWS, 1), done
    assert (done["encoding"], done["delimiter"]) == ("UTF-16", "tab")
    assert done["errors"][0]["row"] == ROWS + 2 and "5000.00" in done["errors"][0]["message"]
    _check_database(engine)


def test_a_worker_killed_mid_import_loses_nothing(workers, engine, make_key) -> None:
    victim = _start(workers)
    api = TestClient(create_api())
    headers = make_key("ingest")
    import_id = _post(api, headers)
    deadline = time.monotonic() + 120
    while _status(api, headers, import_id)["rows"] < 450:  # it is well under way
        assert time.monotonic() < deadline, _status(api, headers, import_id)
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    halfway = _status(api, headers, import_id)
    assert halfway["status"] == "running" and halfway["rows"] < ROWS + 1
    _start(workers)
    done = _wait_done(api, headers, import_id, sweep=True)
    assert (done["status"], done["rows"], done["imported"], done["error_count"]) == \
        ("completed", ROWS + 1, ROWS, 1), done
    assert len(done["errors"]) == 1  # the bad row's error was stored once
    _check_database(engine)
    with Session(engine) as s:
        assert s.get(ImportJob, import_id).claim is None

"""Campaign delivery end to end on PostgreSQL + Redis with real RQ SimpleWorker processes
and the bundled vendor simulator (mounted in the real API, served by uvicorn), receipts
flowing back through POST /api/v1/receipts and the batcher.

Redis DB 9 is this file's own: its RQ queues and delivery keys are emptied first.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
import redis
import sqlalchemy as sa
from rq import Queue, Worker

from mini_crm.core import jobs, redis_conn
from mini_crm.core.campaigns import reports, service, sweeper
from mini_crm.core.delivery import receipts
from mini_crm.db import get_engine, session_scope
from mini_crm.models import Campaign, utcnow
from mini_crm.settings import PROJECT_ROOT, get_settings
from tests.integration.campaign_helpers import (
    LOG,
    add_customers,
    campaign_status,
    city_rules,
    status_counts,
    wait_for,
)
from tests.servers import free_socket, serve

REDIS_URL = "redis://127.0.0.1:6379/9"
AUTH = {"Authorization": "Bearer sim"}
WORKER_CODE = f"from workers.launcher import _work; _work({REDIS_URL!r}, False)"
pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL if this process dies, so no orphan outlives a run."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass
class Stack:
    url: str
    engine: sa.Engine
    sim_prefix: str
    workers: list[subprocess.Popen] = field(default_factory=list)

    def start_worker(self) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", WORKER_CODE], cwd=PROJECT_ROOT,
                                env=dict(os.environ), preexec_fn=_die_with_parent,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.workers.append(proc)
        return proc

    def sim(self, method: str, path: str, **kw) -> dict:
        r = httpx.request(method, f"{self.url}/vendor/v1/{path}", headers=AUTH, timeout=10,
                          **kw)
        r.raise_for_status()
        return r.json()

    def launch(self, n: int, *, schedule_at=None) -> Campaign:
        with session_scope() as db:
            return service.create_campaign(
                db, name=f"c{uuid.uuid4().hex[:6]}", rules=city_rules("Pune"), segment_id=None,
                message_template="Hi {first_name} from {city}", channel="sms",
                schedule_at=schedule_at, objective=None, created_by=None)

    def vendor_ids(self) -> dict[str, str]:
        raw = redis.Redis.from_url(REDIS_URL)
        return {k.decode(): v.decode() for k, v in
                raw.hgetall(f"{self.sim_prefix}:keys").items()}


@pytest.fixture
def stack(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    raw = redis.Redis.from_url(REDIS_URL)
    # Nothing to empty first: every queue and key of this stack is under a fresh
    # REDIS_NAMESPACE and prefixes (below). Emptying the bare "default" queue and the
    # un-namespaced delivery keys, as this did, reached into other runs on this Redis.
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    tag = uuid.uuid4().hex[:8]
    env = {
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "REDIS_URL": REDIS_URL, "APP_URL": url, "VENDOR_KIND": "simulator",
        "SIMULATOR_REDIS_PREFIX": f"mc:test-sim:{tag}",
        "RECEIPT_BUFFER_PREFIX": f"mc:test-receipts:{tag}",
        "SIMULATOR_RECEIPT_DELAY_MS": "50", "DELIVERY_BATCH_SIZE": "50",
        "DELIVERY_CLAIM_TIMEOUT_SECONDS": "2", "DELIVERY_MAX_ATTEMPTS": "50",
        "DELIVERY_BACKOFF_MAX_SECONDS": "0.2", "DELIVERY_VENDOR_RETRIES": "2",
        "FREQUENCY_CAP_MESSAGES": "0",
        # This test's own queues and delivery keys: other runs use RQ on this Redis
        # database too, and their workers must never take (or empty) our jobs.
        "REDIS_NAMESPACE": f"t{tag}:",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    get_engine.cache_clear()
    redis_conn.reset_cache()
    from mini_crm.api.app import create_api

    stop = threading.Event()

    def background() -> None:  # what `mini-crm worker` runs beside the workers
        while not stop.is_set():
            try:
                sweeper.sweep()
                receipts.flush(max_seconds=0.5)
            except Exception:  # noqa: BLE001 - keep sweeping, like periodic.run_due
                pass
            stop.wait(0.3)

    s = Stack(url=url, engine=engine, sim_prefix=f"mc:test-sim:{tag}")
    with serve(create_api(), sock):
        thread = threading.Thread(target=background, daemon=True)
        thread.start()
        try:
            yield s
        finally:
            for p in s.workers:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in s.workers:
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
            stop.set()
            thread.join(10)
    for pattern in (f"mc:test-*:{tag}*", f"*t{tag}:*"):
        for key in raw.scan_iter(pattern):
            raw.delete(key)
    get_settings.cache_clear()
    get_engine.cache_clear()
    redis_conn.reset_cache()


def _receipts_done(engine: sa.Engine, campaign_id: int) -> bool:
    counts = status_counts(engine, campaign_id)
    return counts.get("queued", 0) == 0 and counts.get("sent", 0) == 0


def _assert_vendor_agrees(stack: Stack, campaign_id: int) -> dict:
    """Every row the DB says reached the vendor was accepted there once under its own
    key and vendor id; no row is left queued; the vendor accepted nothing else."""
    with stack.engine.connect() as conn:
        rows = conn.execute(sa.select(LOG.c.id, LOG.c.status, LOG.c.vendor_message_id)
                            .where(LOG.c.campaign_id == campaign_id)).all()
    ids = stack.vendor_ids()
    reached = {str(r.id): r.vendor_message_id for r in rows if r.vendor_message_id}
    assert not [r for r in rows if r.status == "queued"]
    assert all(r.status in ("sent", "delivered", "undelivered") for r in rows
               if r.vendor_message_id)
    accepted = {k: v for k, v in ids.items() if v != "!"}
    assert accepted == reached  # 0 lost, and each key maps to the one id the vendor gave
    stats = stack.sim("GET", "stats")
    assert stats["accepted"] == len(reached)  # each key accepted exactly once
    return stats


def test_full_campaign_completes_with_receipts(stack: Stack) -> None:
    add_customers(stack.engine, 240)
    for i in range(10):  # the vendor rejects these (distinct: one address is one message)
        add_customers(stack.engine, 1, start=500 + i, phone=f"1{i}")
    for _ in range(2):
        stack.start_worker()
    campaign = stack.launch(250)
    assert campaign.audience_size == 250
    wait_for(lambda: campaign_status(stack.engine, campaign.id) == "completed", 30)
    wait_for(lambda: _receipts_done(stack.engine, campaign.id), 20)
    stats = _assert_vendor_agrees(stack, campaign.id)
    assert stats["duplicates"] == 0 and stats["rejected"] == 10
    with session_scope() as db:
        s = reports.get_campaign(db, campaign.id)
    assert (s.audience_size, s.sent, s.failed, s.pending) == (250, 240, 10, 0)
    assert s.delivered + s.undelivered == 240 and s.delivered > 180
    with stack.engine.connect() as conn:
        errors = set(conn.execute(sa.select(LOG.c.error).where(
            LOG.c.campaign_id == campaign.id, LOG.c.status == "failed")).scalars())
    assert errors == {f"invalid phone number '1{i}'" for i in range(10)}


def test_sigkill_workers_mid_campaign_loses_nothing_sends_nothing_twice(stack: Stack) -> None:
    add_customers(stack.engine, 1500)
    stack.sim("POST", "config", json={"latency_ms": 100})
    for _ in range(2):
        stack.start_worker()
    campaign = stack.launch(1500)

    def holding_claims(first: int, last: int) -> bool:
        with stack.engine.connect() as conn:
            return bool(conn.execute(sa.select(sa.func.count()).where(
                LOG.c.campaign_id == campaign.id, LOG.c.id.between(first, last),
                LOG.c.status == "queued", LOG.c.claimed_at.is_not(None))).scalar_one())

    def busy() -> list[subprocess.Popen]:
        """Our workers in the middle of a job whose rows are claimed and not yet marked."""
        pids = set()
        # This test's workers only: the registry also lists other runs' workers (a
        # SIGKILLed one stays listed "busy" until its key expires), and checking their
        # jobs against this database slowed each poll past the moment to kill.
        ours = Queue(jobs.queue_name("default"), connection=rq_redis)
        for w in Worker.all(queue=ours):
            job = w.get_current_job() if w.get_state() == "busy" else None
            if job is not None and len(job.args) == 3 and holding_claims(*job.args[1:]):
                pids.add(w.pid)
        return [p for p in stack.workers if p.poll() is None and p.pid in pids]

    rng = random.Random(5)
    rq_redis = redis.Redis.from_url(REDIS_URL)
    killed = 0
    for _ in range(3):
        time.sleep(rng.uniform(0.2, 0.8))
        wait_for(lambda: bool(busy()), 20, step=0.01)
        time.sleep(rng.uniform(0, 0.02))
        victim = rng.choice(busy() or [p for p in stack.workers if p.poll() is None])
        victim.kill()  # SIGKILL: no cleanup of any kind
        victim.wait()
        killed += 1
        stack.start_worker()
    assert campaign_status(stack.engine, campaign.id) == "sending", "kills came too late"
    wait_for(lambda: campaign_status(stack.engine, campaign.id) == "completed", 60)
    wait_for(lambda: _receipts_done(stack.engine, campaign.id), 20)
    stats = _assert_vendor_agrees(stack, campaign.id)
    counts = status_counts(stack.engine, campaign.id)
    assert counts.get("failed", 0) == 0 and sum(counts.values()) == 1500
    assert stats["accepted"] == 1500 and killed == 3
    with stack.engine.connect() as conn:
        retried = conn.execute(sa.select(sa.func.count()).where(
            LOG.c.campaign_id == campaign.id, LOG.c.attempts > 1)).scalar_one()
    assert retried > 0  # the kills really interrupted claimed work


def test_vendor_outage_then_recovery(stack: Stack) -> None:
    add_customers(stack.engine, 200)
    stack.sim("POST", "config", json={"error_rate": 1.0})
    stack.start_worker()
    campaign = stack.launch(200)

    def noted() -> bool:
        with stack.engine.connect() as conn:
            return bool(conn.execute(sa.select(sa.func.count()).where(
                LOG.c.campaign_id == campaign.id,
                LOG.c.error.like("vendor unavailable%"))).scalar_one())
    wait_for(noted, 20)
    assert status_counts(stack.engine, campaign.id) == {"queued": 200}
    assert stack.sim("GET", "stats")["errors_injected"] >= 3
    stack.sim("POST", "config", json={"error_rate": 0.0})
    wait_for(lambda: campaign_status(stack.engine, campaign.id) == "completed", 30)
    wait_for(lambda: _receipts_done(stack.engine, campaign.id), 20)
    stats = _assert_vendor_agrees(stack, campaign.id)
    assert stats["accepted"] == 200 and stats["duplicates"] == 0


def test_cancel_stops_delivery(stack: Stack) -> None:
    add_customers(stack.engine, 1000)
    stack.sim("POST", "config", json={"latency_ms": 100})
    stack.start_worker()
    campaign = stack.launch(1000)
    wait_for(lambda: status_counts(stack.engine, campaign.id).get("queued", 1000) < 950, 20)
    with session_scope() as db:
        assert service.cancel_campaign(db, campaign.id)
    time.sleep(1.0)  # let a request already at the vendor come back
    before = stack.sim("GET", "stats")["accepted"]
    time.sleep(1.5)
    assert stack.sim("GET", "stats")["accepted"] == before  # nothing more goes out
    counts = status_counts(stack.engine, campaign.id)
    assert counts.get("queued", 0) == 0 and counts["failed"] > 500
    wait_for(lambda: status_counts(stack.engine, campaign.id).get("sent", 0) == 0, 20)
    _assert_vendor_agrees(stack, campaign.id)
    assert campaign_status(stack.engine, campaign.id) == "cancelled"


def test_scheduled_campaign_starts_on_time(stack: Stack) -> None:
    add_customers(stack.engine, 30)
    stack.start_worker()
    campaign = stack.launch(30, schedule_at=utcnow() + timedelta(seconds=2))
    assert campaign.status == "scheduled"
    time.sleep(1.0)
    assert campaign_status(stack.engine, campaign.id) == "scheduled"
    wait_for(lambda: campaign_status(stack.engine, campaign.id) == "completed", 20)
    with session_scope() as db:
        started = db.get(Campaign, campaign.id).started_at
    assert started >= campaign.scheduled_at
    assert status_counts(stack.engine, campaign.id).get("queued", 0) == 0

"""Faults against real, private services (never the machine's shared ones): Redis and
PostgreSQL restarted mid-campaign, PostgreSQL restarted mid-ingest, an app instance
SIGKILLed while the vendor posts receipts, the vendor refusing everything (429 or 503)
for a while. Each test ends with every message accounted for from the vendor simulator's
own log and communication_log: each accepted exactly once, each receipt applied, none
lost. Recovery times are printed (`pytest -s`) and recorded in docs/operations.md.

The vendor's outage lasts FAULT_OUTAGE_SECONDS (10 s here; a minute in the issue) and the
delivery timers are shortened (fault_stack.FAST_RECOVERY) so each test takes seconds.
"""

from __future__ import annotations

import os
import threading
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from mini_crm.models import Customer, Order
from tests.integration.fault_stack import Deployment, deployment, wait_until

pytestmark = pytest.mark.slow
OUTAGE_SECONDS = float(os.environ.get("FAULT_OUTAGE_SECONDS", "10"))
AUDIENCE = 600
SETTLE_SECONDS = 120


def report(name: str, **figures: object) -> None:
    print(f"\n[fault] {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


def _mid_campaign(d: Deployment, campaign_id: int, low: int = 60) -> None:
    """Wait until delivery is under way and far from done."""
    wait_until(lambda: d.accepted() >= low, 60, "delivery started", step=0.02)
    assert d.accepted() < AUDIENCE * 0.8, "the campaign finished before the fault"


@pytest.mark.parametrize("appendonly", [True, False], ids=["aof-everysec", "no-persistence"])
def test_redis_restart_mid_campaign(tmp_path: Path, appendonly: bool) -> None:
    """redis-server SIGKILLed mid-campaign and started again 2 s later on the same port.
    With AOF (appendfsync everysec) the queue comes back; without persistence Redis comes
    back empty (queue, job bookkeeping, rate-limit buckets gone) and the database-driven
    sweeper re-enqueues the rows. Receipts are committed to the database before the
    vendor hears 202, so neither way loses one."""
    with deployment(tmp_path, appendonly=appendonly, latency_ms=50) as d:
        d.add_customers(AUDIENCE)
        campaign = d.launch()
        _mid_campaign(d, campaign)
        before = d.accepted()
        d.redis.kill()
        time.sleep(2)
        d.redis.start()
        restarted = time.monotonic()
        resumed = wait_until(lambda: d.accepted() > before + 50, 60, "delivery resumed")
        settled = wait_until(lambda: d.settled(campaign), SETTLE_SECONDS, "campaign settled")
        figures = d.assert_exactly_once(campaign, AUDIENCE)
        report(f"redis restart ({'AOF everysec' if appendonly else 'no persistence'})",
               delivery_resumed_s=round(resumed, 1),
               all_receipts_applied_s=round(time.monotonic() - restarted, 1),
               settle_wait_s=round(settled, 1), **figures)


def test_postgres_restart_mid_campaign(tmp_path: Path) -> None:
    """PostgreSQL stopped (fast shutdown: every connection cut) mid-campaign and started
    3 s later. Jobs fail mid-batch, receipts get 503 and the vendor retries them; the
    sweeper re-enqueues the claimed rows and the vendor's idempotency keys keep each
    message single."""
    with deployment(tmp_path, latency_ms=50) as d:
        d.add_customers(AUDIENCE)
        campaign = d.launch()
        _mid_campaign(d, campaign)
        d.pg.stop("fast")
        time.sleep(3)
        before = d.accepted()
        d.pg.start()
        restarted = time.monotonic()
        resumed = wait_until(lambda: d.accepted() > before + 50, 60, "delivery resumed")
        wait_until(lambda: d.settled(campaign), SETTLE_SECONDS, "campaign settled")
        figures = d.assert_exactly_once(campaign, AUDIENCE)
        report("postgres restart mid-campaign", delivery_resumed_s=round(resumed, 1),
               all_receipts_applied_s=round(time.monotonic() - restarted, 1), **figures)


def test_postgres_restart_mid_ingest(tmp_path: Path) -> None:
    """A client pushing customers and orders (batches of 200, queued on the Redis Stream)
    while PostgreSQL restarts. A batch answered 202 is on the stream and written once the
    database is back; a batch refused (503) is sent again by the client, as the API asks.
    In the end every customer and order is there once, with exact stats."""
    customers, per = 2000, 200
    with deployment(tmp_path) as d:
        stop = threading.Event()
        refused: list[int] = []

        def push() -> None:
            with httpx.Client(base_url=d.url, timeout=30,
                              headers={"Authorization": f"Bearer {d.api_key}"}) as client:
                for start in range(0, customers, per):
                    items = [{"external_id": f"ing-{i}", "name": f"Buyer {i}",
                              "city": "Pune", "phone": f"+91 98{i:08d}"}
                             for i in range(start, start + per)]
                    orders = [{"external_id": f"ord-{i}", "customer_external_id": f"ing-{i}",
                               "amount": "100.50", "ordered_at": "2026-01-02T10:00:00Z"}
                              for i in range(start, start + per)]
                    for path, body in (("/api/v1/customers", items), ("/api/v1/orders", orders)):
                        while not stop.is_set():
                            try:
                                answer = client.post(path, json={"items": body})
                            except httpx.HTTPError:
                                refused.append(0)
                                time.sleep(0.5)
                                continue
                            if answer.status_code == 202:
                                assert not answer.json().get("errors"), answer.text
                                break
                            assert answer.status_code in (502, 503), answer.text
                            refused.append(answer.status_code)
                            time.sleep(float(answer.headers.get("Retry-After", "1")) / 5)
                    time.sleep(0.1)

        pusher = threading.Thread(target=push, daemon=True)
        pusher.start()
        try:
            wait_until(lambda: _count(d, Customer) >= 400, 60, "ingest under way")
            d.pg.stop("fast")
            time.sleep(3)
            d.pg.start()
            restarted = time.monotonic()
            pusher.join(120)
            assert not pusher.is_alive(), "the client did not finish"
            caught_up = wait_until(lambda: _count(d, Order) == customers, 90,
                                   "every order written")
        finally:
            stop.set()
        with d.engine.connect() as conn:
            stats = conn.execute(sa.select(
                sa.func.count(), sa.func.sum(Customer.__table__.c.order_count),
                sa.func.sum(Customer.__table__.c.total_spend)).where(
                Customer.__table__.c.external_id.like("ing-%"))).one()
        assert stats[0] == customers and stats[1] == customers
        assert Decimal(stats[2]) == Decimal("100.50") * customers
        report("postgres restart mid-ingest", refused_requests=len(refused),
               all_written_after_restart_s=round(time.monotonic() - restarted, 1),
               wait_s=round(caught_up, 1))


def _count(d: Deployment, model: type) -> int:
    with d.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(
            model.__table__)).scalar_one())


def test_app_instance_sigkilled_while_the_vendor_posts_receipts(tmp_path: Path) -> None:
    """Two API instances behind nginx; the vendor's callbacks go to the proxy. One
    instance is SIGKILLed while receipts stream in: nginx moves requests that never
    reached it to the other, a callback cut mid-request gets a 502 and the vendor posts
    it again (receipts are idempotent). Every receipt ends applied."""
    with deployment(tmp_path, instances=2, receipt_delay_ms=50, latency_ms=30) as d:
        d.add_customers(AUDIENCE)
        campaign = d.launch()
        wait_until(lambda: d.sim.store.stats()["receipts_posted"] >= 50, 60,
                   "receipts flowing", step=0.02)
        assert d.accepted() < AUDIENCE * 0.8, "the campaign finished before the fault"
        killed_at = time.time()
        d.kill(d.apis[0])
        t0 = time.monotonic()
        wait_until(lambda: d.settled(campaign), SETTLE_SECONDS, "campaign settled")
        figures = d.assert_exactly_once(campaign, AUDIENCE)
        after = [r for r in d.proxy.upstreams(since=killed_at) if r[0] == "/api/v1/receipts"]
        survivor = f"127.0.0.1:{d.api_ports[1]}"
        assert after and all(addr.endswith(survivor) for _, status, addr in after
                             if status == "202")
        report("app instance SIGKILL during receipts",
               all_receipts_applied_s=round(time.monotonic() - t0, 1),
               callbacks_after_kill=len(after),
               callbacks_rerouted=sum(1 for _, _, a in after if "," in a), **figures)


@pytest.mark.parametrize("status", [429, 503])
def test_vendor_refuses_everything_for_a_while(tmp_path: Path, status: int) -> None:
    """The vendor answers `status` (429 with Retry-After, or 503) to every send for
    OUTAGE_SECONDS mid-campaign. Jobs back off and retry, claims run out, the sweeper
    hands the rows out again; nothing fails for good, nothing goes twice."""
    with deployment(tmp_path, latency_ms=30) as d:
        d.add_customers(AUDIENCE)
        campaign = d.launch()
        _mid_campaign(d, campaign)
        httpx.post(f"{d.vendor_url}/v1/config", headers={"Authorization": "Bearer sim"},
                   json={"outage_seconds": OUTAGE_SECONDS, "outage_status": status},
                   timeout=5).raise_for_status()
        start = time.monotonic()
        # Requests already inside the simulator when the outage began still finish
        # (one batch, seen as 150 accepted against 125 read at once): read after them.
        time.sleep(1)
        during = d.accepted()
        time.sleep(OUTAGE_SECONDS / 2 - 1)
        assert d.accepted() == during  # nothing gets through the outage
        wait_until(lambda: time.monotonic() - start >= OUTAGE_SECONDS, OUTAGE_SECONDS + 5,
                   "outage over")
        over = time.monotonic()
        resumed = wait_until(lambda: d.accepted() > during, 60, "delivery resumed")
        wait_until(lambda: d.settled(campaign), SETTLE_SECONDS, "campaign settled")
        figures = d.assert_exactly_once(campaign, AUDIENCE)
        refused = d.sim.store.stats()["outage_refused"]
        assert refused > 0
        report(f"vendor {status} for {OUTAGE_SECONDS:.0f} s",
               delivery_resumed_after_outage_s=round(resumed, 1),
               all_receipts_applied_after_outage_s=round(time.monotonic() - over, 1),
               sends_refused=refused, **figures)


def test_the_private_services_really_restart(tmp_path: Path) -> None:
    """The harness itself: the private Redis keeps AOF data across a SIGKILL, and the
    private PostgreSQL keeps committed rows across a fast restart."""
    import redis

    with deployment(tmp_path, workers=0) as d:
        client = redis.Redis.from_url(d.redis.url)
        client.set("kept", "yes")
        time.sleep(1.2)  # one appendfsync everysec
        d.redis.kill()
        d.redis.start()
        assert client.get("kept") == b"yes"
        d.add_customers(3)
        d.pg.stop("fast")
        d.pg.start()
        assert _count(d, Customer) == 3
        assert d.pg.proc is not None and d.pg.proc.pid > 0
        os.kill(d.pg.proc.pid, 0)  # the postmaster itself, not a wrapper

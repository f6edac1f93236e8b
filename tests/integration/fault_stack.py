"""A whole deployment on private services, for fault tests: its own PostgreSQL and Redis
(restartable), API instances as real processes (behind a private nginx when there are
several), `mini-crm worker` processes, and the vendor simulator in this process, whose
memory (every idempotency key it accepted) is the vendor's own log that the assertions
read. Nothing here touches the machine's shared services.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import Session

from mini_crm import migrations
from mini_crm.core import apikeys
from mini_crm.db import create_db_engine
from mini_crm.models import Campaign, CommunicationLog
from mini_crm.settings import PROJECT_ROOT, Settings
from mini_crm.simulator import create_app as create_vendor_app
from mini_crm.simulator.sender import outcome
from mini_crm.simulator.store import REJECTED, MemoryStore
from tests.nginx_proxy import Proxy, nginx_proxy
from tests.private_services import (
    PrivatePostgres,
    PrivateRedis,
    free_port,
    private_postgres,
    private_redis,
)
from tests.servers import free_socket, serve

SECRET = "fault-tests-receipt-secret-0123456789abcdef"
LOG = CommunicationLog.__table__
START_SECONDS = 60

# Short timers so a fault heals in seconds (production defaults are in settings.py):
# a claim held by a dead job is abandoned after 3 s and the sweeper looks every second.
FAST_RECOVERY = {
    "DELIVERY_BATCH_SIZE": "50", "DELIVERY_CLAIM_TIMEOUT_SECONDS": "3",
    "DELIVERY_SWEEP_SECONDS": "1", "DELIVERY_MAX_ATTEMPTS": "50",
    "DELIVERY_BACKOFF_MAX_SECONDS": "1", "DELIVERY_VENDOR_RETRIES": "3",
    "VENDOR_TIMEOUT_SECONDS": "5", "FREQUENCY_CAP_MESSAGES": "0",
    "RECEIPT_FLUSH_MS": "100", "SCHEDULE_CHECK_SECONDS": "1",
}


def wait_until(check: Callable[[], bool], timeout: float, what: str,
               step: float = 0.1) -> float:
    """Poll until `check()` is true; returns the seconds it took. Errors while polling
    (a service that is down) count as "not yet"."""
    start = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - start
        except Exception:  # noqa: BLE001 - the service under test may be down right now
            pass
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(step)


@dataclass
class Deployment:
    tmp: Path
    pg: PrivatePostgres
    redis: PrivateRedis
    db_url: str
    engine: sa.Engine
    env: dict[str, str]
    vendor_url: str
    vendor: Any  # the simulator app (its .state.simulator)
    api_key: str
    apis: list[subprocess.Popen] = field(default_factory=list)
    api_ports: list[int] = field(default_factory=list)
    workers: list[subprocess.Popen] = field(default_factory=list)
    proxy: Proxy | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def sim(self):  # noqa: ANN201 - mini_crm.simulator.app.Simulator
        return self.vendor.state.simulator

    @property
    def url(self) -> str:
        """Where clients (and the vendor's callbacks) go: the proxy, or the one instance."""
        return self.proxy.url if self.proxy else f"http://127.0.0.1:{self.api_ports[0]}"

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        log = self.tmp / f"{name}.log"
        self.logs.append(log)
        with open(log, "ab") as out:
            return subprocess.Popen(args, cwd=PROJECT_ROOT, env=self.env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def start_api(self, port: int) -> subprocess.Popen:
        """An app instance's API (the same FastAPI app Reflex mounts) as its own process."""
        proc = self._spawn([sys.executable, "-m", "uvicorn", "--factory",
                            "mini_crm.api.app:create_api", "--host", "127.0.0.1", "--port",
                            str(port), "--log-level", "warning", "--timeout-graceful-shutdown",
                            "5"], f"api-{port}")
        self.apis.append(proc)
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                   .status_code == 200, START_SECONDS, f"API on port {port}")
        return proc

    def start_worker(self) -> subprocess.Popen:
        proc = self._spawn([sys.executable, "-m", "mini_crm.cli", "worker", "--processes", "1"],
                           f"worker-{len(self.workers)}")
        self.workers.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(15)

    def stop_all(self) -> None:
        for proc in [*self.apis, *self.workers]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.apis, *self.workers]:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def tail_logs(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}"
                         for p in self.logs if p.exists())

    # --- the application, as a client sees it ---------------------------------------

    def api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return httpx.request(method, self.url + path, timeout=30,
                             headers={"Authorization": f"Bearer {self.api_key}"}, **kw)

    def add_customers(self, n: int, city: str = "Pune") -> None:
        from tests.integration.campaign_helpers import add_customers

        add_customers(self.engine, n, city=city)

    def launch(self, city: str = "Pune", name: str | None = None) -> int:
        answer = self.api("POST", "/api/v1/campaigns", json={
            "name": name or f"fault {uuid.uuid4().hex[:6]}", "channel": "sms",
            "message": "Hi {first_name} from {city}",
            "rules": {"combinator": "and", "rules": [
                {"field": "city", "operator": "=", "value": city}]}})
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def counts(self, campaign_id: int) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(LOG.c.status, sa.func.count())
                                .where(LOG.c.campaign_id == campaign_id)
                                .group_by(LOG.c.status)).all()
        return {s: int(n) for s, n in rows}

    def settled(self, campaign_id: int) -> bool:
        """Every row has its final status: nothing queued, nothing sent without receipt."""
        counts = self.counts(campaign_id)
        with self.engine.connect() as conn:
            status = conn.execute(sa.select(Campaign.__table__.c.status).where(
                Campaign.__table__.c.id == campaign_id)).scalar_one()
        return (status == "completed" and bool(counts) and not counts.get("queued")
                and not counts.get("sent"))

    def accepted(self) -> int:
        return int(self.sim.store.stats()["accepted"])

    def assert_exactly_once(self, campaign_id: int, audience: int) -> dict[str, Any]:
        """The vendor's own log against communication_log: every row reached the vendor
        exactly once under its own key (one vendor id per key, no key the vendor accepted
        is missing from the log, none the log names is missing at the vendor), and every
        row's final status is the fate the vendor gave that message in its receipt."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(LOG.c.id, LOG.c.status, LOG.c.vendor_message_id,
                                          LOG.c.error)
                                .where(LOG.c.campaign_id == campaign_id)).all()
        vendor = {k: v for k, v in self.sim.store.vendor_ids().items() if v != REJECTED}
        mine = {str(r.id) for r in rows}
        assert len(rows) == audience
        assert [r for r in rows if r.status in ("queued", "sent")] == []
        failed = [(r.id, r.error) for r in rows if r.status == "failed"]
        assert failed == [], f"messages failed: {failed[:5]}"
        sent = {str(r.id): r.vendor_message_id for r in rows}
        assert {k: v for k, v in vendor.items() if k in mine} == sent  # 0 lost, 1 id each
        fates = {str(r.id): r.status for r in rows}
        expected = {k: ("delivered" if outcome(k, "sms", 0.9)[0] == "delivered"
                        else "undelivered") for k in fates}
        assert fates == expected  # every receipt applied, none lost, none misapplied
        stats = self.sim.store.stats()
        return {"accepted": len(sent), "vendor_duplicates_refused": stats["duplicates"],
                "receipts_posted": stats["receipts_posted"],
                "callback_failures": stats["callback_failures"],
                "receipts_dropped": stats["receipts_dropped"]}


@contextmanager
def deployment(tmp: Path, *, instances: int = 1, workers: int = 1, appendonly: bool = True,
               receipt_delay_ms: int = 100, latency_ms: int = 20,
               extra_env: dict[str, str] | None = None) -> Iterator[Deployment]:
    """Start everything; stop everything (by pid) whatever happens."""
    with ExitStack() as stack:
        pg = stack.enter_context(private_postgres())
        rds = stack.enter_context(private_redis(tmp / "redis", appendonly=appendonly))
        db_url = pg.create_database("crm")
        migrations.upgrade(db_url)
        engine = create_db_engine(db_url)
        stack.callback(engine.dispose)
        with Session(engine) as s:
            key = apikeys.create_key(s, "fault tests", ["ingest", "campaigns", "read"])
            s.commit()
        vendor_settings = Settings(secret_key=SECRET, receipt_signing_secret=SECRET,
                                   simulator_receipt_delay_ms=receipt_delay_ms,
                                   simulator_latency_ms=latency_ms,
                                   simulator_delivered_ratio=0.9, vendor_timeout_seconds=5)
        vendor = create_vendor_app(vendor_settings, store=MemoryStore())
        stack.callback(vendor.state.simulator.sender.close)
        vendor_url = stack.enter_context(serve(vendor, free_socket()))
        ports = [free_port() for _ in range(instances)]
        proxy = (stack.enter_context(nginx_proxy(tmp / "nginx", ports)) if instances > 1
                 else None)
        app_url = proxy.url if proxy else f"http://127.0.0.1:{ports[0]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REFLEX_", "PG"))}
        env.update({
            "DATABASE_URL": db_url, "REDIS_URL": rds.url, "APP_URL": app_url,
            "APP_ENV": "development", "SECRET_KEY": SECRET, "RECEIPT_SIGNING_SECRET": SECRET,
            "VENDOR_KIND": "simulator", "VENDOR_URL": vendor_url, "OIDC_CLIENT_ID": "",
            "PYTHONUNBUFFERED": "1", **FAST_RECOVERY, **(extra_env or {})})
        d = Deployment(tmp=tmp, pg=pg, redis=rds, db_url=db_url, engine=engine, env=env,
                       vendor_url=vendor_url, vendor=vendor, api_key=key.secret,
                       api_ports=ports, proxy=proxy)
        stack.callback(d.stop_all)
        try:
            for port in ports:
                d.start_api(port)
            if proxy is not None:
                # nginx's own start-up probe found no instance yet and marked both failed
                # (max_fails=1, fail_timeout=5s): instances that came up within those 5 s
                # still got 502 "no live upstreams" through the proxy (seen once in CI).
                wait_until(lambda: httpx.get(f"{proxy.url}/healthz", timeout=2)
                           .status_code == 200, START_SECONDS, "the proxy's instances")
            for _ in range(workers):
                d.start_worker()
            yield d
        except BaseException:
            print(d.tail_logs())
            raise

"""Two app instances behind nginx (round robin, no sticky sessions, websocket upgrade)
with Reflex's Redis state manager: sign in through the proxy while only instance A
answers, then SIGKILL A and keep working through B — the live audience preview, the
campaign wizard and a campaign's live counts — in the same browser tab.

Its own pytest invocation (`make test` runs it after tests/e2e): the instances build the
frontend for the proxy's address into .web, which the e2e session's app also serves from.
Everything runs on private services (its own Redis, a fresh database on the shared
PostgreSQL, its own nginx) and is stopped by pid in `finally`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis
import sqlalchemy as sa
from playwright.sync_api import Page, expect, sync_playwright
from sqlmodel import Session, select

from mini_crm import dev_oidc
from mini_crm.core import formatting, segments
from mini_crm.core.segments import service as segment_service
from mini_crm.db import create_db_engine
from mini_crm.launcher import reflex_command, reflex_env
from mini_crm.models import CommunicationLog, Customer, DeliveryStatus
from mini_crm.settings import PROJECT_ROOT
from tests.databases import fresh_database
from tests.e2e.conftest import ADMIN, CHROMIUM, CHROMIUM_ARGS, sign_in
from tests.nginx_proxy import Proxy, nginx_proxy
from tests.private_services import free_port, private_redis

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
BUILD_SECONDS = 600  # instance A compiles and builds the frontend: minutes on a busy machine
START_SECONDS = 120
SEED = 300


def _cli(env: dict[str, str], *args: str) -> None:
    out = subprocess.run([sys.executable, "-m", "mini_crm.cli", *args], env=env,
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr + out.stdout


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _wait_up(port: int, proc: subprocess.Popen, log: Path, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            pytest.fail(f"instance on {port} exited:\n{log.read_text()[-3000:]}")
        try:
            if (httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
                    and httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200):
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"instance on {port} did not come up in {timeout}s:\n{log.read_text()[-3000:]}")


class Cluster:
    def __init__(self, stack: ExitStack, tmp: Path) -> None:
        self.tmp = tmp
        self.redis = stack.enter_context(private_redis(tmp / "redis"))
        self.db_url = stack.enter_context(fresh_database("postgresql", tmp))
        self.engine = create_db_engine(self.db_url)
        stack.callback(self.engine.dispose)
        self.ports = [free_port(), free_port()]
        self.proxy: Proxy = stack.enter_context(nginx_proxy(tmp / "nginx", self.ports))
        oidc_port = free_port()
        stack.enter_context(dev_oidc.serve(oidc_port))
        vendor_port = free_port()
        secret = "failover-test-secret-0123456789abcdef0123"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("REFLEX_")}
        self.env.update({
            "DATABASE_URL": self.db_url, "REDIS_URL": self.redis.url,
            # Reflex's state in Redis (another db of the same server): any instance
            # serves any event of any tab.
            "REFLEX_REDIS_URL": self.redis.url.rsplit("/", 1)[0] + "/1",
            # The built frontend talks to the proxy, never to an instance directly.
            "REFLEX_API_URL": self.proxy.url, "APP_URL": self.proxy.url,
            "APP_ENV": "development", "SECRET_KEY": secret, "OIDC_CLIENT_ID": "",
            "DEV_OIDC_PORT": str(oidc_port), "ALLOWED_EMAIL_DOMAINS": "brand.in",
            "VENDOR_KIND": "simulator", "VENDOR_URL": f"http://127.0.0.1:{vendor_port}",
            "SIMULATOR_LATENCY_MS": "20", "SIMULATOR_RECEIPT_DELAY_MS": "100",
            "GRANIAN_WORKERS": "1", "FREQUENCY_CAP_MESSAGES": "0",
            "PYTHONUNBUFFERED": "1"})
        _cli(self.env, "migrate")
        _cli(self.env, "seed", "--customers", str(SEED), "--seed", "11")
        self.procs: list[subprocess.Popen] = []
        stack.callback(self.stop_all)
        self.spawn([sys.executable, "-m", "mini_crm.cli", "simulator", "--port", str(vendor_port)],
                   "vendor")
        self.spawn([sys.executable, "-m", "mini_crm.cli", "worker", "--processes", "1"],
                   "worker")

    def spawn(self, args: list[str], name: str, env: dict[str, str] | None = None
              ) -> subprocess.Popen:
        proc = _spawn(args, env or self.env, self.tmp / f"{name}.log")
        self.procs.append(proc)
        return proc

    def start_a(self) -> subprocess.Popen:
        """Instance A: `reflex run --env prod`, which compiles and builds the frontend."""
        port = self.ports[0]
        env = {**reflex_env(port), **self.env, "PORT": str(port)}
        proc = self.spawn(reflex_command(port), "instance-a", env)
        _wait_up(port, proc, self.tmp / "instance-a.log", BUILD_SECONDS)
        return proc

    def start_b(self) -> tuple[subprocess.Popen, float]:
        """Instance B: the same app on the build A made (tests/multi/serve_built.py)."""
        port = self.ports[1]
        env = {**reflex_env(port), **self.env, "PORT": str(port),
               "REFLEX_FRONTEND_PORT": str(port), "REFLEX_BACKEND_PORT": str(port)}
        proc = self.spawn([sys.executable, "-m", "tests.multi.serve_built", str(port)],
                          "instance-b", env)
        took = _wait_up(port, proc, self.tmp / "instance-b.log", START_SECONDS)
        return proc, took

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            _stop(proc)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}"
                         for p in sorted(self.tmp.glob("*.log")))


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with ExitStack() as stack:
        c = Cluster(stack, tmp_path)
        try:
            yield c
        except BaseException:
            print(c.logs())
            raise


def _size(engine: sa.Engine, rules: dict) -> str:
    with Session(engine) as s:
        return formatting.count(segments.audience_size(s, rules))


def _spend_rules(amount: float) -> dict:
    return {"combinator": "and", "not": False, "rules": [
        {"field": "total_spend", "operator": ">", "value": amount}]}


def _settled(engine: sa.Engine, campaign_id: int) -> dict[str, int] | None:
    with Session(engine) as s:
        rows = dict(s.exec(select(CommunicationLog.status, sa.func.count())
                           .where(CommunicationLog.campaign_id == campaign_id)
                           .group_by(CommunicationLog.status)).all())
    if rows and not rows.get(DeliveryStatus.QUEUED) and not rows.get(DeliveryStatus.SENT):
        return rows
    return None


def _ok(status: str) -> bool:
    """A plain request that succeeded. Not 101: a websocket is logged when it closes, so
    A's own socket shows up at the moment A dies."""
    return "200" <= status < "400"


def test_work_continues_through_b_after_a_is_killed(cluster: Cluster) -> None:
    a = cluster.start_a()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            page = context.new_page()
            page.set_default_timeout(30_000)
            try:
                _work_through_failover(cluster, page, a)
            except BaseException:
                page.screenshot(path="test-results/failover-failure.png", full_page=True)
                print(cluster.logs())
                raise
        finally:
            browser.close()


def _work_through_failover(cluster: Cluster, page: Page, a: subprocess.Popen) -> None:
    proxy, engine = cluster.proxy, cluster.engine
    instance_a, instance_b = (f"127.0.0.1:{port}" for port in cluster.ports)

    # Only A answers: sign-in and the first live preview go through the proxy to A.
    signed_in = time.time()
    sign_in(page, proxy.url, ADMIN, "/segments/new")
    size = page.get_by_test_id("audience-size")
    expect(size).to_have_text(_size(engine, _spend_rules(5000)))
    served = {addr for _, status, addr in proxy.upstreams(since=signed_in) if _ok(status)}
    assert served and all(addr.endswith(instance_a) for addr in served), served

    _, b_start = cluster.start_b()
    # Round robin with both up: plain requests through the proxy reach both instances.
    # nginx may still hold B as failed (max_fails=1, fail_timeout=5s) from requests it
    # tried on B before B was up: it sends B nothing until that runs out, so ask for up
    # to 20 s (one CI run sent all of 6 back-to-back requests to A).
    t, deadline, both = time.time(), time.monotonic() + 20, set()
    while both != {instance_a, instance_b} and time.monotonic() < deadline:
        assert httpx.get(proxy.url + "/healthz", timeout=5).status_code == 200
        both = {addr for uri, _, addr in proxy.upstreams(since=t) if uri == "/healthz"}
        time.sleep(0.2)
    assert both == {instance_a, instance_b}, both

    # The tab's state lives in Reflex's Redis state manager, not in A's memory.
    reflex_redis = redis.Redis.from_url(cluster.env["REFLEX_REDIS_URL"])
    assert reflex_redis.dbsize() > 0

    # A dies without warning (SIGKILL to its whole process group), mid-session. The tab's
    # socket.io client reconnects by itself, through the proxy, which sends it to B.
    page.evaluate("window.__noReload = true")
    with page.expect_websocket(timeout=60_000) as reconnect:
        os.killpg(a.pid, signal.SIGKILL)
        a.wait(10)
        killed = time.time()
        t0 = time.monotonic()
    reconnect.value.wait_for_event("framereceived", timeout=60_000)
    reconnected = time.monotonic() - t0
    # Same tab, no reload; the live preview answers an edit through B. The reconnect
    # re-runs the page's on_load, which resets the builder (docs/operations.md): an edit
    # made before that reset lands is replaced by it, so the edit is repeated until the
    # preview shows it (each try waits 5 s; 60 s in all).
    row = page.get_by_test_id("rule-row").first
    wanted = _size(engine, _spend_rules(2000))
    deadline = time.monotonic() + 60
    while True:
        row.get_by_label("Value").fill("2000")
        try:
            expect(size).to_have_text(wanted, timeout=5_000)
            expect(row.get_by_label("Value")).to_have_value("2000")
            time.sleep(1.0)  # and it stays: no reset still to come
            expect(size).to_have_text(wanted, timeout=1_000)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
    preview_after_kill = time.monotonic() - t0
    assert page.evaluate("window.__noReload") is True
    page.get_by_test_id("segment-name").fill("Failover spenders")
    page.get_by_test_id("save-segment").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/segments/\d+$"))

    # The campaign wizard on B, with a small saved segment, then the live counts.
    with Session(engine) as s:
        spends = s.exec(select(Customer.total_spend).order_by(Customer.total_spend.desc())
                        .limit(10)).all()
        segment_service.save_segment(s, name="Failover top ten",
                                     rules=_spend_rules(float(spends[-1]) - 0.01))
        s.commit()
    page.goto(proxy.url + "/campaigns/new")
    choice = page.get_by_test_id("segment-choice").filter(has_text="Failover top ten")
    choice.click()
    page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("campaign-name-input").fill("Failover thank-you")
    page.get_by_test_id("campaign-template").fill("Hi {first_name}, thank you!")
    expect(page.get_by_test_id("message-preview")).to_have_count(3)
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("schedule-now")).to_be_visible()
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("review-size")).to_have_text(re.compile(r"^\d+$"))
    recipients = int(page.get_by_test_id("review-size").inner_text())
    assert recipients == 10
    page.get_by_test_id("launch-campaign").click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"), timeout=30_000)
    campaign_id = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    deadline = time.monotonic() + 90
    while (final := _settled(engine, campaign_id)) is None:
        assert time.monotonic() < deadline, "delivery did not finish"
        time.sleep(0.5)
    sent = final.get(DeliveryStatus.DELIVERED, 0) + final.get(DeliveryStatus.UNDELIVERED, 0)
    assert sent == recipients
    expect(page.get_by_test_id("stat-sent")).to_have_text(formatting.count(sent),
                                                          timeout=60_000)
    expect(page.get_by_test_id("stat-delivered")).to_have_text(
        formatting.count(final.get(DeliveryStatus.DELIVERED, 0)), timeout=60_000)
    expect(page.get_by_test_id("campaign-status")).to_have_text("completed")
    page.screenshot(path="test-results/failover-campaign-through-b.png", full_page=True)

    # After the kill, everything that succeeded was served by B.
    after = proxy.upstreams(since=killed)
    ok = [addr for _, status, addr in after if _ok(status)]
    assert ok and all(addr.endswith(instance_b) for addr in ok), set(ok)
    print(f"\n[failover] B started on A's build in {b_start:.1f} s; the tab's websocket "
          f"reconnected {reconnected:.1f} s after SIGKILL of A; the first live preview "
          f"through B answered {preview_after_kill:.1f} s after the kill; "
          f"{len(after)} requests after the kill, "
          f"{sum(1 for _, _, a in after if ',' in a)} moved from A to B by nginx", flush=True)

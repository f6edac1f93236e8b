"""Load test: the HTTP API (ingestion, receipts, segment previews) at rising rates and
concurrent UI sessions (live preview over the websocket), first on one app instance,
then on two behind nginx (round robin). Prints one table per phase.

    make load                       # installs locust (the `load` extra), then this
    python -m bench.load.run --rates 4,8,16,32 --seconds 10 --sessions 10,50

Everything is private and on 127.0.0.1: its own redis-server, a fresh database on the
local PostgreSQL (dropped afterwards), its own nginx, app instances that are Reflex's
production backend without a frontend (tests/multi/serve_built.py --backend-only: the
API and the websocket, which is all the load touches) with GRANIAN_WORKERS processes
each, and one
`mini-crm worker` (the ingestion stream's consumer). Locust runs in its own processes
(bench/load/steps.py), the UI sessions in another (bench/load/ui_sessions.py).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlmodel import Session

from mini_crm import migrations
from mini_crm.core import apikeys
from mini_crm.core.auth import sessions
from mini_crm.db import create_db_engine
from mini_crm.launcher import reflex_env
from mini_crm.models import Campaign, CommunicationLog, Customer, User, utcnow
from mini_crm.settings import PROJECT_ROOT
from tests.databases import fresh_database
from tests.nginx_proxy import nginx_proxy
from tests.private_services import free_port, private_redis

SECRET = "load-test-secret-0123456789abcdef0123456789"


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


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"instance exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"instance at {url} did not start:\n{log.read_text()[-3000:]}")


def _fixtures(db_url: str, receipts: int) -> tuple[str, str, int]:
    """An API key, a signed-in admin's session cookie, and `receipts` sent messages with
    vendor ids load-0 … for the receipt scenario."""
    engine = create_db_engine(db_url)
    with Session(engine) as s:
        key = apikeys.create_key(s, "load test", ["ingest", "read", "campaigns"])
        user = User(email="load@brand.in", name="Load Test", role="admin")
        s.add(user)
        s.flush()
        cookie = sessions.create(s, user, absolute=timedelta(hours=2))
        campaign = Campaign(name="load receipts", message_template="hi", channel="sms",
                            status="completed")
        s.add(campaign)
        s.flush()
        customer_ids = s.exec(sa.select(Customer.id).order_by(Customer.id)
                              .limit(receipts)).scalars().all()
        now = utcnow()
        s.execute(CommunicationLog.__table__.insert(), [
            {"campaign_id": campaign.id, "customer_id": cid, "status": "sent",
             "vendor_message_id": f"load-{i}", "attempts": 1, "message": "hi",
             "created_at": now, "updated_at": now, "sent_at": now}
            for i, cid in enumerate(customer_ids)])
        s.commit()
        n = len(customer_ids)
    engine.dispose()
    return key.secret, cookie, n


def _phase(name: str, host: str, args: argparse.Namespace, api_key: str, cookie: str,
           vendor_ids: int) -> list[dict]:
    rows: list[dict] = []
    for scenario in (s for s in args.scenarios.split(",") if s):
        out = subprocess.run(
            [sys.executable, "-m", "bench.load.steps", "--host", host, "--scenario", scenario,
             "--rates", args.rates, "--seconds", str(args.seconds), "--api-key", api_key,
             "--secret", SECRET, "--vendor-ids", str(vendor_ids)],
            cwd=PROJECT_ROOT, capture_output=True, text=True,
            timeout=60 + len(args.rates.split(",")) * (args.seconds + 30))
        lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
        if out.returncode or not lines:
            print(out.stderr[-2000:], file=sys.stderr)
        rows += [{"phase": name, **line} for line in lines]
        for line in lines:
            print(json.dumps({"phase": name, **line}), flush=True)
    for n in (int(s) for s in args.sessions.split(",") if s):
        out = subprocess.run(
            [sys.executable, "-m", "bench.load.ui_sessions", "--host", host, "--cookie", cookie,
             "--sessions", str(n), "--seconds", str(args.ui_seconds)],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=args.ui_seconds + 180)
        lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
        if out.returncode or not lines or any(line["errors"] for line in lines):
            print(out.stderr[-3000:], file=sys.stderr)
        for line in lines:
            rows.append({"phase": name, **line})
            print(json.dumps({"phase": name, **line}), flush=True)
    return rows


def _table(rows: list[dict]) -> str:
    lines = ["| phase | scenario | offered/s or sessions | done/s | p50 ms | p95 ms | p99 ms "
             "| errors |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        offered = r.get("offered_per_s", r.get("sessions"))
        done = r.get("throughput_per_s", r.get("previews_per_s"))
        lines.append(f"| {r['phase']} | {r['scenario']} | {offered} | {done} | {r['p50_ms']} "
                     f"| {r['p95_ms']} | {r['p99_ms']} | {r['errors']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--scenarios", default="ingest,receipts,preview")
    parser.add_argument("--rates", default="4,8,16,32", help="clients per step (1 req/s each)")
    parser.add_argument("--seconds", type=float, default=10, help="measured time per step")
    parser.add_argument("--sessions", default="10,50", help="concurrent UI sessions per run")
    parser.add_argument("--ui-seconds", type=float, default=20)
    parser.add_argument("--granian-workers", type=int, default=1)
    parser.add_argument("--phases", default="one,two")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="mini-crm-load-"))
    rows: list[dict] = []
    with ExitStack() as stack:
        rds = stack.enter_context(private_redis(tmp / "redis"))
        db_url = stack.enter_context(fresh_database("postgresql", tmp))
        ports = [free_port(), free_port()]
        proxy = stack.enter_context(nginx_proxy(tmp / "nginx", ports))
        env = {k: v for k, v in os.environ.items() if not k.startswith("REFLEX_")}
        env.update({"DATABASE_URL": db_url, "REDIS_URL": rds.url,
                    "REFLEX_REDIS_URL": rds.url.rsplit("/", 1)[0] + "/1",
                    "APP_URL": proxy.url, "APP_ENV": "development", "SECRET_KEY": SECRET,
                    "RECEIPT_SIGNING_SECRET": SECRET, "OIDC_CLIENT_ID": "",
                    "API_RATE_LIMIT_PER_MINUTE": "1000000",
                    "GRANIAN_WORKERS": str(args.granian_workers), "PYTHONUNBUFFERED": "1"})
        migrations.upgrade(db_url)
        subprocess.run([sys.executable, "-m", "mini_crm.cli", "seed", "--customers",
                        str(args.customers)], env=env, cwd=PROJECT_ROOT, check=True,
                       capture_output=True, timeout=600)
        api_key, cookie, vendor_ids = _fixtures(db_url, min(args.customers, 5000))
        procs: list[subprocess.Popen] = []
        stack.callback(lambda: [_stop(p) for p in reversed(procs)])
        procs.append(_spawn([sys.executable, "-m", "mini_crm.cli", "worker", "--processes",
                             "1"], env, tmp / "worker.log"))

        def instance(port: int, name: str) -> None:
            ienv = {**reflex_env(port), **env, "PORT": str(port)}
            log = tmp / f"{name}.log"
            proc = _spawn([sys.executable, "-m", "tests.multi.serve_built", str(port),
                           "--backend-only"], ienv, log)
            procs.append(proc)
            _wait_healthy(f"http://127.0.0.1:{port}", proc, log)

        instance(ports[0], "instance-a")
        if "one" in args.phases:
            rows += _phase("1 instance", f"http://127.0.0.1:{ports[0]}", args, api_key, cookie,
                           vendor_ids)
        if "two" in args.phases:
            instance(ports[1], "instance-b")
            rows += _phase("2 instances + nginx", proxy.url, args, api_key, cookie, vendor_ids)
    print("\n" + _table(rows))
    print(f"\n(each instance: {args.granian_workers} Granian worker process(es); "
          f"{os.cpu_count()} CPUs shared with everything else on this machine)")


if __name__ == "__main__":
    main()

"""Campaign delivery end to end: launch to last receipt applied, beside the simulator's
own capacity measured in the same run.

    .venv/bin/python -m bench.delivery --customers 100000 --workers 2

PostgreSQL, or MariaDB with --dialect mariadb (a fresh database) + Redis (DB 8, its
queues emptied first). Processes, as deployed: the vendor simulator alone (`mini-crm
vendor`, zero latency), the API (uvicorn, receives the signed receipts), N RQ
SimpleWorker processes, and one process running the periodic tasks (delivery sweeper,
receipt batcher) — what `mini-crm worker` runs. Steps:
1. capacity: the simulator's own rate, best of three bursts of batches of 500 sent
   straight to it with the same HTTP client and concurrency the workers use (no
   database, no rendering): accept only, and with its receipts posted to a sink
   that only answers 202 (the simulator's whole job);
2. the campaign: one INSERT ... SELECT for N customers, jobs of delivery_batch_size
   rows, until no row is queued (all sent) and until no row awaits its receipt;
3. the workers' RSS, sampled every 0.1 s over the run (with the completion polls).
Prints messages/s, the ratios campaign / capacity (goal: >= 60%), the RSS series, CPU
seconds per process and CPU per message, and the ceiling that CPU sets on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import redis
import sqlalchemy as sa
from rq import Queue
from rq.registry import FinishedJobRegistry

from mini_crm import migrations
from mini_crm.models import CommunicationLog, Customer, utcnow
from mini_crm.settings import PROJECT_ROOT
from tests.databases import fresh_database

REDIS_URL = "redis://127.0.0.1:6379/8"
LOG = CommunicationLog.__table__


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL if this process dies, so no orphan outlives a run."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"process for {url} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def spawn(code: str, env: dict[str, str], log_name: str) -> subprocess.Popen:
    log = open(Path(tempfile.gettempdir()) / f"bench-delivery-{log_name}.log", "w")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=_die_with_parent)


def wait_idle(procs: list[subprocess.Popen], timeout: float = 60) -> None:
    """Until no process uses CPU for a moment: start-up imports (a second or two each)
    must not be billed to the campaign."""
    deadline = time.monotonic() + timeout
    before = [cpu_seconds(p.pid) for p in procs]
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = [cpu_seconds(p.pid) for p in procs]
        if all(b - a < 0.05 for a, b in zip(before, now, strict=True)):
            return
        before = now


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(text.split("VmRSS:")[1].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


DB_PROCESSES = {"postgresql": ("postgres",), "mariadb": ("mariadbd", "mysqld")}


def database_cpu(dialect: str) -> float:
    """CPU of every process of the database server on this machine (the bench's share
    dominates)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in DB_PROCESSES[dialect]:
                    total += cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


def add_customers(engine: sa.Engine, n: int) -> None:
    now = utcnow()
    with engine.begin() as conn:
        for start in range(0, n, 5000):
            conn.execute(Customer.__table__.insert(), [
                {"external_id": f"b-{i}", "name": f"Customer {i}", "email": f"c{i}@example.in",
                 "phone": f"+91 9{i:09d}", "city": "Pune", "attributes": {},
                 "is_stub": False, "created_at": now,
                 "updated_at": now, "total_spend": Decimal("1000") + i % 5000,
                 "order_count": 1 + i % 7} for i in range(start, min(n, start + 5000))])


SINK = """
import sys, uvicorn

async def app(scope, receive, send):  # answers 202 to anything, reads the body first
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 202, "headers": []})
    await send({"type": "http.response.body", "body": b""})

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            lifespan="off")
"""


def capacity(vendor_url: str, n: int, concurrency: int, batch: int,
             callback_url: str | None = None) -> float:
    """Messages/s the simulator takes when nothing else is in the way. With a
    callback_url the clock runs until it has also posted every receipt there."""
    from mini_crm.core.delivery.vendors import HttpVendorClient, OutgoingMessage

    auth = {"Authorization": "Bearer sim"}
    httpx.post(f"{vendor_url}/v1/reset", headers=auth)
    client = HttpVendorClient(url=f"{vendor_url}/v1/messages", token="sim",
                              callback_url=callback_url)
    tag = uuid.uuid4().hex[:6]
    batches = [[OutgoingMessage(f"cap-{tag}-{i}", "sms", f"+91 9{i:09d}",
                                f"Hi Customer {i} from Pune, your ₹1,000 voucher is waiting")
                for i in range(s, min(n, s + batch))] for s in range(0, n, batch)]
    client.send(batches[0][:10])  # warm the connection pool
    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client.send, batches))
    while callback_url and httpx.get(f"{vendor_url}/v1/stats", headers=auth).json()[
            "receipts_posted"] < n:
        time.sleep(0.02)
    return n / (time.perf_counter() - t0)


def phase_means(client: redis.Redis) -> dict[str, float]:
    """Mean milliseconds per phase over the finished delivery jobs (their return values)."""
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    registry = FinishedJobRegistry(queue=Queue("default", connection=client))
    sums: dict[str, float] = {}
    n = 0
    for job in Job.fetch_many(registry.get_job_ids(), connection=client):
        result = job.return_value() if job is not None else None
        if isinstance(result, dict) and result.get("claimed"):
            n += 1
            for k, v in result.items():
                if k.endswith("_ms"):
                    sums[k] = sums.get(k, 0) + v
    return {"jobs": n, **{k: round(v / n, 1) for k, v in sums.items()}} if n else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=500, help="rows per delivery job")
    parser.add_argument("--dialect", choices=sorted(DB_PROCESSES), default="postgresql",
                        help="the database (a fresh one is created and dropped)")
    args = parser.parse_args()

    raw = redis.Redis.from_url(REDIS_URL)
    for name in ("high", "default", "low"):
        Queue(name, connection=raw).empty()
        for job_id in FinishedJobRegistry(queue=Queue(name, connection=raw)).get_job_ids():
            raw.delete(f"rq:job:{job_id}")
        raw.delete(f"rq:wip:{name}", f"rq:finished:{name}")
    for pattern in ("mc:delivery:jobs:*", "mc:vendor:*", "mc:bench-*"):
        for key in raw.scan_iter(pattern):
            raw.delete(key)
    tag = uuid.uuid4().hex[:8]
    with fresh_database(args.dialect, Path(tempfile.gettempdir())) as db_url:
        migrations.upgrade(db_url)
        vendor_port, api_port, sink_port = free_port(), free_port(), free_port()
        vendor_url = f"http://127.0.0.1:{vendor_port}"
        env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL,
               "APP_URL": f"http://127.0.0.1:{api_port}", "VENDOR_KIND": "simulator",
               "VENDOR_URL": vendor_url, "SIMULATOR_LATENCY_MS": "0",
               "DELIVERY_BATCH_SIZE": str(args.batch), "FREQUENCY_CAP_MESSAGES": "0",
               "RECEIPT_BUFFER_PREFIX": f"mc:bench-receipts:{tag}",
               "SIMULATOR_REDIS_PREFIX": f"mc:bench-sim:{tag}",
               "API_RATE_LIMIT_PER_MINUTE": "1000000", "WORKER_PROCESSES": str(args.workers)}
        os.environ.update({k: v for k, v in env.items() if k not in os.environ or
                           os.environ[k] != v})
        from mini_crm.core.campaigns import service
        from mini_crm.db import create_db_engine, session_scope
        from mini_crm.settings import get_settings

        get_settings.cache_clear()
        engine = create_db_engine(db_url)
        t = time.perf_counter()
        add_customers(engine, args.customers)
        print(f"customers: {args.customers} inserted in {time.perf_counter() - t:.1f} s")

        sink = subprocess.Popen([sys.executable, "-c", SINK, str(sink_port)],
                                preexec_fn=_die_with_parent)
        procs = [spawn(f"from mini_crm.cli import app; app(['vendor', '--port', "
                       f"'{vendor_port}'])", env, "vendor"),
                 spawn(f"import uvicorn; from mini_crm.api.app import create_api; "
                       f"uvicorn.run(create_api(), host='127.0.0.1', port={api_port}, "
                       f"log_level='warning')", env, "api")]
        try:
            wait_http(f"{vendor_url}/docs", procs[0])
            wait_http(f"http://127.0.0.1:{api_port}/healthz", procs[1])
            settings = get_settings()
            cap_n = min(args.customers, 50_000)
            # The best of three bursts: the machine is shared, and a low baseline would
            # flatter the ratio.
            cap = max(capacity(vendor_url, cap_n, settings.vendor_concurrency, args.batch)
                      for _ in range(3))
            cap_receipts = max(capacity(vendor_url, cap_n, settings.vendor_concurrency,
                                        args.batch, f"http://127.0.0.1:{sink_port}/")
                               for _ in range(3))
            print(f"simulator capacity, receipts posted to a sink that only answers 202: "
                  f"{cap_receipts:,.0f} messages/s")
            print(f"simulator capacity: {cap:,.0f} messages/s ({cap_n} messages, "
                  f"{settings.vendor_concurrency} concurrent requests of {args.batch})")
            httpx.post(f"{vendor_url}/v1/reset", headers={"Authorization": "Bearer sim"})

            workers = [spawn(f"from workers.launcher import _work; _work({REDIS_URL!r}, "
                             "False)", env, f"worker{i}") for i in range(args.workers)]
            procs += workers
            procs.append(spawn("import threading; from mini_crm.core import periodic; "
                               "periodic.run_forever(threading.Event())", env, "periodic"))
            wait_idle(procs)  # imports done, workers listening: not part of the campaign
            rss: list[list[float]] = [[rss_mb(w.pid)] for w in workers]

            # A running app trains the tag classifier once per process (about 1.7 s, when
            # it first auto-tags a campaign); that is not delivery, so it happens beforehand.
            from mini_crm.core.ai.tags import offline_tags

            offline_tags(name="warm-up", message="warm-up", objective="")
            names = ["vendor", "api"] + [f"worker{i}" for i in range(args.workers)] + [
                "periodic"]
            cpu0 = [cpu_seconds(p.pid) for p in procs] + [database_cpu(args.dialect),
                                                          time.process_time()]
            t0 = time.perf_counter()
            with session_scope(engine) as db:
                campaign = service.create_campaign(
                    db, name="bench", rules={"combinator": "and", "rules": [
                        {"field": "city", "operator": "=", "value": "Pune"}]},
                    segment_id=None, message_template="Hi {first_name}, your {total_spend} "
                    "of orders in {city} earned a voucher", channel="sms", schedule_at=None,
                    objective=None, created_by=None)
            launched = time.perf_counter() - t0
            sent_at = done_at = None
            while done_at is None:
                time.sleep(0.1)
                for w, series in zip(workers, rss, strict=True):
                    series.append(rss_mb(w.pid))
                # Two index probes, not a count of the audience: the observer must not
                # cost the database more than a fraction of what it measures.
                with engine.connect() as conn:
                    left = {status for status in ("queued", "sent") if conn.execute(
                        sa.select(LOG.c.id).where(LOG.c.campaign_id == campaign.id,
                                                  LOG.c.status == status).limit(1)).first()}
                if sent_at is None and "queued" not in left:
                    sent_at = time.perf_counter() - t0
                if sent_at is not None and "sent" not in left:
                    done_at = time.perf_counter() - t0
                if time.perf_counter() - t0 > 1800:
                    raise SystemExit(f"gave up waiting: {left} still left")
            cpu1 = [cpu_seconds(p.pid) for p in procs] + [database_cpu(args.dialect),
                                                          time.process_time()]
            with engine.connect() as conn:
                counts = dict(conn.execute(
                    sa.select(LOG.c.status, sa.func.count())
                    .where(LOG.c.campaign_id == campaign.id)
                    .group_by(LOG.c.status)).all())
            stats = httpx.get(f"{vendor_url}/v1/stats",
                              headers={"Authorization": "Bearer sim"}).json()
        finally:
            for p in [*procs, sink]:
                p.terminate()
            for p in [*procs, sink]:
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
            engine.dispose()
    n = campaign.audience_size
    rate_sent, rate_done = n / sent_at, n / done_at
    print(f"launch (INSERT ... SELECT of {n} rows + enqueue): {launched:.2f} s")
    print(f"all sent after {sent_at:.1f} s: {rate_sent:,.0f} messages/s = "
          f"{rate_sent / cap:.0%} of the simulator's capacity")
    print(f"last receipt applied after {done_at:.1f} s: {rate_done:,.0f} messages/s end to end "
          f"= {rate_done / cap:.0%} of capacity ({rate_done / cap_receipts:.0%} of its "
          "capacity when it posts receipts too)")
    print(f"final statuses: {counts}; vendor accepted {stats['accepted']}, "
          f"duplicates {stats['duplicates']}")
    for i, series in enumerate(rss):
        print(f"worker {i} RSS MB: start {series[0]:.0f}, peak {max(series):.0f}, "
              f"end {series[-1]:.0f} ({len(series)} samples: "
              + " ".join(f"{v:.0f}" for v in series[:: max(1, len(series) // 12)]) + ")")
    print(f"mean ms per job by phase: {phase_means(raw)}")
    used = {name: b - a for name, a, b in zip([*names, args.dialect, "bench (launch, polls)"],
                                              cpu0, cpu1, strict=True)}
    print(f"CPU seconds over the campaign ({os.cpu_count()} cores, wall {done_at:.1f} s): "
          + ", ".join(f"{k} {v:.1f}" for k, v in used.items()))
    # The ceiling the CPU work alone sets, whatever the concurrency: every message costs
    # this much processor time somewhere on the machine.
    per_message = sum(used.values()) / n * 1e6
    ceiling = (os.cpu_count() or 1) / (per_message / 1e6)
    print(f"CPU per message: {per_message:.0f} µs in all ("
          + ", ".join(f"{k} {v / n * 1e6:.0f}" for k, v in used.items())
          + f"); with {os.cpu_count()} cores that alone caps the pipeline at {ceiling:,.0f} "
          f"messages/s = {ceiling / cap:.0%} of the simulator's capacity; the CPUs were "
          f"busy {sum(used.values()) / ((os.cpu_count() or 1) * done_at):.0%} of the run")
    for key in raw.scan_iter(f"mc:bench-*:{tag}*"):
        raw.delete(key)


if __name__ == "__main__":
    main()

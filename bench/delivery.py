"""Campaign delivery end to end, against a floor and the simulator's capacity measured
in the same run, with 1, 2 and 4 worker processes.

    .venv/bin/python -m bench.delivery --customers 20000 --workers 1,2,4
    .venv/bin/python -m bench.delivery --redis-url redis://host:6379/3 \
        --postgresql-url postgresql+psycopg://bench@db/postgres

Where: a fresh database `bench_<tag>` on the PostgreSQL (or, `--dialect mariadb`,
MariaDB) server given by flag, else DATABASE_URL's server, else the local one; dropped
at the end. Redis from `--redis-url` or REDIS_URL: the run's queues and keys all carry
`bench-<tag>` (REDIS_NAMESPACE and the receipt/simulator/stream prefixes) and only
those, with the run's RQ job records, are deleted (bench/common.py). Nothing else in the
database server or Redis is read, emptied or deleted.

Processes, as deployed: the vendor simulator alone (`mini-crm simulator`, zero latency),
the API (uvicorn: receives the signed receipts), N RQ worker processes and one process
running the periodic tasks (sweeper, receipt batcher) — what `mini-crm worker` runs.
1. capacity: the simulator's rate with nothing else in the way, best of three bursts
   sent straight to it in requests of the batch size with the workers' HTTP client and
   concurrency: accept only, and accept + post every receipt to a sink that answers 202;
   the simulator's CPU per message in the latter is its own cost;
2. floor: the same customers moved through the same statuses by bare set-based SQL
   (bench/delivery_floor.py) — the run's database backends' CPU plus the client's, per
   message, plus the simulator's own cost per message;
3. for each worker count: one campaign to every customer, from the launch until no row
   is queued (all sent) and until no row awaits its receipt; CPU of every process and
   of the run's database backends, per message, and its ratio to the floor; the
   workers' RSS; mean milliseconds per job phase.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import sqlalchemy as sa
from rq import Worker
from rq.job import Job

from bench import delivery_floor
from bench.common import (
    DatabaseCpu,
    RedisRun,
    add_service_args,
    bench_database,
    cpu_seconds,
    die_with_parent,
    free_port,
    redis_url,
    rss_mb,
    server_url,
    stop,
    wait_http,
)
from mini_crm import migrations
from mini_crm.models import CommunicationLog, Customer, utcnow
from mini_crm.settings import PROJECT_ROOT

LOG = CommunicationLog.__table__
AUTH = {"Authorization": "Bearer sim"}
TEMPLATE = "Hi {first_name}, your {total_spend} of orders in {city} earned a voucher"


def spawn(code: str, env: dict[str, str], log_name: str) -> subprocess.Popen:
    log = open(Path(tempfile.gettempdir()) / f"bench-delivery-{log_name}.log", "w")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)


def wait_ready(run: RedisRun, database_url: str, workers: int,
               procs: list[subprocess.Popen], timeout: float = 300) -> None:
    """Until every worker has registered with RQ and the periodic process holds the
    leader lease — both happen after their imports — then until no process uses CPU for
    a moment. Start-up must not be billed to the campaign, and on a loaded machine a
    process starved while importing looks idle to the CPU check alone."""
    deadline = time.monotonic() + timeout
    lease = run.leader_key(database_url)
    while (Worker.count(queue=run.queue("default", database_url)) < workers
           or run.client.get(lease) is None):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise SystemExit("workers or the periodic process did not start; see "
                             f"{tempfile.gettempdir()}/bench-delivery-*.log")
        time.sleep(0.2)
    wait_idle(procs, deadline - time.monotonic())


def wait_idle(procs: list[subprocess.Popen], timeout: float = 120) -> None:
    """Until no process uses CPU for a moment."""
    deadline = time.monotonic() + timeout
    before = [cpu_seconds(p.pid) for p in procs]
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = [cpu_seconds(p.pid) for p in procs]
        if all(b - a < 0.05 for a, b in zip(before, now, strict=True)):
            return
        before = now


def add_customers(engine: sa.Engine, n: int) -> None:
    now = utcnow()
    with engine.begin() as conn:
        for start in range(0, n, 5000):
            conn.execute(Customer.__table__.insert(), [
                {"external_id": f"b-{i}", "name": f"Customer {i}", "email": f"c{i}@example.in",
                 "phone": f"+919{i:09d}", "city": "Pune", "attributes": {}, "is_stub": False,
                 "created_at": now, "updated_at": now, "total_spend": Decimal("1000") + i % 5000,
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


def capacity(vendor_url: str, vendor_pid: int, n: int, concurrency: int, batch: int,
             callback_url: str | None = None) -> tuple[float, float]:
    """(messages/s, simulator CPU seconds per message) when nothing else is in the way.
    With a callback_url the clock runs until it has also posted every receipt there."""
    from mini_crm.core.delivery.vendors import HttpVendorClient, OutgoingMessage

    httpx.post(f"{vendor_url}/v1/reset", headers=AUTH)
    client = HttpVendorClient(url=f"{vendor_url}/v1/messages", token="sim",
                              callback_url=callback_url)
    tag = uuid.uuid4().hex[:6]
    batches = [[OutgoingMessage(f"cap-{tag}-{i}", "sms", f"+919{i:09d}",
                                f"Hi Customer {i} from Pune, your ₹1,000 voucher is waiting")
                for i in range(s, min(n, s + batch))] for s in range(0, n, batch)]
    client.send(batches[0][:10])  # warm the connection pool
    time.sleep(0.5)  # the warm-up's receipts
    cpu0, t0 = cpu_seconds(vendor_pid), time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client.send, batches))
    while callback_url and httpx.get(f"{vendor_url}/v1/stats", headers=AUTH).json()[
            "receipts_posted"] < n:  # the warm-up keys come back as duplicates
        time.sleep(0.02)
    return n / (time.perf_counter() - t0), (cpu_seconds(vendor_pid) - cpu0) / n


def phase_means(run: RedisRun, database_url: str) -> dict[str, float]:
    """Mean milliseconds per phase over the run's finished delivery jobs."""
    registry = run.queue("default", database_url).finished_job_registry
    sums: dict[str, float] = {}
    n = 0
    for job in Job.fetch_many(registry.get_job_ids(), connection=run.client):
        result = job.return_value() if job is not None else None
        if isinstance(result, dict) and result.get("claimed"):
            n += 1
            for k, v in result.items():
                if k.endswith("_ms"):
                    sums[k] = sums.get(k, 0) + v
    return {"jobs": n, **{k: round(v / n, 1) for k, v in sums.items()}} if n else {}


def profile(pids: dict[str, int], workers: int) -> list[subprocess.Popen]:
    """py-spy (pip install py-spy) sampling these processes into collapsed stacks,
    /tmp/bench-profile-<name>-<workers>w.txt, until stopped."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return [subprocess.Popen([spy, "record", "--format", "raw", "--rate", "200", "--nonblocking",
                              "-o", f"{tempfile.gettempdir()}/bench-profile-{name}-{workers}w.txt",
                              "--pid", str(pid)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
            for name, pid in pids.items()]


def campaign(workers: int, env: dict[str, str], engine: sa.Engine, db_cpu: DatabaseCpu,
             base: list[subprocess.Popen], run: RedisRun, vendor_url: str,
             with_profile: bool = False) -> dict:
    """One campaign to every customer with `workers` worker processes; its figures."""
    from mini_crm.core.campaigns import service
    from mini_crm.db import session_scope

    httpx.post(f"{vendor_url}/v1/reset", headers=AUTH)
    procs = [spawn(f"from workers.launcher import _work; _work({run.url!r}, False)", env,
                   f"worker{i}") for i in range(workers)]
    procs.append(spawn("import threading; from mini_crm.core import periodic; "
                       "periodic.run_forever(threading.Event())", env, "periodic"))
    spies: list[subprocess.Popen] = []
    try:
        wait_ready(run, env["DATABASE_URL"], workers, base + procs)
        spies = profile({"worker0": procs[0].pid, "periodic": procs[-1].pid,
                         "api": base[1].pid, "vendor": base[0].pid}, workers
                        ) if with_profile else []
        rss: list[list[float]] = [[rss_mb(w.pid)] for w in procs[:-1]]
        every = base + procs
        watcher = engine.connect()
        if engine.dialect.name == "postgresql":
            db_cpu.exclude.add(watcher.exec_driver_sql("SELECT pg_backend_pid()").scalar())
            watcher.commit()
        cpu0 = [cpu_seconds(p.pid) for p in every] + [time.process_time()]
        db_cpu.reset()
        t0 = time.perf_counter()
        with session_scope(engine) as db:
            c = service.create_campaign(
                db, name=f"bench-{workers}", rules={"combinator": "and", "rules": [
                    {"field": "city", "operator": "=", "value": "Pune"}]},
                segment_id=None, message_template=TEMPLATE, channel="sms", schedule_at=None,
                objective=None, created_by=None)
        launched = time.perf_counter() - t0
        launch_cpu = time.process_time() - cpu0[-1]
        sent_at = done_at = None
        # Two index probes in one round trip, not a count of the audience, on a connection
        # of its own whose backend is left out of the database's CPU (it only watches).
        probe = sa.select(*[sa.exists().where(LOG.c.campaign_id == c.id, LOG.c.status == s)
                            .label(s) for s in ("queued", "sent")])
        while done_at is None:
            time.sleep(0.1)
            db_cpu.sample()
            for w, series in zip(procs, rss, strict=False):
                series.append(rss_mb(w.pid))
            row = watcher.execute(probe).one()
            watcher.commit()
            left = {s for s in ("queued", "sent") if row._mapping[s]}
            if sent_at is None and "queued" not in left:
                sent_at = time.perf_counter() - t0
            if sent_at is not None and "sent" not in left:
                done_at = time.perf_counter() - t0
            if time.perf_counter() - t0 > 1800:
                raise SystemExit(f"gave up waiting: {left} still left")
        cpu1 = [cpu_seconds(p.pid) for p in every] + [time.process_time()]
        database = db_cpu.total()
        with engine.connect() as conn:
            counts = dict(conn.execute(sa.select(LOG.c.status, sa.func.count())
                                       .where(LOG.c.campaign_id == c.id)
                                       .group_by(LOG.c.status)).all())
        stats = httpx.get(f"{vendor_url}/v1/stats", headers=AUTH).json()
        phases = phase_means(run, env["DATABASE_URL"])
        watcher.close()
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for spy in spies:
            spy.wait(30)
        stop(procs)
    names = ["vendor", "api"] + [f"worker{i}" for i in range(workers)] + ["periodic", "bench"]
    used = {k: b - a for k, a, b in zip(names, cpu0, cpu1, strict=True)}
    # The bench process launched the campaign (pipeline work) and then only watched it
    # (two index probes every 0.1 s): the watching is left out of the pipeline's cost.
    observer = used.pop("bench") - launch_cpu
    used["launch"] = launch_cpu
    used["database"] = database
    return {"workers": workers, "n": c.audience_size, "launch": launched, "sent": sent_at,
            "done": done_at, "cpu": used, "observer": observer, "counts": counts,
            "stats": stats, "rss": rss, "phases": phases}


def report(r: dict, floor_us: float, cap: float, cap_receipts: float) -> None:
    n = r["n"]
    per_message = sum(r["cpu"].values()) / n * 1e6
    print(f"\n--- {r['workers']} worker process(es): {n:,} messages")
    print(f"launch {r['launch']:.2f} s; all sent after {r['sent']:.1f} s "
          f"({n / r['sent']:,.0f}/s); last receipt applied after {r['done']:.1f} s: "
          f"{n / r['done']:,.0f} messages/s end to end = {n / r['done'] / cap:.0%} of the "
          f"simulator's accept-only capacity, {n / r['done'] / cap_receipts:.0%} of its "
          "capacity with receipts")
    print(f"final statuses {r['counts']}; vendor accepted {r['stats']['accepted']}, "
          f"duplicates {r['stats']['duplicates']}")
    print("CPU µs per message: " + ", ".join(f"{k} {v / n * 1e6:.0f}"
                                              for k, v in r["cpu"].items())
          + f"; all {per_message:.0f} = {per_message / floor_us:.1f}× the floor (the "
          f"observer's polls, left out: {r['observer'] / n * 1e6:.0f})")
    for i, series in enumerate(r["rss"]):
        print(f"worker {i} RSS MB: start {series[0]:.0f}, peak {max(series):.0f}, "
              f"end {series[-1]:.0f}")
    print(f"mean ms per job by phase: {r['phases']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--workers", default="1,2,4",
                        help="comma list: a campaign per worker-process count")
    parser.add_argument("--batch", type=int, default=500, help="rows per delivery job")
    parser.add_argument("--dialect", choices=("postgresql", "mariadb"), default="postgresql")
    parser.add_argument("--profile", action="store_true",
                        help="sample worker 0, the periodic process, the API and the "
                             "simulator with py-spy during each campaign")
    add_service_args(parser)
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    run = RedisRun(redis_url(args))
    procs: list[subprocess.Popen] = []
    try:
        with bench_database(args.dialect, server_url(args, args.dialect)) as db_url:
            migrations.upgrade(db_url)
            vendor_port, api_port, sink_port = free_port(), free_port(), free_port()
            vendor_url = f"http://127.0.0.1:{vendor_port}"
            env = {**os.environ, "DATABASE_URL": db_url, **run.env(),
                   "APP_URL": f"http://127.0.0.1:{api_port}", "VENDOR_KIND": "simulator",
                   "VENDOR_URL": vendor_url, "SIMULATOR_LATENCY_MS": "0",
                   "DELIVERY_BATCH_SIZE": str(args.batch), "FREQUENCY_CAP_MESSAGES": "0",
                   "API_RATE_LIMIT_PER_MINUTE": "1000000", "LOG_LEVEL": "WARNING"}
            os.environ.update(env)
            from mini_crm.core import redis_conn
            from mini_crm.db import create_db_engine
            from mini_crm.settings import get_settings

            get_settings.cache_clear()
            redis_conn.reset_cache()
            settings = get_settings()
            engine = create_db_engine(db_url)
            t = time.perf_counter()
            add_customers(engine, args.customers)
            print(f"{args.customers:,} customers inserted in {time.perf_counter() - t:.1f} s "
                  f"({args.dialect}, database {engine.url.database}, Redis keys *{run.tag}*)")
            procs.append(subprocess.Popen([sys.executable, "-c", SINK, str(sink_port)],
                                          preexec_fn=die_with_parent))
            vendor = spawn(f"from mini_crm.cli import app; app(['simulator', '--port', "
                           f"'{vendor_port}'])", env, "vendor")
            api = spawn(f"import uvicorn; from mini_crm.api.app import create_api; "
                        f"uvicorn.run(create_api(), host='127.0.0.1', port={api_port}, "
                        f"log_level='warning')", env, "api")
            procs += [vendor, api]
            wait_http(f"{vendor_url}/docs", vendor)
            wait_http(f"http://127.0.0.1:{api_port}/healthz", api)

            cap_n = min(args.customers, 50_000)
            conc = settings.vendor_concurrency
            # Best of three bursts: the machine is shared, and a low baseline would flatter.
            cap = max(capacity(vendor_url, vendor.pid, cap_n, conc, args.batch)[0]
                      for _ in range(3))
            with_receipts = [capacity(vendor_url, vendor.pid, cap_n, conc, args.batch,
                                      f"http://127.0.0.1:{sink_port}/") for _ in range(3)]
            cap_receipts = max(r for r, _ in with_receipts)
            sim_us = min(c for _, c in with_receipts) * 1e6
            print(f"simulator capacity: {cap:,.0f} messages/s accept only, "
                  f"{cap_receipts:,.0f}/s posting receipts too ({cap_n:,} messages, {conc} "
                  f"concurrent requests of {args.batch}); its own CPU {sim_us:.0f} µs "
                  "per message (accept + receipt)")

            # A running app trains the tag classifier once per process when it first
            # auto-tags a campaign; that is not delivery, so it happens beforehand.
            from mini_crm.core.ai.tags import offline_tags

            offline_tags(name="warm-up", message="warm-up", objective="")
            db_cpu = DatabaseCpu(db_url)
            floor = delivery_floor.run(engine, db_cpu, args.batch,
                                       settings.simulator_delivered_ratio)
            rows = floor["rows"]
            sql_us = sum(v for k, v in floor.items() if k.endswith("_cpu")) / rows * 1e6
            floor_us = sql_us + sim_us
            print(f"floor: {rows:,} rows by bare SQL in "
                  f"{sum(v for k, v in floor.items() if k.endswith('_wall')):.1f} s — "
                  + ", ".join(f"{step} {floor[step + '_db_cpu'] / rows * 1e6:.0f}+"
                              f"{floor[step + '_client_cpu'] / rows * 1e6:.0f}"
                              for step in ("insert", "claim", "mark", "receipt"))
                  + f" µs (database+client) = {sql_us:.0f} µs; + simulator {sim_us:.0f} µs "
                  f"= floor {floor_us:.0f} µs per message")
            results = []
            for workers in counts:
                results.append(campaign(workers, env, engine, db_cpu, [vendor, api], run,
                                        vendor_url, args.profile))
                report(results[-1], floor_us, cap, cap_receipts)
                run.cleanup()  # this campaign's jobs and keys; the next starts clean
            print(f"\nsummary ({args.customers:,} customers, {os.cpu_count()} cores, "
                  f"floor {floor_us:.0f} µs/message):")
            print(f"{'workers':>8}{'sent/s':>10}{'end-to-end/s':>14}{'CPU µs/msg':>12}"
                  f"{'× floor':>9}")
            for r in results:
                us = sum(r["cpu"].values()) / r["n"] * 1e6
                print(f"{r['workers']:>8}{r['n'] / r['sent']:>10,.0f}"
                      f"{r['n'] / r['done']:>14,.0f}{us:>12,.0f}{us / floor_us:>9.1f}")
            db_cpu.dispose()
            engine.dispose()
            stop(procs)
    finally:
        stop(procs)
        print(f"deleted {run.cleanup()} Redis keys of this run")


if __name__ == "__main__":
    main()

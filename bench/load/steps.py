"""One HTTP scenario at rising rates with locust (as a library, headless), one JSON line
per step on stdout: offered rate, throughput, p50/p95/p99 (ms) and errors.

    python -m bench.load.steps --host http://127.0.0.1:PORT --scenario preview \
        --rates 5,10,20,40 --seconds 15 --api-key KEY --secret SECRET

Each simulated client sends one request a second (locust's constant_throughput), so a
step of N clients offers N requests a second; when the server cannot keep up, the
throughput stays below the offer and the latencies grow. Scenarios:

- ingest: POST /api/v1/customers, 100 customers a request (upserts of a fixed pool of
  external ids, so the table stops growing);
- receipts: POST /api/v1/receipts, 100 signed receipts a request for messages that
  exist (status 'sent' or already final: duplicates are the normal case for a vendor);
- preview: POST /api/v1/segments/preview with one of four rule trees.

Run by bench/load/run.py; only ever against 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from urllib.parse import urlsplit

import gevent
import locust  # monkey-patches the standard library (gevent) as it is imported
from locust import FastHttpUser, constant_throughput, task
from locust.env import Environment

from mini_crm.core.delivery import signing

PREVIEW_RULES = [
    {"combinator": "and", "rules": [{"field": "total_spend", "operator": ">", "value": 5000}]},
    {"combinator": "and", "rules": [
        {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
        {"field": "order_count", "operator": ">=", "value": 3}]},
    {"combinator": "or", "rules": [
        {"field": "days_since_last_order", "operator": ">=", "value": 180},
        {"field": "total_spend", "operator": "between", "value": [1000, 3000]}]},
    {"combinator": "and", "rules": [
        {"field": "window_order_count", "operator": ">", "value": 1,
         "window": {"last_days": 365}}]},
]
BATCH = 100


class Settings:
    api_key = ""
    secret = ""
    vendor_ids = 0  # receipts: vendor ids load-0 … load-(n-1) exist in communication_log


class ApiUser(FastHttpUser):
    abstract = True
    wait_time = constant_throughput(1)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {Settings.api_key}"}


class IngestUser(ApiUser):
    @task
    def customers(self) -> None:
        start = random.randrange(0, 20_000 - BATCH)
        items = [{"external_id": f"load-{i}", "name": f"Load Customer {i}",
                  "city": random.choice(["Mumbai", "Pune", "Delhi"]),
                  "email": f"load{i}@example.in"} for i in range(start, start + BATCH)]
        self.client.post("/api/v1/customers", json={"items": items}, headers=self.headers(),
                         name="POST /api/v1/customers (100)")


class ReceiptUser(ApiUser):
    @task
    def receipts(self) -> None:
        ids = random.sample(range(Settings.vendor_ids), BATCH)
        body = json.dumps({"receipts": [
            {"vendor_message_id": f"load-{i}", "status": "delivered" if i % 10 else "failed",
             "error": None if i % 10 else "handset unreachable"} for i in ids]}).encode()
        self.client.post("/api/v1/receipts", data=body, name="POST /api/v1/receipts (100)",
                         headers={"Content-Type": "application/json",
                                  **signing.signed_headers(Settings.secret, body)})


class PreviewUser(ApiUser):
    @task
    def preview(self) -> None:
        self.client.post("/api/v1/segments/preview", json={"rules": random.choice(PREVIEW_RULES)},
                         headers=self.headers(), name="POST /api/v1/segments/preview")


SCENARIOS = {"ingest": IngestUser, "receipts": ReceiptUser, "preview": PreviewUser}


def run_step(user: type, host: str, clients: int, seconds: float) -> dict:
    env = Environment(user_classes=[user], host=host)
    runner = env.create_local_runner()
    runner.start(clients, spawn_rate=clients)
    gevent.sleep(min(2.0, seconds / 4))  # ramp-up, not measured
    env.stats.reset_all()
    gevent.sleep(seconds)
    total = env.stats.total
    elapsed = seconds
    out = {"offered_per_s": clients, "requests": total.num_requests,
           "throughput_per_s": round(total.num_requests / elapsed, 1),
           "p50_ms": total.get_response_time_percentile(0.5),
           "p95_ms": total.get_response_time_percentile(0.95),
           "p99_ms": total.get_response_time_percentile(0.99),
           "errors": total.num_failures,
           "error_kinds": sorted({str(e.error)[:80] for e in env.stats.errors.values()})[:3]}
    runner.quit()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--rates", default="5,10,20,40")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--api-key", default="")
    parser.add_argument("--secret", default="")
    parser.add_argument("--vendor-ids", type=int, default=0)
    args = parser.parse_args(argv)
    if urlsplit(args.host).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("load tests run against this machine only (127.0.0.1)")
    Settings.api_key, Settings.secret, Settings.vendor_ids = (args.api_key, args.secret,
                                                              args.vendor_ids)
    for clients in (int(r) for r in args.rates.split(",")):
        step = run_step(SCENARIOS[args.scenario], args.host, clients, args.seconds)
        print(json.dumps({"scenario": args.scenario, **step}), flush=True)
    sys.stdout.flush()
    assert locust  # imported first for its monkey-patching


if __name__ == "__main__":
    main()

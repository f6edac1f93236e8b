"""GET /metrics lists every series and each moves when its work happens; the request id
follows a campaign from the launch request into its RQ jobs (every database, real Redis
under a fresh namespace and prefixes, deleted afterwards)."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue

from mini_crm.core import jobs, redis_conn
from mini_crm.core.delivery import receipts, sending
from mini_crm.core.delivery.receipt_model import Receipt
from mini_crm.core.ingestion import stream
from mini_crm.models import CommunicationLog
from mini_crm.observability import logs
from mini_crm.settings import get_settings
from tests.integration.campaign_helpers import FakeVendor, add_customers, city_rules
from workers.launcher import LoggedWorker

REDIS_URL = "redis://127.0.0.1:6379/15"
LOG = CommunicationLog.__table__

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def boom() -> None:
    """A job that fails (RQ imports it by name in the worker)."""
    raise RuntimeError("this job fails on purpose")


def scrape(api: TestClient, headers: dict[str, str] | None = None) -> Samples:
    r = api.get("/metrics", headers=headers or {})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    out: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum over samples of `name` whose labels include `labels` (0 when none)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


@dataclass
class Ops:
    client: redis.Redis
    namespace: str
    vendor: FakeVendor


@pytest.fixture
def ops(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ops]:
    tag = uuid.uuid4().hex[:8]
    env = {"REDIS_URL": REDIS_URL, "REDIS_NAMESPACE": f"test-ops-{tag}:",
           "INGEST_STREAM_PREFIX": f"test-ops-{tag}:ingest", "INGEST_MODE": "queued",
           "RECEIPT_BUFFER_PREFIX": f"test-ops-{tag}:receipts", "DELIVERY_BATCH_SIZE": "3",
           "DELIVERY_BACKOFF_MAX_SECONDS": "0.05", "FREQUENCY_CAP_MESSAGES": "0",
           "DELIVERY_JOB_THREADS": "1",
           "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    redis_conn.reset_cache()
    vendor = FakeVendor(fail_calls=1)  # one 503 first: a retry and a transient latency
    monkeypatch.setattr(sending, "vendor_client", lambda channel: vendor)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        yield Ops(client, env["REDIS_NAMESPACE"], vendor)
    finally:
        for name in jobs.QUEUES:
            queue = Queue(jobs.queue_name(name), connection=client)
            for registry in (queue.finished_job_registry, queue.failed_job_registry,
                             queue.started_job_registry):
                for job_id in registry.get_job_ids():
                    client.delete(f"rq:job:{job_id}", f"rq:results:{job_id}")
            for job_id in queue.job_ids:
                client.delete(f"rq:job:{job_id}")
            queue.delete(delete_jobs=True)
        for pattern in (f"{env['REDIS_NAMESPACE']}*", f"rq:*:{env['REDIS_NAMESPACE']}*",
                        f"test-ops-{tag}:*"):
            for key in client.scan_iter(pattern):
                client.delete(key)
        get_settings.cache_clear()
        redis_conn.reset_cache()


def test_every_series_is_listed_and_moves(api: TestClient, make_key, ops: Ops,
                                          app_settings: sa.Engine) -> None:
    captured = io.StringIO()
    handler = logs.configure("test", stream=captured)
    try:
        _exercise(api, make_key, ops, app_settings)
    finally:
        import logging

        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    mine = [line for line in lines if line["request_id"] == "launch-7f3a"]
    # The launch request's own line, and its delivery jobs' lines in the worker.
    assert any(line["logger"] == "mini_crm.http" and line["route"] == "/api/v1/campaigns"
               and line["status"] == 201 for line in mine)
    job_lines = [line for line in mine if line["logger"] == "mini_crm.worker"]
    assert job_lines and {line["function"] for line in job_lines} == {
        "mini_crm.core.delivery.job.deliver_batch"}
    assert {line.get("outcome") for line in job_lines} >= {"finished"}


def _exercise(api: TestClient, make_key, ops: Ops, engine: sa.Engine) -> None:
    add_customers(engine, 5)
    h = make_key("ingest", "campaigns", "read")
    before = scrape(api)

    # Ingestion: one good item and one bad, queued on the stream (lag until consumed).
    r = api.post("/api/v1/customers", headers=h, json={"items": [
        {"external_id": "m-1", "name": "Asha", "city": "Nagpur"},
        {"external_id": "", "name": "nobody"}]})
    assert r.status_code == 202 and r.json()["accepted"] == 1 and r.json()["rejected"] == 1
    # Two raw paths, one route template: the series stay bounded.
    for ext in ("nope-1", "nope-2"):
        assert api.get(f"/api/v1/customers/{ext}", headers=h).status_code == 404
    assert api.get("/no/such/path").status_code == 404

    # A campaign launched with a request id; its jobs wait in the (namespaced) queue.
    r = api.post("/api/v1/campaigns", headers={**h, "X-Request-ID": "launch-7f3a"}, json={
        "name": "Metrics", "rules": city_rules("Pune"), "channel": "sms", "message": "Hi"})
    assert r.status_code == 201, r.text
    assert r.headers["X-Request-ID"] == "launch-7f3a"
    campaign_id = r.json()["id"]
    jobs.enqueue(boom, queue="low")
    during = scrape(api)
    assert value(during, "mc_ingest_stream_lag") == 1
    assert value(during, "mc_jobs", queue="default", state="queued") == 2  # 5 rows, 3 a job
    assert value(during, "mc_jobs", queue="low", state="queued") == 1
    assert value(during, "mc_campaigns", status="sending") == 1
    assert value(during, "mc_campaign_messages", status="queued") == 5

    # The consumer drains the stream; a worker runs the jobs (in this process).
    assert stream.consume_once(ops.client, "test", block_ms=10) == 1
    LoggedWorker([jobs.queue_name(q) for q in jobs.QUEUES], connection=ops.client).work(
        burst=True, with_scheduler=False, logging_level="WARNING")
    with engine.connect() as conn:
        vendor_ids = list(conn.execute(sa.select(LOG.c.vendor_message_id)
                                       .where(LOG.c.campaign_id == campaign_id)).scalars())
    assert len(vendor_ids) == 5 and all(vendor_ids)
    # Receipts for every message, and one for a message id nobody knows (retried later).
    receipts.enqueue([Receipt(v, "delivered", None, "2025-11-02T10:00:00+00:00")
                      for v in vendor_ids] + [Receipt("v-unknown", "delivered", None,
                                                      "2025-11-02T10:00:00+00:00")])
    receipts.flush()
    after = scrape(api)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("mc_http_requests_total", route="/api/v1/customers", status="202") == 1
    assert moved("mc_http_requests_total", route="/api/v1/customers/{external_id}",
                 status="404") == 2
    assert not any("nope-1" in dict(ls).get("route", "") for (_, ls) in after)
    assert moved("mc_http_requests_total", route="unmatched", status="404") == 1
    assert moved("mc_http_request_duration_seconds_count", route="/api/v1/campaigns") == 1
    assert moved("mc_http_request_duration_seconds_bucket", route="/api/v1/campaigns",
                 le="+Inf") == 1
    assert moved("mc_ingest_rows_total", kind="customers", outcome="accepted") == 1
    assert moved("mc_ingest_rows_total", kind="customers", outcome="rejected") == 1
    assert value(after, "mc_ingest_stream_lag") == 0
    assert value(after, "mc_ingest_stream_pending") == 0
    assert "mc_ingest_dead_letters" in {n for n, _ in after}
    assert moved("mc_messages_total", channel="sms", outcome="sent") == 5
    assert moved("mc_vendor_request_duration_seconds_count", vendor="fake",
                 outcome="transient") == 1
    assert moved("mc_vendor_request_duration_seconds_count", vendor="fake", outcome="ok") == 2
    assert moved("mc_vendor_retries_total", vendor="fake") == 1
    assert moved("mc_receipts_total", outcome="applied") == 5
    assert moved("mc_receipts_total", outcome="unknown") == 1
    assert moved("mc_receipts_total", outcome="requeued") == 1
    assert moved("mc_jobs_processed_total", queue="default", outcome="finished") == 2
    assert moved("mc_jobs_processed_total", queue="low", outcome="failed") == 1
    assert moved("mc_job_duration_seconds_count", queue="default") == 2
    assert value(after, "mc_jobs", queue="default", state="queued") == 0
    assert value(after, "mc_jobs", queue="low", state="failed") == 1
    assert value(after, "mc_campaigns", status="completed") == 1
    assert value(after, "mc_campaigns", status="sending") == 0
    assert value(after, "mc_campaign_messages", status="queued") == 0
    assert value(after, "mc_scrape_source_up", source="database") == 1
    assert value(after, "mc_scrape_source_up", source="redis") == 1


def test_metrics_token_and_production(api: TestClient, monkeypatch: pytest.MonkeyPatch
                                      ) -> None:
    monkeypatch.setenv("METRICS_TOKEN", "s3cret-token")
    get_settings.cache_clear()
    assert api.get("/metrics").status_code == 401
    wrong = api.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "METRICS_TOKEN" in wrong.json()["error"]["message"]
    ok = api.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and "mc_campaigns" in ok.text
    # Redis off here: its gauges are left out, the database's are there.
    assert "mc_jobs{" not in ok.text
    for k, v in {"METRICS_TOKEN": "", "APP_ENV": "production", "SECRET_KEY": "k" * 40,
                 "OIDC_CLIENT_ID": "id", "OIDC_CLIENT_SECRET": "secret"}.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    off = api.get("/metrics")
    assert off.status_code == 404 and "METRICS_TOKEN" in off.json()["error"]["message"]
    get_settings.cache_clear()

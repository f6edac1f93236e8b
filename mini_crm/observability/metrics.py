"""Mini CRM's Prometheus series (what is counted where), and the scrape.

Counters and histograms are updated where the work happens, once per batch (never per
message in a hot loop). Gauges that describe shared state — queue depths, stream lag,
campaign progress — are read at scrape time by `collector.StateCollector`, so every
instance reports the same truth and nothing drifts.

Series (labels) — updated by:
- mc_http_requests_total (method, route template, status), mc_http_request_duration_seconds
  (method, route) — the api.observability middleware;
- mc_ingest_rows_total (kind = customers/orders, outcome = accepted/rejected) — POST
  /api/v1/customers and /orders;
- mc_messages_total (channel, outcome = sent/failed) — delivery jobs, after their mark;
- mc_vendor_request_duration_seconds (vendor, outcome = ok/transient/permanent/error),
  mc_vendor_retries_total (vendor) — each vendor request and each retry;
- mc_receipts_total (outcome = applied/unchanged/unknown/requeued/dropped) — receipts;
- mc_jobs_processed_total (queue, outcome = finished/failed), mc_job_duration_seconds
  (queue) — RQ workers;
- at scrape time (collector.py): mc_jobs (queue, state = queued/running/failed),
  mc_ingest_stream_lag / _pending / mc_ingest_dead_letters (stream), mc_campaigns
  (status), mc_campaign_messages (status, rows of the campaigns now sending),
  mc_scrape_source_up (source).
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from mini_crm.observability.collector import StateCollector
from mini_crm.settings import get_settings

# Latency buckets in seconds: API answers are milliseconds; segment previews and big
# ingestion batches reach seconds.
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_VENDOR_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

HTTP_REQUESTS = Counter("mc_http_requests", "HTTP requests answered, by route template "
                        "and status", ["method", "route", "status"])
HTTP_LATENCY = Histogram("mc_http_request_duration_seconds", "Time to answer an HTTP "
                         "request, seconds", ["method", "route"], buckets=_HTTP_BUCKETS)
INGEST_ROWS = Counter("mc_ingest_rows", "Ingestion items accepted (stored or queued) or "
                      "rejected with a per-item error", ["kind", "outcome"])
MESSAGES = Counter("mc_messages", "Campaign messages marked sent or failed", ["channel",
                                                                              "outcome"])
VENDOR_LATENCY = Histogram("mc_vendor_request_duration_seconds", "One request to the "
                           "delivery vendor, seconds", ["vendor", "outcome"],
                           buckets=_VENDOR_BUCKETS)
VENDOR_RETRIES = Counter("mc_vendor_retries", "Vendor requests retried after a transient "
                         "error (429, 5xx, timeout)", ["vendor"])
RECEIPTS = Counter("mc_receipts", "Delivery receipts by what they did: applied (moved a "
                   "row), unchanged (duplicate or late), unknown (no such message yet), "
                   "requeued (retried later), dropped (out of retries)", ["outcome"])
JOBS_PROCESSED = Counter("mc_jobs_processed", "Background jobs run by RQ workers",
                         ["queue", "outcome"])
JOB_DURATION = Histogram("mc_job_duration_seconds", "Run time of one background job, "
                         "seconds", ["queue"], buckets=_JOB_BUCKETS)


def count_ingest(kind: str, accepted: int, rejected: int) -> None:
    if accepted:
        INGEST_ROWS.labels(kind, "accepted").inc(accepted)
    if rejected:
        INGEST_ROWS.labels(kind, "rejected").inc(rejected)


def count_messages(channel: str, sent: int, failed: int) -> None:
    if sent:
        MESSAGES.labels(channel, "sent").inc(sent)
    if failed:
        MESSAGES.labels(channel, "failed").inc(failed)


def count_receipts(**outcomes: int) -> None:
    """count_receipts(applied=3, requeued=1): zero counts are skipped."""
    for outcome, n in outcomes.items():
        if n:
            RECEIPTS.labels(outcome).inc(n)


def registry() -> CollectorRegistry:
    """What a scrape reads: this role's processes (every process's files in multiprocess
    mode, else this process) plus the state read at scrape time from the database and
    Redis."""
    scraped = CollectorRegistry()
    if get_settings().prometheus_multiproc_dir:
        multiprocess.MultiProcessCollector(scraped)
    else:
        scraped.register(_ProcessCollectors())
    scraped.register(StateCollector())
    return scraped


def exposition() -> tuple[bytes, str]:
    """(body, content type) of one scrape of `registry()`."""
    return generate_latest(registry()), CONTENT_TYPE_LATEST


class _ProcessCollectors:
    """The default registry's series (ours, plus process and platform) as one collector."""

    def collect(self):  # noqa: ANN201 - the prometheus_client collector protocol
        return REGISTRY.collect()

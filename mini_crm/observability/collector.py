"""Gauges read at scrape time: RQ queues, the ingestion stream, campaign progress.

They describe state shared by every instance (Redis, the database), so any instance's
scrape gives the same figures; aggregate them with max(), not sum(). A source that does
not answer is reported by mc_scrape_source_up = 0 and its gauges are left out, so a
scrape never fails because Redis or the database is down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import redis
import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily, Metric
from rq import Queue
from rq.registry import FailedJobRegistry, StartedJobRegistry

from mini_crm.core import jobs
from mini_crm.core.ingestion.stream import GROUP, Names
from mini_crm.core.redis_conn import get_redis
from mini_crm.db import get_engine
from mini_crm.models import Campaign, CampaignStatus, CommunicationLog, DeliveryStatus

log = logging.getLogger(__name__)
CAMPAIGN = Campaign.__table__
LOG = CommunicationLog.__table__


class StateCollector:
    """A prometheus_client collector; each scrape costs a few Redis calls and two
    grouped counts (campaigns; log rows of the campaigns now sending, by index)."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("mc_scrape_source_up", "1 if the source answered this "
                               "scrape", labels=["source"])
        try:
            yield from _database_gauges()
            up.add_metric(["database"], 1)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("metrics: database unavailable: %s", exc)
            up.add_metric(["database"], 0)
        client = get_redis()
        if client is not None:
            try:
                yield from _redis_gauges(client)
                up.add_metric(["redis"], 1)
            except redis.RedisError as exc:
                log.warning("metrics: redis unavailable: %s", exc)
                up.add_metric(["redis"], 0)
        yield up


def _redis_gauges(client: redis.Redis) -> Iterator[Metric]:
    queued = GaugeMetricFamily("mc_jobs", "Background jobs by queue and state (RQ)",
                               labels=["queue", "state"])
    for name in jobs.QUEUES:
        queue = Queue(jobs.queue_name(name), connection=client)
        queued.add_metric([name, "queued"], queue.count)
        queued.add_metric([name, "running"], StartedJobRegistry(queue=queue).count)
        queued.add_metric([name, "failed"], FailedJobRegistry(queue=queue).count)
    yield queued
    lag = GaugeMetricFamily("mc_ingest_stream_lag", "Ingestion stream entries not yet "
                            "read by the consumer group", labels=["stream"])
    pending = GaugeMetricFamily("mc_ingest_stream_pending", "Ingestion stream entries read "
                                "but not yet written and acknowledged", labels=["stream"])
    dead = GaugeMetricFamily("mc_ingest_dead_letters", "Ingestion entries set aside after "
                             "failing repeatedly", labels=["stream"])
    names = Names.from_settings()
    groups = client.xinfo_groups(names.stream) if client.exists(names.stream) else []
    for group in groups:
        if _text(group.get("name")) == GROUP:
            # `lag` is Redis 7's count of entries the group has not been handed yet.
            lag.add_metric([names.stream], float(group.get("lag") or 0))
            pending.add_metric([names.stream], float(group.get("pending") or 0))
    if not groups:  # no consumer yet: every entry is lag
        lag.add_metric([names.stream], float(client.xlen(names.stream)))
        pending.add_metric([names.stream], 0)
    dead.add_metric([names.stream], float(client.xlen(names.dead)))
    yield lag
    yield pending
    yield dead


def _database_gauges() -> Iterator[Metric]:
    campaigns = GaugeMetricFamily("mc_campaigns", "Campaigns by status", labels=["status"])
    messages = GaugeMetricFamily("mc_campaign_messages", "Message rows of the campaigns now "
                                 "sending, by status: their progress", labels=["status"])
    with get_engine().connect() as conn:
        by_status = dict(conn.execute(sa.select(CAMPAIGN.c.status, sa.func.count())
                                      .group_by(CAMPAIGN.c.status)).all())
        sending = sa.select(CAMPAIGN.c.id).where(CAMPAIGN.c.status == CampaignStatus.SENDING)
        rows = dict(conn.execute(sa.select(LOG.c.status, sa.func.count())
                                 .where(LOG.c.campaign_id.in_(sending))
                                 .group_by(LOG.c.status)).all())
    for status in sorted(set(CampaignStatus.ALL) | set(by_status)):
        campaigns.add_metric([status], by_status.get(status, 0))
    for status in sorted(set(DeliveryStatus.RANK) | set(rows)):
        messages.add_metric([status], rows.get(status, 0))
    yield campaigns
    yield messages


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

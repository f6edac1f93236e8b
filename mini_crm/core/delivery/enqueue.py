"""Enqueueing delivery jobs: one job per range of about `delivery_batch_size` claimable
rows, each recorded in the tracker (so the sweeper does not enqueue a range a waiting
job already covers); and `resume_sending`, the sweeper's delivery half, which hands
abandoned or never-enqueued rows of every sending campaign to new jobs and completes
campaigns with nothing left to send.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from rq import Queue

from mini_crm.core import jobs
from mini_crm.core.delivery import claims, tracker
from mini_crm.core.delivery.claims import CAMPAIGN, LOG
from mini_crm.core.delivery.job import deliver_batch
from mini_crm.core.redis_conn import get_redis
from mini_crm.db import get_engine
from mini_crm.models import CampaignStatus, utcnow
from mini_crm.settings import get_settings

ENQUEUE_CHUNK = 500  # jobs per Redis pipeline


def enqueue_ranges(campaign_id: int, ranges: list[tuple[int, int]]) -> int:
    """One job per range: with Redis in pipelines of ENQUEUE_CHUNK (a 100k campaign's
    200 jobs are one round trip, not 200), else on the in-process executor."""
    client = get_redis()
    if client is None:
        for first, last in ranges:
            handle = jobs.enqueue(deliver_batch, campaign_id, first, last, queue="default")
            tracker.remember(campaign_id, handle, first, last)
        return len(ranges)
    queue = Queue(jobs.queue_name("default"), connection=client)
    meta = jobs.job_meta()
    for i in range(0, len(ranges), ENQUEUE_CHUNK):
        part = ranges[i:i + ENQUEUE_CHUNK]
        queued = queue.enqueue_many([
            Queue.prepare_data(deliver_batch, args=(campaign_id, first, last),
                               failure_ttl=7 * 24 * 3600, meta=meta) for first, last in part])
        tracker.remember_many(campaign_id, [(job.id, first, last) for job, (first, last)
                                            in zip(queued, part, strict=True)])
    return len(ranges)


def enqueue_campaign(campaign_id: int) -> int:
    """Enqueue jobs for every claimable row of a sending campaign not covered by a live job."""
    settings = get_settings()
    timeout = settings.delivery_claim_timeout_seconds
    now = utcnow()
    with get_engine().connect() as conn:
        status = conn.execute(sa.select(CAMPAIGN.c.status)
                              .where(CAMPAIGN.c.id == campaign_id)).scalar_one_or_none()
        if status != CampaignStatus.SENDING:
            return 0
        conditions = claims.claimable(campaign_id, now - timedelta(seconds=timeout))
        covered = tracker.live_ranges(campaign_id, fresh_seconds=timeout)
        if covered:
            conditions.append(~sa.or_(*[LOG.c.id.between(a, b) for a, b in covered]))
        ranges = claims.batch_ranges(conn, conditions, settings.delivery_batch_size)
    return enqueue_ranges(campaign_id, ranges)


def resume_sending(now: datetime | None = None) -> int:
    """Enqueue abandoned or orphaned rows of every sending campaign; completes finished
    ones. Returns the number of jobs enqueued."""
    now = now or utcnow()
    engine = get_engine()
    with engine.connect() as conn:
        sending = list(conn.execute(sa.select(CAMPAIGN.c.id)
                                    .where(CAMPAIGN.c.status == CampaignStatus.SENDING))
                       .scalars())
    enqueued = 0
    for campaign_id in sending:
        with engine.begin() as conn:
            if claims.complete_if_done(conn, campaign_id, now):
                continue
        enqueued += enqueue_campaign(campaign_id)
    return enqueued

"""The campaign sweeper: periodic tasks that keep campaigns moving from what the database
says, not from what the queue remembers, so they are safe in several processes at once:
- every `schedule_check_seconds` (2 s): starts scheduled campaigns that are due, so one
  starts at most that late (launch's guarded UPDATE lets one process win);
- every `delivery_sweep_seconds` (15 s), for each sending campaign, enqueues jobs for
  rows that are queued and either unclaimed and not covered by a waiting job, or
  claimed longer ago than `delivery_claim_timeout_seconds` (the worker died):
  delivery resumes within one timeout plus one sweep (about 75 s by default);
- completes sending campaigns with no queued rows left.
The delivery half (`resume_sending`) lives in `mini_crm.core.delivery.enqueue`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from mini_crm.core.campaigns import service
from mini_crm.core.delivery import enqueue
from mini_crm.db import session_scope
from mini_crm.models import Campaign, CampaignStatus, utcnow

log = logging.getLogger(__name__)


def start_due(now: datetime | None = None) -> list[int]:
    """Launch every scheduled campaign whose time has come; returns those launched here."""
    now = now or utcnow()
    started: list[int] = []
    with session_scope() as db:
        due = service.due_scheduled(db, now)
    for campaign_id in due:
        with session_scope() as db:
            campaign = db.get(Campaign, campaign_id)
            if campaign is None or campaign.status != CampaignStatus.SCHEDULED:
                continue
            if service.launch_campaign(db, campaign, now=now) >= 0:
                started.append(campaign_id)
    return started


def start_scheduled() -> None:
    started = start_due()
    if started:
        log.info("started scheduled campaigns %s", started)


def sweep() -> None:
    start_scheduled()
    resumed = enqueue.resume_sending()
    if resumed:
        log.info("delivery sweeper enqueued %d batches", resumed)


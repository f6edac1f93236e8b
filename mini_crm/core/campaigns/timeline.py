"""A campaign's timeline: counts per time slice over its run, for the campaign page's chart.

Its own module beside the read model (reports.py), over the same log: one scan of the
campaign's rows, whatever the size.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.core.delivery import log_status
from mini_crm.models import Campaign, CommunicationLog, DeliveryStatus, utcnow

CAMPAIGN = Campaign.__table__
LOG = CommunicationLog.__table__


# Slice widths a reader can count in (seconds): 1 s, 5 s, 1 min, 15 min, 1 h, 1 day…
NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
              43200, 86400, 172800, 604800)


def nice_step(span: timedelta, buckets: int) -> timedelta:
    """The smallest round slice width (NICE_STEPS) that covers `span` in at most
    `buckets` slices: 1.5 s in 30 -> 1 s (2 slices), 90 s -> 5 s, 3 h -> 10 min; a span
    longer than 30 weeks gets whole weeks."""
    seconds = span.total_seconds()
    for step in NICE_STEPS:
        if seconds / step <= buckets:
            return timedelta(seconds=step)
    weeks = -(-seconds // (604800 * buckets))
    return timedelta(weeks=weeks)


def timeline(db: Session, campaign_id: int, buckets: int = 30, *,
             round_steps: bool = False) -> list[dict[str, Any]]:
    """Counts per time bucket from the campaign's start to its end (or now), in one scan.

    `buckets` equal slices; with `round_steps`, at most `buckets` slices of a round
    width (nice_step: 1 s, 5 s, 1 min, 10 min…) so a chart's axis reads whole units
    (a run of 1.5 s was 30 slices labelled +0.1s, +0.2s…). Each point's "at" is its
    slice's start (naive UTC).

    sent counts sent_at, delivered/undelivered their receipt time (delivered_at),
    failed and cancelled (failed rows a cancel stopped, apart) their last update.
    Buckets are equal slices; SUM(CASE ...) per slice keeps it one portable query
    whatever the database's date arithmetic.
    """
    campaign = db.execute(sa.select(CAMPAIGN.c.started_at, CAMPAIGN.c.completed_at)
                          .where(CAMPAIGN.c.id == campaign_id)).first()
    if campaign is None or campaign.started_at is None:
        return []
    start = campaign.started_at
    last = db.execute(sa.select(sa.func.max(LOG.c.delivered_at), sa.func.max(LOG.c.updated_at))
                      .where(LOG.c.campaign_id == campaign_id)).one()
    end = max([t for t in (campaign.completed_at, *last) if t is not None] or [utcnow()])
    end = max(end, start + timedelta(seconds=1))
    buckets = max(1, min(buckets, 120))
    if round_steps:
        step = nice_step(end - start, buckets)
        buckets = max(1, -(-(end - start) // step))
    else:
        step = (end - start) / buckets
    edges = [start + step * i for i in range(buckets)] + [end + timedelta(microseconds=1)]
    stopped = log_status.is_cancelled(LOG.c)
    series: dict[str, tuple[Any, Any]] = {
        "sent": (LOG.c.sent_at, None),
        "failed": (LOG.c.updated_at, log_status.bucket(LOG.c) == DeliveryStatus.FAILED),
        "delivered": (LOG.c.delivered_at, LOG.c.status == DeliveryStatus.DELIVERED),
        "undelivered": (LOG.c.delivered_at, LOG.c.status == DeliveryStatus.UNDELIVERED),
        "cancelled": (LOG.c.updated_at, stopped),
    }
    sums = []
    for _name, (col, where) in series.items():
        for i in range(buckets):
            cond = [col >= edges[i], col < edges[i + 1]]
            if where is not None:
                cond.append(where)
            sums.append(sa.func.sum(sa.case((sa.and_(*cond), 1), else_=0)))
    row = db.execute(sa.select(*sums).where(LOG.c.campaign_id == campaign_id)).one()
    out = []
    for i in range(buckets):
        point: dict[str, Any] = {"at": edges[i]}
        for k, name in enumerate(series):
            point[name] = int(row[k * buckets + i] or 0)
        out.append(point)
    return out

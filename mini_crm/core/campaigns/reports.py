"""The read side: campaign history with counters, one campaign, its log, CSV (the
timeline chart's counts: core/campaigns/timeline.py).

Counters come from communication_log with ONE grouped query per page of campaigns
(`campaign_id, status, count(*)` over the (campaign_id, status) index), never one
query per campaign. Meaning of the counters:
- queued: not yet handed to the vendor (the API calls it `pending`); waiting: A/B rows
  outside the test share, held until the winner is known (core/campaigns/ab_test.py);
  unsent = queued + waiting;
- sent: handed to the vendor and accepted, whatever its receipt later said
  (status sent, delivered or undelivered) — the funnel's second step;
- failed: never reached the vendor or refused by it (includes "cancelled", as the API's
  `failed` always has); cancelled: the failed rows a cancel stopped before they left
  (error "cancelled"), its own count; failed_sending = failed - cancelled, the real
  failures every page shows (a cancel is not a failure of the campaign);
- delivered / undelivered: the vendor's receipts;
- skipped: left out at launch, per reason (reach.SKIP_REASONS), never sent and never
  counted as failed; recipients: the rows to message (queued + waiting + sent + failed);
- audience_size: every customer the rules matched at launch (recipients + skipped);
- delivery_rate: delivered / sent — messages the vendor accepted, never the matching
  audience (skipped customers and cancelled rows do not lower it) — None before any
  message was sent. (Insights' "final delivery rate", delivered / (delivered +
  undelivered + failed), is a different figure with its own name: core/ai/insights.py.)
The same words are documented for API users in docs/api.md ("Campaign figures").
Per-variant and per-group figures (ab_test.variant_figures, the insights' groups, the
timeline) count with core/delivery/log_status: there `failed` are the real failures
(this model's failed_sending) and `cancelled` is apart; only this model's top-level
`failed` keeps the cancelled rows inside, for existing API clients.
`campaign_detail` is the one assembler of a campaign's detail, for every door.
Outcomes (conversions, revenue, revenue per message, holdout, uplift) come from the
outcome read model, core/outcomes/reports.py, with one more grouped query per page.
Log rows carry `skip_detail` beside `skip_reason` (reach.log_skip_detail: why a row is
no_address). The list, the detail and the log are one read model over the same
counters: splitting the log out would split CSV_COLUMNS from the page's columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mini_crm.core.campaigns import ab_test, reach
from mini_crm.core.campaigns.ab_test import DEFAULT_TEST
from mini_crm.core.campaigns.reach import empty_skips
from mini_crm.core.delivery import log_status
from mini_crm.core.formatting import brand_time
from mini_crm.core.outcomes.reports import Outcome, order_ids_by_log, outcomes
from mini_crm.core.segments.compiler import LIKE_ESCAPE, like_pattern
from mini_crm.core.segments.describe import describe
from mini_crm.core.segments.service import get_segment
from mini_crm.models import (
    Campaign,
    CampaignStatus,
    CommunicationLog,
    Customer,
    DeliveryStatus,
    User,
)

CAMPAIGN = Campaign.__table__
LOG = CommunicationLog.__table__
CUSTOMER = Customer.__table__
USER = User.__table__
CSV_CHUNK = 2000
CSV_COLUMNS = ("log_id", "customer_external_id", "customer_name", "status", "skip_reason",
               "error", "vendor_message_id", "attempts", "sent_at", "delivered_at", "message",
               "variant", "holdout", "converted", "order_ids", "skip_detail")


@dataclass
class CampaignStats:
    id: int
    name: str
    status: str
    channel: str
    tags: list[str]
    created_by_email: str | None
    created_at: datetime
    scheduled_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    audience_size: int
    queued: int = 0
    sent: int = 0
    failed: int = 0
    delivered: int = 0
    undelivered: int = 0
    delivery_rate: float | None = None
    objective: str | None = None
    skipped: dict[str, int] = field(default_factory=empty_skips)
    holdout_percent: int = 0
    waiting: int = 0
    cancelled: int = 0  # failed rows a cancel stopped before they left (part of `failed`)
    # A/B test: the stored variants (keys, messages) and settings; `variants` is filled
    # with per-variant figures (ab_test.variant_figures) for one campaign's detail only.
    variant_specs: list[dict[str, Any]] | None = None
    ab_settings: dict[str, Any] | None = None
    ab_phase: str | None = None
    ab_decide_at: datetime | None = None
    winner: str | None = None
    winner_detail: dict[str, Any] | None = None
    variants: list[dict[str, Any]] = field(default_factory=list)
    live_decision: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)  # detail only: ab_test.campaign_warnings
    no_address_detail: dict[str, int] = field(default_factory=dict)  # detail only
    outcome: Outcome = field(default_factory=Outcome)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def recipients(self) -> int:
        return self.queued + self.waiting + self.sent + self.failed

    @property
    def failed_sending(self) -> int:
        """Failed rows that are real failures: never reached the vendor or refused by it,
        not stopped by a cancel (= failed - cancelled)."""
        return max(0, self.failed - self.cancelled)

    @property
    def pending(self) -> int:
        """Not yet handed to the vendor (= queued; A/B rows waiting are apart)."""
        return self.queued

    @property
    def unsent(self) -> int:
        """Not sent yet: queued, or waiting for an A/B winner."""
        return self.queued + self.waiting

    def ab_dict(self) -> dict[str, Any] | None:
        """The A/B test for the doors: settings, phase, and the decision or the live
        reading while testing; None for a campaign without variants."""
        if not self.variant_specs:
            return None
        detail = dict(self.winner_detail or {})
        # A cancel ends a running test (service.cancel_campaign stores "ended"; rows
        # cancelled before that kept "testing", so the read says it too).
        phase = (ab_test.ENDED if self.ab_phase == ab_test.TESTING
                 and self.status == CampaignStatus.CANCELLED else self.ab_phase)
        return {**DEFAULT_TEST, **(self.ab_settings or {}), "phase": phase,
                "decide_at": self.ab_decide_at, "waiting": self.waiting,
                "decided_by": detail.get("decided_by"), "decided_at": detail.get("decided_at"),
                "reason": detail.get("reason"), "p_value": detail.get("p_value"),
                "method": detail.get("method"), "rates": detail.get("rates"),
                "rest_variant": detail.get("rest_variant"),
                # False: launched too small for an automatic winner (ab_test.auto_winner);
                # `plan` says what happens then, while the test runs.
                "auto_winner": ab_test.auto_winner(self.ab_settings),
                "plan": (ab_test.by_hand_plan(self.waiting)
                         if phase == ab_test.TESTING
                         and not ab_test.auto_winner(self.ab_settings) else None),
                "live": self.live_decision}

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "status": self.status,
                "channel": self.channel, "tags": list(self.tags),
                "created_by_email": self.created_by_email, "created_at": self.created_at,
                "scheduled_at": self.scheduled_at, "started_at": self.started_at,
                "completed_at": self.completed_at, "audience_size": self.audience_size,
                "pending": self.pending, "sent": self.sent, "failed": self.failed,
                "cancelled": self.cancelled,
                "delivered": self.delivered, "undelivered": self.undelivered,
                "waiting": self.waiting, "is_ab": bool(self.variant_specs),
                "delivery_rate": self.delivery_rate, "objective": self.objective,
                "recipients": self.recipients, "skipped": dict(self.skipped),
                "holdout_percent": self.holdout_percent, **self.outcome.as_dict(),
                "variants": [{**v, "revenue": float(v["revenue"])} for v in self.variants],
                "winner": self.winner, "ab_test": self.ab_dict(),
                "warnings": list(self.warnings),
                "no_address_detail": dict(self.no_address_detail)}


def _columns() -> list[Any]:
    return [CAMPAIGN.c.id, CAMPAIGN.c.name, CAMPAIGN.c.status, CAMPAIGN.c.channel,
            CAMPAIGN.c.tags, USER.c.email.label("created_by_email"), CAMPAIGN.c.created_at,
            CAMPAIGN.c.scheduled_at, CAMPAIGN.c.started_at, CAMPAIGN.c.completed_at,
            CAMPAIGN.c.audience_size, CAMPAIGN.c.objective, CAMPAIGN.c.holdout_percent,
            CAMPAIGN.c.variants, CAMPAIGN.c.ab_test, CAMPAIGN.c.ab_phase,
            CAMPAIGN.c.ab_decide_at, CAMPAIGN.c.winner, CAMPAIGN.c.winner_detail]


def _base() -> sa.Select:
    return sa.select(*_columns()).select_from(
        CAMPAIGN.outerjoin(USER, USER.c.id == CAMPAIGN.c.created_by))


def _apply_counts(stats: list[CampaignStats], counts: dict[tuple[int, str], int]) -> None:
    for s in stats:
        def n(status: str, cid: int = s.id) -> int:
            return counts.get((cid, status), 0)
        s.queued = n(DeliveryStatus.QUEUED)
        s.waiting = n(DeliveryStatus.WAITING)
        s.delivered = n(DeliveryStatus.DELIVERED)
        s.undelivered = n(DeliveryStatus.UNDELIVERED)
        s.failed = n(DeliveryStatus.FAILED)
        s.sent = n(DeliveryStatus.SENT) + s.delivered + s.undelivered
        s.delivery_rate = round(s.delivered / s.sent, 4) if s.sent else None


def _stats(db: Session, rows: list[sa.Row]) -> list[CampaignStats]:
    stats = [CampaignStats(id=r.id, name=r.name, status=r.status, channel=r.channel,
                           tags=list(r.tags or []), created_by_email=r.created_by_email,
                           created_at=r.created_at, scheduled_at=r.scheduled_at,
                           started_at=r.started_at, completed_at=r.completed_at,
                           audience_size=r.audience_size, objective=r.objective,
                           holdout_percent=r.holdout_percent, variant_specs=r.variants,
                           ab_settings=r.ab_test, ab_phase=r.ab_phase,
                           ab_decide_at=r.ab_decide_at, winner=r.winner,
                           winner_detail=r.winner_detail)
             for r in rows]
    if stats:
        grouped = db.execute(
            sa.select(LOG.c.campaign_id, LOG.c.status, sa.func.count())
            .where(LOG.c.campaign_id.in_([s.id for s in stats]))
            .group_by(LOG.c.campaign_id, LOG.c.status)).all()
        counts = {(int(c), st): int(k) for c, st, k in grouped}
        _apply_counts(stats, counts)
        by_id = {s.id: s for s in stats}
        for cid, outcome in outcomes(db, counts, by_id).items():
            by_id[cid].outcome = outcome
        # Its own query: only the (usually few) skipped rows are read for their reason,
        # found through the (campaign_id, status) index.
        for cid, reason, k in db.execute(
                sa.select(LOG.c.campaign_id, LOG.c.skip_reason, sa.func.count())
                .where(LOG.c.campaign_id.in_(list(by_id)),
                       LOG.c.status == DeliveryStatus.SKIPPED)
                .group_by(LOG.c.campaign_id, LOG.c.skip_reason)).all():
            by_id[int(cid)].skipped[str(reason)] = int(k)
        # Same: only failed rows are read for their error, to count the cancel's apart.
        for cid, k in db.execute(
                sa.select(LOG.c.campaign_id, sa.func.count())
                .where(LOG.c.campaign_id.in_(list(by_id)),
                       log_status.is_cancelled(LOG.c))
                .group_by(LOG.c.campaign_id)).all():
            by_id[int(cid)].cancelled = int(k)
    return stats


def _filters(search: str, status: str, tag: str) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if search.strip():
        where.append(sa.func.lower(CAMPAIGN.c.name).like(
            like_pattern(search.strip().lower(), prefix=True, suffix=True),
            escape=LIKE_ESCAPE))
    if status:
        where.append(CAMPAIGN.c.status == status)
    if tag.strip():
        # Tags are restricted to word characters, spaces and '-', so their JSON text is
        # exactly '"tag"': a LIKE on the stored JSON finds them on every database.
        needle = '"' + " ".join(tag.split()).lower() + '"'
        where.append(sa.cast(CAMPAIGN.c.tags, sa.Text).like(
            like_pattern(needle, prefix=True, suffix=True), escape=LIKE_ESCAPE))
    return where


def list_campaigns(db: Session, *, search: str = "", status: str = "", tag: str = "",
                   limit: int = 20, offset: int = 0) -> tuple[list[CampaignStats], int]:
    """A page of campaigns, newest first, with their counters; and the filtered total."""
    if status and status not in CampaignStatus.ALL:
        return [], 0
    where = _filters(search, status, tag)
    total = int(db.execute(sa.select(sa.func.count()).select_from(CAMPAIGN)
                           .where(*where)).scalar_one())
    rows = db.execute(_base().where(*where)
                      .order_by(CAMPAIGN.c.created_at.desc(), CAMPAIGN.c.id.desc())
                      .limit(max(1, min(limit, 500))).offset(max(0, offset))).all()
    return _stats(db, list(rows)), total


def get_campaign(db: Session, campaign_id: int) -> CampaignStats | None:
    """One campaign with its counters, outcome and, for an A/B test, each variant's
    figures and (while testing) what the winner rule says now."""
    rows = db.execute(_base().where(CAMPAIGN.c.id == campaign_id)).all()
    stats = _stats(db, list(rows))
    if not stats:
        return None
    one = stats[0]
    if one.variant_specs:
        campaign = db.get(Campaign, campaign_id)
        assert campaign is not None
        one.variants = ab_test.variant_figures(db, campaign)
        if one.ab_phase == ab_test.TESTING and one.variants:
            metric = (one.ab_settings or ab_test.DEFAULT_TEST).get("metric", "conversion")
            one.live_decision = ab_test.evaluate(one.variants, metric).as_dict()
        one.warnings = ab_test.campaign_warnings(db, campaign, one.variants)
    if one.skipped.get(reach.NO_ADDRESS):
        one.no_address_detail = reach.logged_details(db, campaign_id, one.channel)
    else:
        one.no_address_detail = reach.empty_details(one.channel)
    return one


@dataclass
class CampaignDetail:
    """One campaign as every door shows it: its figures (`stats`) and what it says and
    to whom (message, rules, saved segment and the rules in words)."""

    stats: CampaignStats
    message: str
    rules: dict[str, Any]
    segment_id: int | None
    segment_name: str
    sentence: str  # the rules in plain English; "" when a historic snapshot no longer parses
    subject: str | None
    preheader: str | None
    sender_name: str | None

    def as_dict(self) -> dict[str, Any]:
        """The API's campaign detail fields (`stats.as_dict()` plus message and audience)."""
        return {**self.stats.as_dict(), "message": self.message, "rules": self.rules,
                "segment_id": self.segment_id, "subject": self.subject,
                "preheader": self.preheader, "sender_name": self.sender_name}


def campaign_detail(db: Session, campaign_id: int) -> CampaignDetail | None:
    """One campaign's detail (see CampaignDetail); None when there is no such campaign."""
    stats = get_campaign(db, campaign_id)
    campaign = db.get(Campaign, campaign_id)
    if stats is None or campaign is None:
        return None
    try:
        sentence = describe(campaign.rules) if campaign.rules else ""
    except Exception:  # a historic snapshot the current schema rejects still shows
        sentence = ""
    segment = get_segment(db, campaign.segment_id) if campaign.segment_id else None
    return CampaignDetail(
        stats=stats, message=campaign.message_template or "", rules=campaign.rules,
        segment_id=campaign.segment_id, segment_name=segment.name if segment else "",
        sentence=sentence, subject=campaign.email_subject,
        preheader=campaign.email_preheader, sender_name=campaign.sender_name)


def known_tags(db: Session, limit: int = 300) -> list[str]:
    """Tags of the `limit` most recent campaigns, sorted case-insensitively (for filter
    menus). Tags are a JSON list per campaign, which no SQL dialect here can group
    portably, so the last few hundred are read."""
    seen: set[str] = set()
    for tags in db.execute(sa.select(CAMPAIGN.c.tags).order_by(CAMPAIGN.c.id.desc())
                           .limit(limit)).scalars():
        seen.update(t for t in (tags or []) if isinstance(t, str))
    return sorted(seen, key=str.lower)


def campaign_name(db: Session, campaign_id: int) -> str | None:
    """The campaign's name, or None when there is no such campaign."""
    return db.execute(sa.select(CAMPAIGN.c.name)
                      .where(CAMPAIGN.c.id == campaign_id)).scalar_one_or_none()


def log_page(db: Session, campaign_id: int, *, status: str = "", limit: int = 50,
             offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """One page of the log, oldest first, and the total: dicts of id,
    customer_external_id, customer_name, status, skip_reason, skip_detail
    (reach.log_skip_detail), error, sent_at, delivered_at, message."""
    where = [LOG.c.campaign_id == campaign_id]
    if status:
        where.append(LOG.c.status == status)
    total = int(db.execute(sa.select(sa.func.count()).select_from(LOG)
                           .where(*where)).scalar_one())
    channel = db.execute(sa.select(CAMPAIGN.c.channel)
                         .where(CAMPAIGN.c.id == campaign_id)).scalar() or "sms"
    rows = db.execute(
        sa.select(LOG.c.id, CUSTOMER.c.external_id.label("customer_external_id"),
                  CUSTOMER.c.name.label("customer_name"), LOG.c.status, LOG.c.skip_reason,
                  reach.log_skip_detail(channel).label("skip_detail"),
                  LOG.c.error, LOG.c.sent_at, LOG.c.delivered_at, LOG.c.message)
        .join_from(LOG, CUSTOMER, CUSTOMER.c.id == LOG.c.customer_id)
        .where(*where).order_by(LOG.c.id)
        .limit(max(1, min(limit, 500))).offset(max(0, offset))).all()
    return [dict(r._mapping) for r in rows], total


def iter_log_csv(source: Engine | Callable[[], Session], campaign_id: int) -> Iterator[str]:
    """The campaign's log as CSV text, streamed in keyset chunks of CSV_CHUNK rows.

    Each chunk uses its own short connection, so a slow download holds no
    transaction open and memory stays at one chunk.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    after = 0
    channel_query = sa.select(CAMPAIGN.c.channel).where(CAMPAIGN.c.id == campaign_id)
    if isinstance(source, Engine):
        with source.connect() as conn:
            channel = conn.execute(channel_query).scalar() or "sms"
    else:
        with source() as db:
            channel = db.execute(channel_query).scalar() or "sms"
    detail = reach.log_skip_detail(channel)
    while True:
        query = (sa.select(LOG.c.id, CUSTOMER.c.external_id, CUSTOMER.c.name, LOG.c.status,
                           LOG.c.skip_reason, LOG.c.error, LOG.c.vendor_message_id, LOG.c.attempts,
                           LOG.c.sent_at, LOG.c.delivered_at, LOG.c.message, LOG.c.variant,
                           detail)
                 .join_from(LOG, CUSTOMER, CUSTOMER.c.id == LOG.c.customer_id)
                 .where(LOG.c.campaign_id == campaign_id, LOG.c.id > after)
                 .order_by(LOG.c.id).limit(CSV_CHUNK))

        def read(db: Any, query: sa.Select = query) -> tuple[list[sa.Row], dict[int, list[str]]]:
            rows = db.execute(query).all()
            orders = order_ids_by_log(db, campaign_id, rows[0][0], rows[-1][0]) if rows else {}
            return list(rows), orders

        if isinstance(source, Engine):
            with source.connect() as conn:
                rows, orders = read(conn)
        else:
            with source() as db:
                rows, orders = read(db)
        if not rows:
            return
        buffer.seek(0)
        buffer.truncate()
        for r in rows:
            ids = orders.get(r[0], [])
            writer.writerow([_csv_cell(v) for v in r[:-1]]
                            + [str(r.status == DeliveryStatus.HOLDOUT).lower(),
                               str(bool(ids)).lower(), " ".join(ids), _csv_cell(r[-1])])
        yield buffer.getvalue()
        after = rows[-1][0]


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):  # stored UTC, shown in the brand's zone with its offset
        return brand_time(value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # spreadsheet formula injection
    return "" if value is None else value


def customer_messages(db: Session, external_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The campaign messages one customer was sent (or held back from), newest first:
    [{"campaign_id", "campaign", "channel", "status", "at", "error"}]; `at` is when it
    was sent (or created, for one never sent), naive UTC. At most `limit` rows."""
    when = sa.func.coalesce(LOG.c.sent_at, LOG.c.created_at)
    rows = db.execute(
        sa.select(LOG.c.campaign_id, CAMPAIGN.c.name, CAMPAIGN.c.channel, LOG.c.status,
                  LOG.c.error, when.label("at"))
        .join(CAMPAIGN, CAMPAIGN.c.id == LOG.c.campaign_id)
        .join(CUSTOMER, CUSTOMER.c.id == LOG.c.customer_id)
        .where(CUSTOMER.c.external_id == external_id)
        .order_by(when.desc(), LOG.c.id.desc()).limit(max(1, min(limit, 200)))).all()
    return [{"campaign_id": int(r.campaign_id), "campaign": r.name, "channel": r.channel,
             "status": r.status, "at": r.at, "error": r.error} for r in rows]


"""Create, launch, schedule and cancel campaigns.

`create_campaign` validates everything first (name, channel, template tokens,
rules or saved segment, schedule), snapshots the rules onto the campaign (later
edits of the segment do not change a campaign), then either launches at once or
leaves it `scheduled`. Launching is one transaction: the campaign row moves
draft -> sending together with its communication_log rows (launch.fill_log);
the delivery jobs are enqueued only after that commit, so a worker never looks
for rows that are not visible yet. If the process dies between the commit and
the enqueue, the sweeper finds the unclaimed rows and enqueues them.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session

from mini_crm.core import brand_time, text_checks
from mini_crm.core.ai.tags import offline_tags
from mini_crm.core.auth import audit
from mini_crm.core.campaigns import ab_test, figures, launch, reach, split
from mini_crm.core.campaigns.audience import save_audience
from mini_crm.core.campaigns.errors import CampaignError, CampaignNotFound
from mini_crm.core.delivery import claims, enqueue, gate, log_status
from mini_crm.core.messages import email, render
from mini_crm.core.outcomes import holdout
from mini_crm.core.segments import RulesError, parse_audience
from mini_crm.db import session_scope
from mini_crm.models import (
    Campaign,
    CampaignStatus,
    CommunicationLog,
    DeliveryStatus,
    Segment,
    utcnow,
)
from mini_crm.settings import get_settings

CHANNELS = ("sms", "email", "whatsapp")
MAX_TAGS = 10
# Text limits, shared by the checks here and in drafts and by the UI's max_length, so a
# field never accepts what the check then refuses.
MAX_NAME = 200
MAX_OBJECTIVE = 500
MAX_SUBJECT = 300  # email subject and preheader
MAX_SENDER_NAME = 100
MAX_TAG = 40
TAG_PATTERN = re.compile(r"^[\w][\w \-]{0,39}$", re.ASCII)
CAMPAIGN = Campaign.__table__
LOG = CommunicationLog.__table__


def naive_utc(value: datetime) -> datetime:
    """A timestamp as stored: UTC without tzinfo (an aware one is converted).

    Raises CampaignError (field schedule_at) outside brand_time's supported calendar.
    """
    try:
        brand_time.check_supported(value.date(), "the time")
    except brand_time.TimestampError as exc:
        raise CampaignError(str(exc), "schedule_at") from None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def clean_tags(tags: list[str] | None) -> list[str]:
    out: list[str] = []
    for raw in tags or []:
        tag = " ".join(str(raw).split()).lower()
        if not tag:
            continue
        if not TAG_PATTERN.match(tag):
            raise CampaignError(f"tag {raw!r}: use letters, digits, spaces, '-' or '_' "
                                "(at most 40 characters)", "tags")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise CampaignError(f"at most {MAX_TAGS} tags", "tags")
    return out


def one_audience(rules: dict[str, Any] | None, segment_id: int | None) -> None:
    """A request names its audience once: rules, or a saved segment's id. Both used to
    be accepted with the rules silently winning; now CampaignError (field "segment_id",
    the message naming both fields). Drafts may hold both (a segment saved from the
    draft's rules), so this is asked of a request, not of a stored campaign."""
    if rules is not None and segment_id is not None:
        raise CampaignError("give either rules or segment_id, not both: rules would "
                            f"replace saved segment {segment_id}'s rules", "segment_id")


def _resolve_rules(db: Session, rules: dict[str, Any] | None, segment_id: int | None
                   ) -> tuple[dict[str, Any], int | None]:
    if rules is None and segment_id is None:
        raise CampaignError("choose an audience: rules or a saved segment", "rules")
    if segment_id is not None:
        segment = db.get(Segment, segment_id)
        if segment is None:
            raise CampaignError(f"segment {segment_id} does not exist", "segment_id")
        if rules is None:
            rules = segment.rules
    try:
        parse_audience(rules)  # a group without conditions is refused, not "everyone"
    except RulesError as exc:
        raise CampaignError(str(exc), "rules") from exc
    return rules, segment_id


def preview_campaign(db: Session, *, rules: dict[str, Any] | None, segment_id: int | None,
                     channel: str, now: datetime | None = None,
                     holdout_percent: int = 0, variants: int = 0,
                     test_percent: int = 100) -> reach.Reach:
    """Who a launch on `channel` would reach now, without launching: matching, recipients
    and skipped per reason (reach.Reach), from the launch's own statement, counted.
    With `holdout_percent` (0-50, as create_campaign), `Reach.holdout_about` is about how
    many of the recipients the holdout would keep (the launch's own draw depends on the
    campaign's id, so it is an expected count). With `variants` (2-4, an A/B test) and
    its `test_percent`, `Reach.warnings` says when each variant would likely get fewer
    than the 100 people an automatic winner needs (ab_test.small_test_warning).

    Rules or a saved segment as for create_campaign. Raises CampaignError(message, field)
    for an unknown channel or segment, invalid rules or a holdout outside 0-50.
    """
    if channel not in CHANNELS:
        raise CampaignError(f"channel must be one of {', '.join(CHANNELS)}", "channel")
    one_audience(rules, segment_id)
    try:
        holdout_percent = holdout.check_percent(holdout_percent)
    except ValueError as exc:
        raise CampaignError(str(exc), "holdout_percent") from exc
    if variants and not ab_test.MIN_VARIANTS <= variants <= ab_test.MAX_VARIANTS:
        raise CampaignError(f"an A/B test has {ab_test.MIN_VARIANTS} to "
                            f"{ab_test.MAX_VARIANTS} variants", "variants")
    if not 1 <= test_percent <= 100:
        raise CampaignError("the test share is a whole percentage from 1 to 100 (100 sends "
                            "all at once)", "ab_test")
    snapshot, _ = _resolve_rules(db, rules, segment_id)
    now = now or utcnow()
    found = reach.preview_reach(db, snapshot, channel, now)
    found.holdout_percent = holdout_percent
    # Who of them another campaign messaged in the last day: a duplicate launched again
    # messages the same people minutes later (said, never refused).
    found.recent = (reach.recently_messaged(db, snapshot, channel, now)
                    if found.recipients else reach.Recent())
    warning = ab_test.small_test_warning(found.recipients, variants, test_percent,
                                         holdout_percent) if variants else None
    found.warnings = [w for w in (split.holdout_leaves_nobody(found.recipients,
                                                              holdout_percent),
                                  figures.recent_text(found.recent), warning) if w]
    return found


def sample_recipients(db: Session, *, rules: dict[str, Any] | None, segment_id: int | None,
                      channel: str, n: int = 3, now: datetime | None = None
                      ) -> list[dict[str, Any]]:
    """Customers to preview the message on: up to `n` who a launch on `channel` would
    send to now (reach.sample_recipients: never one it would skip). Rules or a saved
    segment as for create_campaign; raises CampaignError(message, field) as
    preview_campaign does."""
    if channel not in CHANNELS:
        raise CampaignError(f"channel must be one of {', '.join(CHANNELS)}", "channel")
    one_audience(rules, segment_id)
    snapshot, _ = _resolve_rules(db, rules, segment_id)
    return reach.sample_recipients(db, snapshot, channel, now or utcnow(), n)


def check_campaign(db: Session, *, name: str, channel: str, message_template: str,
                   objective: str | None, rules: dict[str, Any] | None,
                   segment_id: int | None, email_subject: str | None = None,
                   email_preheader: str | None = None, sender_name: str | None = None,
                   variants: list[dict[str, Any]] | None = None,
                   ab_settings: dict[str, Any] | None = None,
                   ) -> tuple[str, dict[str, Any], int | None]:
    """Everything a campaign needs before it can launch or be scheduled (used for a new
    campaign and for a draft about to launch). Returns the tidied name, the rules
    snapshot and the segment id; raises CampaignError(message, field).
    With `variants` (A/B test, ab_test.check_variants) the message is variant A's."""
    name = " ".join((name or "").split())
    if not name:
        raise CampaignError("a campaign needs a name", "name")
    if len(name) > MAX_NAME:
        raise CampaignError(f"a campaign name is at most {MAX_NAME} characters", "name")
    if problem := text_checks.name_problem(name, "a campaign name"):
        raise CampaignError(problem, "name")
    if channel not in CHANNELS:
        raise CampaignError(f"channel must be one of {', '.join(CHANNELS)}", "channel")
    checked = ab_test.check_variants(variants, channel)
    ab_test.check_settings(ab_settings, checked)
    problems = render.validate_template(message_template or "")
    if problems:
        raise CampaignError("; ".join(problems), "message")
    if objective is not None and len(objective) > 500:
        raise CampaignError("an objective is at most 500 characters", "objective")
    if problem := text_checks.control_problem(objective, "the objective", multiline=True):
        raise CampaignError(problem, "objective")
    for field, problem in email.validate_email_fields(email_subject, email_preheader,
                                                      sender_name):
        raise CampaignError(problem, field)
    if channel != "email":  # refused, as a variant's subject is (ab_test.check_variants),
        # rather than stored and never sent
        for field, label, value in (("email_subject", "a subject line", email_subject),
                                    ("email_preheader", "a preheader", email_preheader),
                                    ("sender_name", "a sender name", sender_name)):
            if (value or "").strip():
                kind = "an SMS" if channel == "sms" else "a WhatsApp"
                raise CampaignError(f"{label} is for email only; leave it out of {kind} "
                                    "campaign or choose the email channel", field)
    snapshot, segment_id = _resolve_rules(db, rules, segment_id)
    return name, snapshot, segment_id


def create_campaign(db: Session, *, name: str, rules: dict[str, Any] | None,
                    segment_id: int | None, message_template: str, channel: str,
                    schedule_at: datetime | None, objective: str | None,
                    created_by: int | None, tags: list[str] | None = None,
                    holdout_percent: int = 0, now: datetime | None = None,
                    email_subject: str | None = None, email_preheader: str | None = None,
                    sender_name: str | None = None,
                    variants: list[dict[str, Any]] | None = None,
                    ab_settings: dict[str, Any] | None = None,
                    save_audience_as: str | None = None) -> Campaign:
    """Validate, save, and launch now (or schedule). Raises CampaignError(message, field);
    `rules` and `segment_id` together are refused (one_audience).

    `save_audience_as` (a segment name) first saves `rules` as a new segment in the same
    transaction and links the campaign to it (see audience.save_audience for its errors,
    field `save_audience_as`); the caller rolls back on any error, so a refused campaign
    leaves no segment behind.

    `variants` ([{"message", "subject"?}], 2-4) replaces `message_template` (pass "" or
    None for it: giving both is refused) and makes the campaign an A/B test with
    `ab_settings` ({"test_percent", "test_hours", "metric"}; see ab_test.py).

    holdout_percent (0-50) keeps that share of the eligible audience as a control group:
    logged with status `holdout`, never sent, measured like the recipients.
    `email_subject` / `email_preheader` (templates) and `sender_name` apply to email.
    """
    now = now or utcnow()
    one_audience(rules, segment_id)
    if save_audience_as is not None:
        segment_id = save_audience(db, name=save_audience_as, rules=rules,
                                   segment_id=segment_id, created_by=created_by)
        rules = None  # the new segment's rules are the snapshot, as for any segment
    checked = ab_test.check_variants(variants, channel)
    if checked:
        if message_template:
            raise CampaignError("give either a message or variants, not both", "message")
        message_template = checked[0]["message"]
    ab_settings = ab_test.check_settings(ab_settings, checked)
    name, snapshot, segment_id = check_campaign(
        db, name=name, channel=channel, message_template=message_template,
        objective=objective, rules=rules, segment_id=segment_id,
        email_subject=email_subject, email_preheader=email_preheader,
        sender_name=sender_name)
    try:
        holdout_percent = holdout.check_percent(holdout_percent)
    except ValueError as exc:
        raise CampaignError(str(exc), "holdout_percent") from exc
    if tags is None:  # auto-tag by intent; the offline classifier needs no network
        tags = offline_tags(name=name, message=message_template, objective=objective or "")
    scheduled = naive_utc(schedule_at) if schedule_at is not None else None
    campaign = Campaign(name=name, rules=snapshot, segment_id=segment_id, channel=channel,
                        message_template=message_template, objective=objective or None,
                        tags=clean_tags(tags), created_by=created_by,
                        holdout_percent=holdout_percent, status=CampaignStatus.DRAFT,
                        email_subject=email_subject or None,
                        email_preheader=email_preheader or None,
                        sender_name=(sender_name or "").strip() or None, created_at=now,
                        variants=checked, ab_test=ab_settings)
    db.add(campaign)
    db.flush()
    if scheduled is not None and scheduled > now:
        campaign.status = CampaignStatus.SCHEDULED
        campaign.scheduled_at = scheduled
        db.add(campaign)
        db.flush()
        audit.record(db, audit.CAMPAIGN_SCHEDULED, actor_user_id=created_by,
                     target=f"campaign:{campaign.id}",
                     details={"name": name, "scheduled_at": scheduled.isoformat()})
        return campaign
    launch_campaign(db, campaign, now=now, actor_user_id=created_by, refuse_all_held=True)
    return campaign


def launch_campaign(db: Session, campaign: Campaign, *, now: datetime | None = None,
                    actor_user_id: int | None = None, refuse_all_held: bool = False) -> int:
    """draft/scheduled -> sending with its log rows, in the caller's transaction.

    The status change is a guarded UPDATE, so of two sweepers launching the same
    scheduled campaign only one gets past it (the other's UPDATE matches nothing).
    Every matching customer gets a log row; those left out (reach.py) are `skipped`.
    audience_size records how many matched. Returns the number of recipients (rows to
    send), or -1 when someone else launched it first.

    With `refuse_all_held` (a person's launch, not the sweeper's), a holdout that keeps
    back every eligible customer raises CampaignError (field holdout_percent) and the
    caller rolls back: nobody would receive it (split.holdout_leaves_nobody). The
    sweeper's launch of a scheduled campaign goes ahead: there is no one to ask.
    """
    now = now or utcnow()
    won = db.execute(CAMPAIGN.update()
                     .where(CAMPAIGN.c.id == campaign.id,
                            CAMPAIGN.c.status.in_([CampaignStatus.DRAFT,
                                                   CampaignStatus.SCHEDULED]))
                     .values(status=CampaignStatus.SENDING, started_at=now)).rowcount
    if won != 1:
        return -1
    gate.reset(campaign.id)
    ab = campaign.ab_test or ab_test.DEFAULT_TEST
    n_variants = len(campaign.variants or ())
    size, recipients = launch.fill_log(db, campaign.id, campaign.rules, now,
                                       campaign.channel, campaign.holdout_percent,
                                       n_variants, int(ab["test_percent"]))
    if refuse_all_held and recipients == 0 and campaign.holdout_percent:
        held = db.execute(sa.select(sa.func.count()).where(
            LOG.c.campaign_id == campaign.id,
            LOG.c.status == DeliveryStatus.HOLDOUT)).scalar_one()
        if problem := split.holdout_leaves_nobody(held, campaign.holdout_percent):
            raise CampaignError(problem, "holdout_percent")
    values: dict[str, Any] = {"audience_size": size}
    if n_variants:
        values.update(ab_phase=ab_test.TESTING, ab_decide_at=ab_test.decide_at(now, ab))
        # The test as dealt (not as previewed): too small for the winner rule, it is
        # launched "by hand", so nothing later promises an automatic decision.
        per_variant = [int(n) for n in db.execute(
            sa.select(sa.func.count()).where(LOG.c.campaign_id == campaign.id,
                                             LOG.c.status == DeliveryStatus.QUEUED,
                                             LOG.c.variant.is_not(None))
            .group_by(LOG.c.variant)).scalars()]
        if ab_test.by_hand_at_launch(per_variant, n_variants):
            values["ab_test"] = {**ab, "auto_winner": False}
    if recipients == 0:
        values.update(status=CampaignStatus.COMPLETED, completed_at=now)
    db.execute(CAMPAIGN.update().where(CAMPAIGN.c.id == campaign.id).values(**values))
    db.refresh(campaign)
    audit.record(db, audit.CAMPAIGN_LAUNCHED, actor_user_id=actor_user_id,
                 target=f"campaign:{campaign.id}",
                 details={"name": campaign.name, "audience_size": size,
                          "recipients": recipients, "channel": campaign.channel,
                          "holdout_percent": campaign.holdout_percent,
                          "variants": n_variants})
    if recipients:
        enqueue_after_commit(db, campaign.id, size)
    return recipients


def enqueue_after_commit(db: Session, campaign_id: int, size: int = 0) -> None:
    """Enqueue the delivery jobs once this transaction is committed (never before)."""

    def after_commit(session: Any) -> None:
        launch.refresh_statistics(session.get_bind(), size)
        enqueue.enqueue_campaign(campaign_id)

    event.listen(db, "after_commit", after_commit, once=True)


@dataclass
class CancelResult:
    """A cancel's answer. `in_flight`: messages in vendor requests that had started
    before the cancel (the vendor may still accept them: they end sent or failed by its
    answer), None when the gate could not say; then `in_flight_note` says why
    ("unknown: Redis unreachable"; None whenever `in_flight` is a count). `settling`:
    rows still with workers when the answer was written (in flight, or about to be
    marked cancelled by their job); 0 means `counts` are final. `counts`: rows per
    core/delivery/log_status bucket ("cancelled" apart from "failed")."""

    cancelled: bool
    status: str
    in_flight: int | None = None
    in_flight_note: str | None = None
    settling: int = 0
    counts: dict[str, int] = dataclass_field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.settling == 0


def cancel_campaign(db: Session, campaign_id: int, actor_user_id: int | None = None
                    ) -> CancelResult | None:
    """Stop a scheduled or sending campaign, in the caller's transaction.

    A draft is not cancellable: it has sent nothing and is deleted instead (a cancel
    used to turn it into a nameless cancelled campaign that could never be deleted).

    1. The campaign becomes `cancelled` (a guarded UPDATE: workers claim no more rows).
    2. The cancel gate shuts (gate.stop): from now on no vendor request for it starts;
       the requests already started are returned, "in flight".
    3. Queued rows no worker holds (never claimed, or claimed so long ago the worker is
       gone) and that are not in a request in flight fail with error "cancelled".
       Rows a live worker holds are left to it: it marks them by the vendor's answer, or
       "cancelled" when the gate refuses its next request.
    Returns None when the campaign is not in a cancellable status, including a
    `sending` campaign with nothing left to send (every row sent or failed, none queued
    or waiting for an A/B winner): it is finished, so it is marked completed here
    rather than cancelled with nothing stopped (a cancel used to answer "cancelled" with
    0 rows cancelled for a campaign whose every message had gone out).
    """
    now = utcnow()
    claims.complete_if_done(db.connection(), campaign_id, now)
    changed = db.execute(CAMPAIGN.update()
                         .where(CAMPAIGN.c.id == campaign_id,
                                CAMPAIGN.c.status.in_([CampaignStatus.SCHEDULED,
                                                       CampaignStatus.SENDING]))
                         .values(status=CampaignStatus.CANCELLED, completed_at=now)).rowcount
    if changed != 1:
        return None
    db.execute(CAMPAIGN.update().where(CAMPAIGN.c.id == campaign_id,
                                       CAMPAIGN.c.ab_phase == ab_test.TESTING)
               .values(ab_phase=ab_test.ENDED))
    stopped = gate.stop(campaign_id)
    stale = now - timedelta(seconds=get_settings().delivery_claim_timeout_seconds)
    held = [LOG.c.id.between(r.first_id, r.last_id) for r in stopped.in_flight]
    db.execute(LOG.update().where(
        LOG.c.campaign_id == campaign_id, LOG.c.status == DeliveryStatus.QUEUED,
        sa.or_(LOG.c.claimed_at.is_(None), LOG.c.claimed_at < stale),
        *([~sa.or_(*held)] if held else []))
        .values(status=DeliveryStatus.FAILED, error=claims.CANCELLED_ERROR,
                updated_at=now))
    # Rows waiting for an A/B winner were never with a worker.
    db.execute(LOG.update().where(LOG.c.campaign_id == campaign_id,
                                  LOG.c.status == DeliveryStatus.WAITING)
               .values(status=DeliveryStatus.FAILED, error=claims.CANCELLED_ERROR,
                       updated_at=now))
    audit.record(db, audit.CAMPAIGN_CANCELLED, actor_user_id=actor_user_id,
                 target=f"campaign:{campaign_id}",
                 details={"in_flight": stopped.messages if stopped.unknown is None
                          else stopped.unknown})
    db.expire_all()
    return CancelResult(cancelled=True, status=CampaignStatus.CANCELLED,
                        in_flight=stopped.messages, in_flight_note=stopped.unknown)


def _log_counts(db: Session, campaign_id: int) -> dict[str, int]:
    """The campaign's rows per log_status bucket: a status, or "cancelled" for the rows
    the cancel stopped (so "failed" holds only real failures)."""
    status = log_status.bucket(LOG.c)
    return {str(st): int(n) for st, n in db.execute(
        sa.select(status, sa.func.count()).where(LOG.c.campaign_id == campaign_id)
        .group_by(status)).all()}


def cancel(campaign_id: int, actor_user_id: int | None = None,
           settle_seconds: float | None = None) -> CancelResult:
    """The cancel use case (API, UI): cancel_campaign committed, then up to
    `settle_seconds` (CANCEL_SETTLE_SECONDS) for the workers' rows to settle, so the
    answer carries final counts when it can and says how many are still settling when
    not. Raises CampaignNotFound; `cancelled` is False (with the campaign's status) when
    it had already finished."""
    with session_scope() as db:
        current = db.execute(sa.select(CAMPAIGN.c.status)
                             .where(CAMPAIGN.c.id == campaign_id)).scalar_one_or_none()
        if current is None:
            raise CampaignNotFound(f"campaign {campaign_id} does not exist")
        result = cancel_campaign(db, campaign_id, actor_user_id)
        if result is None:  # its status now: a finished sending campaign is completed
            current = db.execute(sa.select(CAMPAIGN.c.status)
                                 .where(CAMPAIGN.c.id == campaign_id)).scalar_one()
    if result is None:
        return CancelResult(cancelled=False, status=str(current))
    wait = get_settings().cancel_settle_seconds if settle_seconds is None else settle_seconds
    deadline = time.monotonic() + wait
    while True:
        with session_scope() as db:
            result.counts = _log_counts(db, campaign_id)
        result.settling = result.counts.get(DeliveryStatus.QUEUED, 0)
        if result.final or time.monotonic() >= deadline:
            return result
        time.sleep(0.1)


def due_scheduled(db: Session, now: datetime, limit: int = 50) -> list[int]:
    return [int(i) for i in db.execute(
        sa.select(CAMPAIGN.c.id).where(CAMPAIGN.c.status == CampaignStatus.SCHEDULED,
                                       CAMPAIGN.c.scheduled_at <= now)
        .order_by(CAMPAIGN.c.scheduled_at).limit(limit)).scalars()]

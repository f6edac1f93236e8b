"""Reachability: who of a campaign's matching audience gets the message, and why not.

`reach_select` is THE statement: one row per matching customer with `skip_reason`
NULL (a recipient) or why the launch leaves them out. The launch inserts it into
communication_log (launch.py: skipped rows are kept, status `skipped`, never sent);
the preview (`preview_reach`: the wizard's review step and POST
/api/v1/campaigns/preview) counts the very same statement instead of running it, so
the numbers a marketer reviews are the numbers the launch produces.

Reasons, first match wins (SKIP_REASONS is that order):
- unsubscribed: the customer opted out of the campaign's channel;
- no_address: no phone (sms, whatsapp) or email (email) to send to, or for sms a
  phone that cannot take an SMS (a landline or service number: customer.phone_type,
  set by every ingest path with the phone; WhatsApp can reach landlines);
- suppressed: the customer's address for the channel is on the suppression list
  (compared by key, suppression.customer_key: the E.164 phone, or the email's inbox
  key stored beside it, so the comparison is a plain equality that the list's unique
  index answers, and Gmail's spellings of one inbox are one address);
- duplicate_address: another recipient of this campaign has the same address; the
  lowest customer id among the otherwise reachable ones keeps it, so one person gets
  one message however many records they have;
- frequency_cap: `frequency_cap_messages` or more messages from other campaigns
  created in the last `frequency_cap_days` days. A message counts when its row was or
  is about to be sent (queued, sent, delivered, undelivered); failed, skipped and
  held-out rows never reached the customer. A cap of 0 turns the cap off. Applied
  after the dedupe: if the record that keeps an address is at the cap, nobody at that
  address gets the message (the cap protects the person, whichever record).

All of it is set-based SQL (a window function for the dedupe, left joins for the
suppression list and the cap): nothing about the audience passes through Python.

Recently messaged (`recently_messaged`): how many of the recipients got a message from
another campaign in the last RECENT_HOURS, and from which: a duplicated campaign
launched again, or two campaigns on one audience, message the same people minutes
apart with only the frequency cap (3 in 7 days by default) to stop it. Counted from the
log (rows the cap counts), joined to the recipients of the same statement; said before
launch, never a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.core import contacts, suppression
from mini_crm.core.campaigns import split
from mini_crm.core.segments import matching_customer_ids, parse_rules
from mini_crm.core.segments.service import SAMPLE_COLUMNS
from mini_crm.models import (
    Campaign,
    CommunicationLog,
    Customer,
    DeliveryStatus,
    Suppression,
    consent_column,
)
from mini_crm.settings import get_settings

LOG = CommunicationLog.__table__
CAMPAIGN = Campaign.__table__
CUSTOMER = Customer.__table__
SUPPRESSION = Suppression.__table__

UNSUBSCRIBED = "unsubscribed"
NO_ADDRESS = "no_address"
SUPPRESSED = "suppressed"
DUPLICATE_ADDRESS = "duplicate_address"
FREQUENCY_CAP = "frequency_cap"
SKIP_REASONS = (UNSUBSCRIBED, SUPPRESSED, NO_ADDRESS, DUPLICATE_ADDRESS, FREQUENCY_CAP)
# Statuses of a row whose message went, or is about to go, to the customer.
COUNTED_BY_CAP = (DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED,
                  DeliveryStatus.UNDELIVERED, DeliveryStatus.WAITING)


def address_column(channel: str) -> sa.ColumnElement[Any]:
    """The customer column a channel sends to: email for email, phone for sms/whatsapp."""
    return CUSTOMER.c.email if channel == "email" else CUSTOMER.c.phone


def no_address(channel: str) -> sa.ColumnElement[bool]:
    """No usable address for the channel: none stored, or (sms) a phone whose line
    type cannot take an SMS (contacts.NOT_FOR_SMS: a landline, a toll-free number).
    WhatsApp is not limited by line type (a business account can live on a landline)."""
    address = address_column(channel)
    missing = sa.or_(address.is_(None), address == "")
    if channel == "sms":
        return sa.or_(missing, CUSTOMER.c.phone_type.in_(contacts.NOT_FOR_SMS))
    return missing


# Why a row is `no_address` (the contract key stays; this is the detail beside it):
# no phone or email at all, or (sms) a phone that cannot take an SMS.
NO_PHONE, NOT_MOBILE, NO_EMAIL = "no_phone", "not_mobile", "no_email"


def no_address_detail(channel: str) -> sa.ColumnElement[Any]:
    """For a `no_address` customer: no_phone / no_email (nothing stored) or not_mobile
    (sms: a landline, toll-free or other number that cannot take an SMS); NULL for a
    customer who has a usable address. Read from the customer's current contact, so a
    customer who has since been given a mobile number reads NULL."""
    address = address_column(channel)
    whens = [(sa.or_(address.is_(None), address == ""),
              sa.literal_column(f"'{NO_EMAIL if channel == 'email' else NO_PHONE}'"))]
    if channel == "sms":
        whens.append((CUSTOMER.c.phone_type.in_(contacts.NOT_FOR_SMS),
                      sa.literal_column(f"'{NOT_MOBILE}'")))
    return sa.case(*whens, else_=sa.null())


def log_skip_detail(channel: str) -> sa.ColumnElement[Any]:
    """`skip_detail` of a communication_log row joined to its customer: the
    no_address_detail of a `no_address` row, NULL for any other row."""
    return sa.case((LOG.c.skip_reason == sa.literal_column(f"'{NO_ADDRESS}'"),
                    no_address_detail(channel)), else_=sa.null())


def logged_details(db: Session, campaign_id: int, channel: str) -> dict[str, int]:
    """A launched campaign's `no_address` rows by why: one grouped query over its
    skipped rows (the (campaign_id, status) index) joined to their customers."""
    labelled = (sa.select(log_skip_detail(channel).label("detail"))
                .join_from(LOG, CUSTOMER, CUSTOMER.c.id == LOG.c.customer_id)
                .where(LOG.c.campaign_id == campaign_id,
                       LOG.c.status == DeliveryStatus.SKIPPED,
                       LOG.c.skip_reason == NO_ADDRESS)).subquery("labelled")
    details = empty_details(channel)
    for why, n in db.execute(sa.select(labelled.c.detail, sa.func.count())
                             .group_by(labelled.c.detail)).all():
        if why is not None:
            details[str(why)] = details.get(str(why), 0) + int(n)
    return details


def empty_details(channel: str) -> dict[str, int]:
    """The no_address breakdown with every key of the channel at 0."""
    if channel == "email":
        return {NO_EMAIL: 0}
    return {NO_PHONE: 0, NOT_MOBILE: 0} if channel == "sms" else {NO_PHONE: 0}


def _suppressed(channel: str) -> sa.Subquery:
    return (sa.select(SUPPRESSION.c.address)
            .where(SUPPRESSION.c.channel == channel)).subquery("suppressed")


def _capped(campaign_id: int, now: datetime) -> sa.Subquery | None:
    settings = get_settings()
    cap = settings.frequency_cap_messages
    if cap <= 0:
        return None
    since = now - timedelta(days=settings.frequency_cap_days)
    return (sa.select(LOG.c.customer_id)
            .where(LOG.c.created_at >= since, LOG.c.status.in_(COUNTED_BY_CAP),
                   LOG.c.campaign_id != campaign_id)
            .group_by(LOG.c.customer_id)
            .having(sa.func.count() >= cap)).subquery("capped")


def reach_select(campaign_id: int, rules: dict[str, Any], channel: str,
                 now: datetime) -> sa.Select:
    """SELECT customer_id, skip_reason for every customer the rules match.

    `campaign_id` is the campaign being launched (its own rows never count towards
    the cap); 0 for a preview. skip_reason is NULL for a recipient.
    """
    # Compared by key (suppression.customer_key): one gmail inbox spelt four ways is one
    # address for the list and for the dedupe; `address_column` is what is sent to.
    address = suppression.customer_key(channel)
    capped = _capped(campaign_id, now)
    suppressed = _suppressed(channel)
    # (address, channel) is unique in the list: the join adds no rows.
    source: sa.FromClause = CUSTOMER.outerjoin(suppressed, suppressed.c.address == address)
    if capped is not None:
        source = source.outerjoin(capped, capped.c.customer_id == CUSTOMER.c.id)
    early = sa.case(
        (consent_column(channel) == sa.false(), sa.literal(UNSUBSCRIBED)),
        (no_address(channel), sa.literal(NO_ADDRESS)),
        (suppressed.c.address.is_not(None), sa.literal(SUPPRESSED)),
        else_=sa.null())
    at_cap = (capped.c.customer_id.is_not(None) if capped is not None
              else sa.false())
    matching = matching_customer_ids(parse_rules(rules), now)
    candidates = (matching.with_only_columns(
        CUSTOMER.c.id.label("customer_id"), early.label("early"),
        address.label("address"), sa.case((at_cap, 1), else_=0).label("at_cap"))
        .select_from(source)).subquery("candidates")
    # Ranked within (reason, address): among the reachable ones (reason NULL), only the
    # first record of an address keeps it.
    rank = sa.func.row_number().over(partition_by=[candidates.c.early, candidates.c.address],
                                     order_by=candidates.c.customer_id)
    ranked = sa.select(candidates, rank.label("rank")).subquery("ranked")
    reason = sa.case(
        (ranked.c.early.is_not(None), ranked.c.early),
        (ranked.c.rank > 1, sa.literal(DUPLICATE_ADDRESS)),
        (ranked.c.at_cap == 1, sa.literal(FREQUENCY_CAP)),
        else_=sa.null())
    return sa.select(ranked.c.customer_id, reason.label("skip_reason"))


RECENT_HOURS = 24
RECENT_NAMED = 3  # campaigns named in the sentence; the rest are counted together


@dataclass
class RecentCampaign:
    """Another campaign that messaged some of the recipients in the last RECENT_HOURS."""

    campaign_id: int
    name: str
    people: int  # of the recipients

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.campaign_id, "name": self.name, "people": self.people}


@dataclass
class Recent:
    """`people`: recipients who got a message from another campaign in the last `hours`
    (each once, however many campaigns); `campaigns`: those campaigns, most people first
    (one person can be in several)."""

    people: int = 0
    hours: int = RECENT_HOURS
    campaigns: list[RecentCampaign] = field(default_factory=list)
    # The frequency cap then (settings): the only other guard, named beside the count.
    cap_messages: int = 0
    cap_days: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"people": self.people, "hours": self.hours,
                "campaigns": [c.as_dict() for c in self.campaigns]}


@dataclass
class Reach:
    """What a launch would do now: `matching` customers, `recipients` who get the
    message, and `skipped` counts per reason (every reason present, 0 when none)."""

    matching: int
    recipients: int
    skipped: dict[str, int] = field(default_factory=dict)
    # With a holdout: about how many of `recipients` it keeps. The draw is a hash of the
    # campaign id and the customer (core/outcomes/holdout), and a campaign not yet created
    # has no id, so a preview can only give the expected count.
    holdout_percent: int = 0
    # Sentences for the marketer before launch (an A/B test too small for an automatic
    # winner: ab_test.small_test_warning); never a refusal.
    warnings: list[str] = field(default_factory=list)
    # `skipped["no_address"]` by why (no_address_detail): {"no_phone", "not_mobile"}
    # for sms, {"no_phone"} for whatsapp, {"no_email"} for email.
    no_address_detail: dict[str, int] = field(default_factory=dict)
    # Recipients another campaign messaged in the last day (recently_messaged).
    recent: Recent = field(default_factory=Recent)

    @property
    def holdout_about(self) -> int:
        """The holdout the launch would draw from these recipients (split.sizes); "about"
        since the audience may change before the launch."""
        return split.sizes(self.recipients, self.holdout_percent).holdout

    def as_dict(self) -> dict[str, Any]:
        return {"matching": self.matching, "recipients": self.recipients,
                "skipped": dict(self.skipped)}


def empty_skips() -> dict[str, int]:
    return dict.fromkeys(SKIP_REASONS, 0)


def preview_reach(db: Session, rules: dict[str, Any], channel: str,
                  now: datetime) -> Reach:
    """Count the launch statement (reach_select) by reason instead of running it.

    One query: GROUP BY skip_reason (and, for no_address, no_address_detail through a
    join on the customer's primary key) over the statement the launch would insert.
    Raises RulesError for rules that do not parse.
    """
    statement = reach_select(0, rules, channel, now).subquery("reach")
    detail = sa.case((statement.c.skip_reason == sa.literal_column(f"'{NO_ADDRESS}'"),
                      no_address_detail(channel)), else_=sa.null())
    # Grouped through a subquery: the CASE is named once, never repeated in GROUP BY.
    labelled = (sa.select(statement.c.skip_reason, detail.label("detail"))
                .join_from(statement, CUSTOMER, CUSTOMER.c.id == statement.c.customer_id)
                ).subquery("labelled")
    rows = db.execute(sa.select(labelled.c.skip_reason, labelled.c.detail, sa.func.count())
                      .group_by(labelled.c.skip_reason, labelled.c.detail)).all()
    skipped = empty_skips()
    details = empty_details(channel)
    recipients = 0
    for reason, why, n in rows:
        if reason is None:
            recipients += int(n)
        else:
            skipped[str(reason)] += int(n)
            if why is not None:
                details[str(why)] = details.get(str(why), 0) + int(n)
    return Reach(matching=recipients + sum(skipped.values()), recipients=recipients,
                 skipped=skipped, no_address_detail=details)


def sample_recipients(db: Session, rules: dict[str, Any], channel: str, now: datetime,
                      n: int = 3) -> list[dict[str, Any]]:
    """Up to `n` (at most 50) customers who would get the message, newest first, as
    dicts of the segment preview's sample columns (id, external_id, name, email, city,
    total_spend, order_count, last_order_at).

    Recipients only: the rows of reach_select with no skip reason, so a message preview
    never shows a customer the launch leaves out (opted out, suppressed, no address for
    the channel, a duplicate address or over the frequency cap). Raises RulesError for
    rules that do not parse.
    """
    statement = reach_select(0, rules, channel, now).subquery("reach")
    rows = db.execute(
        sa.select(*SAMPLE_COLUMNS)
        .join_from(CUSTOMER, statement, statement.c.customer_id == CUSTOMER.c.id)
        .where(statement.c.skip_reason.is_(None))
        .order_by(CUSTOMER.c.id.desc()).limit(max(0, min(n, 50)))).all()
    return [dict(r._mapping) for r in rows]


def recently_messaged(db: Session, rules: dict[str, Any], channel: str, now: datetime,
                      hours: int = RECENT_HOURS, campaign_id: int = 0) -> Recent:
    """Of the customers a launch would message now (reach_select's recipients), how
    many got a message from another campaign (not `campaign_id`) in the last `hours`,
    and from which campaigns.

    One statement: the recipients joined to the log rows the frequency cap counts
    (COUNTED_BY_CAP: sent or about to be) created since then, on any channel (a person
    texted an hour ago is messaged again whichever channel this is). The distinct
    (customer, campaign) pairs are counted per campaign and, in the same round trip,
    the distinct people over all of them: no customer passes through Python. Raises
    RulesError for rules that do not parse.
    """
    statement = reach_select(campaign_id, rules, channel, now).subquery("reach")
    since = now - timedelta(hours=hours)
    hits = (sa.select(LOG.c.customer_id, LOG.c.campaign_id)
            .join_from(statement, LOG, LOG.c.customer_id == statement.c.customer_id)
            .where(statement.c.skip_reason.is_(None), LOG.c.created_at >= since,
                   LOG.c.created_at <= now, LOG.c.status.in_(COUNTED_BY_CAP),
                   LOG.c.campaign_id != campaign_id)
            .distinct()).cte("hits")
    per_campaign = sa.select(hits.c.campaign_id, sa.func.count().label("people")) \
        .group_by(hits.c.campaign_id)
    # campaign_id NULL marks the total row (a log row always has a campaign).
    total = sa.select(sa.null().label("campaign_id"),
                      sa.func.count(sa.distinct(hits.c.customer_id)).label("people"))
    rows = db.execute(sa.union_all(per_campaign, total)).all()
    people = next((int(n) for cid, n in rows if cid is None), 0)
    counts = sorted(((int(cid), int(n)) for cid, n in rows if cid is not None and n),
                    key=lambda pair: (-pair[1], pair[0]))
    names = dict(db.execute(sa.select(CAMPAIGN.c.id, CAMPAIGN.c.name)
                            .where(CAMPAIGN.c.id.in_([cid for cid, _ in counts]))).all()
                 ) if counts else {}
    settings = get_settings()
    return Recent(people=people, hours=hours,
                  campaigns=[RecentCampaign(cid, str(names.get(cid) or ""), n)
                             for cid, n in counts],
                  cap_messages=settings.frequency_cap_messages,
                  cap_days=settings.frequency_cap_days)

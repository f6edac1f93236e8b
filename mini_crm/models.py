"""SQLModel tables: the whole data model of DESIGN.md.

Conventions, chosen so one schema means the same on SQLite, PostgreSQL and MariaDB:
- timestamps are naive UTC (`utcnow()`); DATETIME(6) on MySQL keeps microseconds;
- money is NUMERIC(14, 2), never float;
- strings that are indexed have explicit lengths (MySQL needs them);
- JSON columns use the portable `sa.JSON`.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlmodel import Field, SQLModel

from mini_crm.core.contacts import inbox_key
from mini_crm.core.text_checks import name_key_text

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
MONEY = sa.Numeric(14, 2)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _ts(*, nullable: bool = True, index: bool = False, default: bool = False) -> Any:
    return Field(
        default_factory=utcnow if default else lambda: None,
        sa_type=TIMESTAMP,
        nullable=nullable,
        index=index,
    )


def _json(default: Any = None, nullable: bool = True) -> Any:
    return Field(default_factory=lambda: copy.deepcopy(default), sa_type=sa.JSON, nullable=nullable)


class CampaignStatus:
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    ALL = (DRAFT, SCHEDULED, SENDING, COMPLETED, CANCELLED, FAILED)


class DeliveryStatus:
    """communication_log.status; RANK orders them so a status only ever moves forward."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    # A member of the campaign's control group: recorded, measured, never sent.
    HOLDOUT = "holdout"
    # A/B test with a test share: a recipient outside it waits for the winner
    # (core/campaigns/ab_test.py); workers only claim `queued`, so it is never sent before.
    WAITING = "waiting"
    # Left out at launch, with communication_log.skip_reason (core/campaigns/reach.py):
    # never sent, never counted as failed.
    SKIPPED = "skipped"
    RANK = {QUEUED: 0, SENT: 1, FAILED: 2, DELIVERED: 2, UNDELIVERED: 2}
    # Rows whose message reached the vendor: a touch for attribution, a recipient for uplift.
    TOUCHED = (SENT, DELIVERED, UNDELIVERED)


class OrderStatus:
    """Orders in these statuses do not count: not in a customer's spend or order count,
    not in windowed rules, the dashboard or attribution.

    `status` is the brand's own word (lower-cased), so the two meanings that matter are
    recognised as the platforms spell them: cancelled ("canceled" in Magento's and US
    spelling; "voided" for Shopify's voided payment; "failed" for WooCommerce's failed
    payment: no sale was made) and refunded ("returned"). A fresh user's `canceled`
    order was counted as revenue. Migration 0011 recounted stored orders.
    """

    NOT_COUNTED = ("cancelled", "canceled", "voided", "failed", "refunded", "returned")


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    __table_args__ = (
        sa.Index("ix_customer_total_spend", "total_spend"),
        sa.Index("ix_customer_order_count", "order_count"),
        sa.Index("ix_customer_last_order_at", "last_order_at"),
        sa.Index("ix_customer_first_order_at", "first_order_at"),
        sa.Index("ix_customer_created_at", "created_at"),
        sa.Index("ix_customer_city", "city"),
        # the parser's data vocabulary reads customers changed since its last look
        sa.Index("ix_customer_updated_at", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=128, unique=True, index=True)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254, index=True)  # lower-cased
    # The inbox the email delivers to (core/contacts.inbox_key: gmail dots and +tags
    # dropped): what the launch's dedupe and the suppression list compare. Sending uses
    # `email`. Set with the email on every write (Core upserts, and the listener below).
    email_key: str | None = Field(default=None, max_length=254, index=True)
    phone: str | None = Field(default=None, max_length=32, index=True)  # E.164
    # The phone's line type (core/contacts.phone_type): "mobile", "fixed_line", …;
    # set with the phone on every write. SMS skips fixed lines as no_address.
    phone_type: str | None = Field(default=None, max_length=24)
    city: str | None = Field(default=None, max_length=100)
    attributes: dict[str, Any] = _json(default={}, nullable=False)
    # False for a stub made by an order that arrived before its customer.
    is_stub: bool = Field(default=False, nullable=False)
    # Consent per channel; False = opted out. Changes are audit events (core/consent.py).
    consent_sms: bool = Field(default=True, nullable=False,
                              sa_column_kwargs={"server_default": sa.true()})
    consent_email: bool = Field(default=True, nullable=False,
                                sa_column_kwargs={"server_default": sa.true()})
    consent_whatsapp: bool = Field(default=True, nullable=False,
                                   sa_column_kwargs={"server_default": sa.true()})
    created_at: datetime = _ts(nullable=False, default=True)
    updated_at: datetime = _ts(nullable=False, default=True)
    total_spend: Decimal = Field(default=Decimal("0"), sa_type=MONEY, nullable=False)
    order_count: int = Field(default=0, nullable=False)
    first_order_at: datetime | None = _ts()
    last_order_at: datetime | None = _ts()


CONSENT_COLUMNS = {"sms": "consent_sms", "email": "consent_email",
                   "whatsapp": "consent_whatsapp"}


def consent_column(channel: str) -> Any:
    """Customer's consent column for a channel (sms, email, whatsapp); KeyError otherwise."""
    return Customer.__table__.c[CONSENT_COLUMNS[channel]]


class Order(SQLModel, table=True):
    __tablename__ = "order"
    __table_args__ = (sa.Index("ix_order_customer_ordered", "customer_id", "ordered_at"),)

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=128, unique=True, index=True)
    customer_id: int = Field(foreign_key="customer.id", nullable=False)
    amount: Decimal = Field(sa_type=MONEY, nullable=False)
    currency: str = Field(default="INR", max_length=3)
    status: str = Field(default="completed", max_length=32)
    ordered_at: datetime = _ts(nullable=False, index=True)
    items: list[dict[str, Any]] | None = _json()
    created_at: datetime = _ts(nullable=False, default=True)
    updated_at: datetime = _ts(nullable=False, default=True)


class User(SQLModel, table=True):
    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str | None = Field(default=None, max_length=200)
    picture_url: str | None = Field(default=None, max_length=1000)
    role: str = Field(default="marketer", max_length=16)  # admin | marketer | viewer
    oidc_subject: str | None = Field(default=None, max_length=255)
    invited: bool = Field(default=False, nullable=False)
    disabled: bool = Field(default=False, nullable=False)
    created_at: datetime = _ts(nullable=False, default=True)
    last_login_at: datetime | None = _ts()


def segment_name_key(name: str) -> str:
    """The key that makes segment names unique: sha256 (hex, 64 characters) of
    text_checks.name_key_text(name) (NFKC, casefold, format characters such as U+200B
    removed, spaces collapsed), so "Ｂｉｇ  spenders" and "big\u200bspenders " clash
    with "Big spenders". Changing this definition needs a migration (0014 re-keys).

    Hashed rather than stored as the folded text so the UNIQUE index compares bytes on
    every database: MariaDB's utf8mb4_unicode_ci would also call "Café" and "Cafe" the
    same name, SQLite's lower() folds ASCII only, and casefold can lengthen a name
    ("ß" -> "ss") past the column's size."""
    return hashlib.sha256(name_key_text(name).encode()).hexdigest()


class Segment(SQLModel, table=True):
    __tablename__ = "segment"
    # The database's own guard for unique names: two saves at the same instant both
    # pass the service's check, and the second insert then fails on this index.
    __table_args__ = (sa.Index("uq_segment_name_key", "name_key", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    # segment_name_key(name), kept by the mapper events below on every ORM write.
    name_key: str = Field(default="", max_length=64)
    description: str | None = Field(default=None, max_length=1000)
    rules: dict[str, Any] = _json(default={}, nullable=False)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = _ts(nullable=False, default=True)
    updated_at: datetime = _ts(nullable=False, default=True)


@sa.event.listens_for(Segment, "before_insert")
@sa.event.listens_for(Segment, "before_update")
def _segment_name_key(_mapper: Any, _connection: Any, target: Segment) -> None:
    target.name_key = segment_name_key(target.name)


@sa.event.listens_for(Customer, "before_insert")
@sa.event.listens_for(Customer, "before_update")
def _customer_email_key(_mapper: Any, _connection: Any, target: Customer) -> None:
    target.email_key = inbox_key(target.email)


class Campaign(SQLModel, table=True):
    __tablename__ = "campaign"
    __table_args__ = (sa.Index("ix_campaign_status_scheduled", "status", "scheduled_at"),
                      sa.Index("ix_campaign_ab_phase", "ab_phase", "ab_decide_at"))

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    rules: dict[str, Any] = _json(default={}, nullable=False)  # snapshot at launch
    segment_id: int | None = Field(default=None, foreign_key="segment.id")
    channel: str = Field(default="sms", max_length=32)
    message_template: str = Field(sa_type=sa.Text, nullable=False)
    objective: str | None = Field(default=None, max_length=500)
    tags: list[str] = _json(default=[], nullable=False)
    status: str = Field(default=CampaignStatus.DRAFT, max_length=16)
    scheduled_at: datetime | None = _ts()
    started_at: datetime | None = _ts()
    completed_at: datetime | None = _ts()
    audience_size: int = Field(default=0, nullable=False)
    # Share of the eligible audience kept as a control group (0-50), see core/outcomes.
    holdout_percent: int = Field(default=0, nullable=False)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = _ts(nullable=False, default=True, index=True)
    # The wizard step a draft was left on, so it resumes there (drafts only).
    draft_step: int | None = Field(default=None)
    # Email only: subject line and preheader are templates (tokens allowed); the sender
    # name shows beside the From address.
    email_subject: str | None = Field(default=None, max_length=300)
    email_preheader: str | None = Field(default=None, max_length=300)
    sender_name: str | None = Field(default=None, max_length=100)
    # A/B test (core/campaigns/ab_test.py): [{"key": "A".."D", "message", "subject"}] or
    # None; ab_test {"test_percent", "test_hours", "metric"}; ab_phase None | "testing" |
    # "decided" | "ended" (cancelled while testing); ab_decide_at when the winner is due;
    # winner a variant key or None, and winner_detail why (method, p-value, rates, who
    # decided, the rest's variant).
    variants: list[dict[str, Any]] | None = _json()
    ab_test: dict[str, Any] | None = _json()
    ab_phase: str | None = Field(default=None, max_length=16)
    ab_decide_at: datetime | None = _ts()
    winner: str | None = Field(default=None, max_length=8)
    winner_detail: dict[str, Any] | None = _json()


class CommunicationLog(SQLModel, table=True):
    __tablename__ = "communication_log"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "customer_id", name="uq_log_campaign_customer"),
        sa.Index("ix_log_campaign_status", "campaign_id", "status"),
        sa.Index("ix_log_customer_created", "customer_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", nullable=False)
    customer_id: int = Field(foreign_key="customer.id", nullable=False)
    message: str | None = Field(default=None, sa_type=sa.Text)
    status: str = Field(default=DeliveryStatus.QUEUED, max_length=16)
    # The A/B variant key this row was assigned ("A".."D"); null outside A/B tests.
    variant: str | None = Field(default=None, max_length=8)
    vendor_message_id: str | None = Field(default=None, max_length=128, unique=True)
    attempts: int = Field(default=0, nullable=False)
    error: str | None = Field(default=None, max_length=1000)
    # Why a `skipped` row was left out at launch (reach.SKIP_REASONS); NULL otherwise.
    skip_reason: str | None = Field(default=None, max_length=32)
    # When a worker claimed the row; a stale claim is how the sweeper finds abandoned work.
    claimed_at: datetime | None = _ts()
    created_at: datetime = _ts(nullable=False, default=True)
    sent_at: datetime | None = _ts()
    delivered_at: datetime | None = _ts()
    updated_at: datetime = _ts(nullable=False, default=True)


class Conversion(SQLModel, table=True):
    """One attributed order: the campaign (and log row) whose touch last preceded it.

    Maintained incrementally by core/outcomes/attribution.py on every order upsert;
    `holdout` and `variant` are copied from the log row so outcome reports read this
    table alone.
    """

    __tablename__ = "conversion"
    __table_args__ = (
        sa.Index("ix_conversion_campaign", "campaign_id", "holdout"),
        sa.Index("ix_conversion_log", "log_id"),
        sa.Index("ix_conversion_ordered_at", "ordered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", nullable=False, unique=True)
    campaign_id: int = Field(foreign_key="campaign.id", nullable=False)
    log_id: int = Field(foreign_key="communication_log.id", nullable=False)
    customer_id: int = Field(nullable=False)
    amount: Decimal = Field(sa_type=MONEY, nullable=False)
    ordered_at: datetime = _ts(nullable=False)
    attributed_at: datetime = _ts(nullable=False, default=True)
    holdout: bool = Field(default=False, nullable=False)
    variant: str | None = Field(default=None, max_length=8)


class UserSession(SQLModel, table=True):
    """A signed-in browser session (table `session`); named apart from `sqlmodel.Session`."""

    __tablename__ = "session"

    id: int | None = Field(default=None, primary_key=True)
    # SHA-256 of the cookie value: a database leak does not leak live sessions.
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user.id", nullable=False, index=True)
    created_at: datetime = _ts(nullable=False, default=True)
    last_seen_at: datetime = _ts(nullable=False, default=True)
    expires_at: datetime = _ts(nullable=False)
    revoked_at: datetime | None = _ts()
    user_agent: str | None = Field(default=None, max_length=500)
    ip: str | None = Field(default=None, max_length=64)


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    scopes: list[str] = _json(default=[], nullable=False)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = _ts(nullable=False, default=True)
    last_used_at: datetime | None = _ts()
    revoked_at: datetime | None = _ts()


class Suppression(SQLModel, table=True):
    """The suppression list: normalised addresses that must not be messaged on a channel.

    Keyed by address, not customer, so an address that opted out stays suppressed when it
    reappears under another customer record.
    """

    __tablename__ = "suppression"
    __table_args__ = (sa.UniqueConstraint("address", "channel", name="uq_suppression_address"),)

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=254)  # lower-cased email or E.164 phone
    channel: str = Field(max_length=16)  # sms | email | whatsapp
    reason: str | None = Field(default=None, max_length=500)
    source: str = Field(max_length=32)  # api | ui | unsubscribe_link | inbound | import | seed
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = _ts(nullable=False, default=True, index=True)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False, default=True, index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="user.id")
    actor_label: str | None = Field(default=None, max_length=254)
    action: str = Field(max_length=64, index=True)
    target: str | None = Field(default=None, max_length=255)
    details: dict[str, Any] = _json(default={}, nullable=False)


class ReceiptRetry(SQLModel, table=True):
    """A delivery receipt the API accepted (answered 202) whose vendor message id was not
    stored yet: kept here, durable, until the worker's mark makes the id known (see
    mini_crm.core.delivery.receipts). Not a Redis key: a 202 promises the receipt is kept
    even if Redis loses its memory."""

    __tablename__ = "receipt_retry"

    id: int | None = Field(default=None, primary_key=True)
    vendor_message_id: str = Field(max_length=128, nullable=False)
    status: str = Field(max_length=16, nullable=False)  # vendor word: delivered | failed
    error: str | None = Field(default=None, max_length=1000)
    at: str | None = Field(default=None, max_length=40)  # the vendor's timestamp, as sent
    tries: int = Field(default=0, nullable=False)
    due_at: datetime = _ts(nullable=False, index=True)


class ImportStatus:
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    LIVE = (QUEUED, RUNNING)


class ImportJob(SQLModel, table=True):
    """One CSV import (UI or POST /api/v1/imports): where its file is, how far it got.

    `row_count`/`valid`/`imported`/`error_count` count every row; only the first
    settings.import_max_stored_errors row errors are kept (in import_error). `claim` is
    the token of the worker running it; `heartbeat_at` moves with every chunk, so a
    stopped worker's import is found and resumed (see core.ingestion.imports).
    """

    __tablename__ = "import_job"
    __table_args__ = (sa.Index("ix_import_job_status_heartbeat", "status", "heartbeat_at"),)

    id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=16)  # customers | orders
    status: str = Field(default=ImportStatus.QUEUED, max_length=16)
    file_name: str = Field(max_length=255)
    path: str = Field(max_length=1000)
    encoding: str = Field(max_length=32)
    delimiter: str = Field(max_length=4)
    # {"fields": {target field: column}, "ignore": [columns], "blank_cells": "keep" |
    #  "clear", "encoding_chosen": bool, "encoding_note": str | None}
    mapping: dict[str, Any] = _json(default={}, nullable=False)
    bytes_total: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)
    bytes_read: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)
    row_count: int = Field(default=0, nullable=False)
    valid: int = Field(default=0, nullable=False)
    imported: int = Field(default=0, nullable=False)
    error_count: int = Field(default=0, nullable=False)
    message: str | None = Field(default=None, max_length=1000)
    source: str = Field(default="api", max_length=16)  # api | ui
    created_by: int | None = Field(default=None, foreign_key="user.id")
    claim: str | None = Field(default=None, max_length=32)
    created_at: datetime = _ts(nullable=False, default=True, index=True)
    started_at: datetime | None = _ts()
    heartbeat_at: datetime | None = _ts()
    finished_at: datetime | None = _ts()


class ImportRowError(SQLModel, table=True):
    """A row an import could not use: its spreadsheet row number, field and reason."""

    __tablename__ = "import_error"
    __table_args__ = (sa.Index("ix_import_error_import_row", "import_id", "row_no"),)

    id: int | None = Field(default=None, primary_key=True)
    import_id: str = Field(foreign_key="import_job.id", max_length=32, nullable=False)
    row_no: int = Field(nullable=False)
    field: str | None = Field(default=None, max_length=128)
    message: str = Field(sa_type=sa.Text, nullable=False)


class SegmentTerm(SQLModel, table=True):
    """A marketer's own definition of a vocabulary word ("VIP", "churned") for plain English.

    Only edited definitions are stored; a word without a row means its documented default
    (core/ai/vocabulary.DEFAULTS), so "reset" deletes the row.
    """
    __tablename__ = "segment_term"

    key: str = Field(max_length=40, primary_key=True)
    rules: dict[str, Any] = _json(default={}, nullable=False)
    description: str = Field(default="", max_length=300)
    updated_by: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = _ts(nullable=False, default=True)

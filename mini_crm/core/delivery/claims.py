"""Claims and marks: every SQL statement of the send pipeline on communication_log.

A job claims a range's claimable rows with one guarded UPDATE (`claim`: queued, never
claimed or claimed longer ago than `delivery_claim_timeout_seconds`, while the campaign
is still sending), so two jobs over one range cannot both take a row; it renews the
claim between requests (`renew`) and marks outcomes in bulk (`mark`: one UPDATE per
outcome, unnest() arrays on PostgreSQL, JSON_TABLE on MySQL/MariaDB, CASE on SQLite),
each guarded by `status = 'queued'` so a row is never marked twice, nor after a cancel.
Transactions here skip PostgreSQL's WAL flush wait (`begin`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from mini_crm.models import (
    Campaign,
    CampaignStatus,
    CommunicationLog,
    Customer,
    DeliveryStatus,
    utcnow,
)
from mini_crm.settings import get_settings

LOG = CommunicationLog.__table__
CAMPAIGN = Campaign.__table__
CUSTOMER = Customer.__table__
CANCELLED_ERROR = "cancelled"
_ERROR_MAX = 1000


@dataclass(frozen=True)
class Outcome:
    log_id: int
    vendor_message_id: str | None
    error: str | None  # None = accepted


def claimable(campaign_id: int, stale_before: datetime) -> list[sa.ColumnElement[bool]]:
    """Rows a worker may take: queued, and never claimed or claimed too long ago."""
    return [LOG.c.campaign_id == campaign_id, LOG.c.status == DeliveryStatus.QUEUED,
            sa.or_(LOG.c.claimed_at.is_(None), LOG.c.claimed_at < stale_before)]


def batch_ranges(conn: Connection | Session, conditions: list[sa.ColumnElement[bool]],
                 size: int) -> list[tuple[int, int]]:
    """(first id, last id) of consecutive groups of `size` matching rows, by keyset.

    One query: row_number() numbers the matching rows in id order and rows are
    grouped by number // size, so only the ~N/size boundaries come back.
    """
    rn = sa.func.row_number().over(order_by=LOG.c.id)
    numbered = (select(LOG.c.id.label("id"), ((rn - 1) // sa.literal(size)).label("bucket"))
                .where(*conditions).subquery())
    first = sa.func.min(numbered.c.id)
    rows = conn.execute(select(first, sa.func.max(numbered.c.id))
                        .group_by(numbered.c.bucket).order_by(first)).all()
    return [(int(a), int(b)) for a, b in rows]


@contextmanager
def begin(engine: sa.Engine) -> Iterator[Connection]:
    """A delivery transaction. On PostgreSQL its commit does not wait for the WAL flush:
    a commit lost in a database crash only loses claims (the rows are claimed again)
    or marks (the rows are sent again under the same idempotency keys and the vendor
    answers with the same ids), so durability buys nothing here but waits per batch."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        yield conn


def claim(conn: Connection, campaign_id: int, first_id: int, last_id: int,
          now: datetime) -> int:
    """Claim the range's claimable rows with token `now`; returns how many."""
    stale = now - timedelta(seconds=get_settings().delivery_claim_timeout_seconds)
    sending = sa.exists().where(CAMPAIGN.c.id == campaign_id,
                                CAMPAIGN.c.status == CampaignStatus.SENDING)
    result = conn.execute(
        LOG.update()
        .where(*claimable(campaign_id, stale), LOG.c.id >= first_id,
               LOG.c.id <= last_id, sending)
        .values(claimed_at=now, attempts=LOG.c.attempts + 1, updated_at=now))
    return result.rowcount


def claimed_rows(conn: Connection, campaign_id: int, first_id: int, last_id: int,
                 token: datetime) -> list[sa.Row]:
    """The rows this claim (token) holds in the range, still queued, joined with their
    customer's fields (what render needs), in id order."""
    if conn.dialect.name == "postgresql":
        # A batch's ~500 rows need ~500 primary-key lookups in customer. PostgreSQL's
        # default costs (random_page_cost 4, for spinning disks) often price those above
        # a hash join over a sequential scan of every customer — measured at 100k
        # customers: 10-28 ms per batch instead of 0.6 ms, the biggest single share of
        # the database's work in a campaign. MySQL/MariaDB and SQLite join by nested
        # loops anyway. Local to this short transaction, and one round trip for both.
        conn.exec_driver_sql("SELECT set_config('enable_hashjoin', 'off', true),"
                             " set_config('enable_mergejoin', 'off', true)")
    return conn.execute(
        sa.select(LOG.c.id, LOG.c.customer_id, LOG.c.attempts, LOG.c.error, LOG.c.variant,
                  CUSTOMER.c.name,
                  CUSTOMER.c.email,
                  CUSTOMER.c.phone, CUSTOMER.c.city, CUSTOMER.c.total_spend,
                  CUSTOMER.c.order_count, CUSTOMER.c.last_order_at)
        .join_from(LOG, CUSTOMER, LOG.c.customer_id == CUSTOMER.c.id)
        .where(LOG.c.campaign_id == campaign_id, LOG.c.id >= first_id, LOG.c.id <= last_id,
               LOG.c.claimed_at == token, LOG.c.status == DeliveryStatus.QUEUED)
        .order_by(LOG.c.id)).all()


def renew(conn: Connection, ids: list[int], old: datetime, new: datetime) -> None:
    """Move the claim on rows ids[0]..ids[-1] from token `old` to `new` (a long batch is
    not mistaken for a dead one)."""
    if ids:
        conn.execute(LOG.update().where(LOG.c.id >= ids[0], LOG.c.id <= ids[-1],
                                        LOG.c.claimed_at == old,
                                        LOG.c.status == DeliveryStatus.QUEUED)
                     .values(claimed_at=new))


MARK_CHUNK = 500  # rows per bulk UPDATE (bind parameters stay far below every limit)


def _bulk_set(conn: Connection, ids: list[int], per_row: dict[str, dict[int, Any]],
              fixed: dict[str, Any], guard: sa.ColumnElement[bool]) -> int:
    """One UPDATE per MARK_CHUNK rows instead of one statement (and round trip) per row:
    per-row values through CASE id WHEN ... THEN ... (SQLite), joined from unnest() of
    array parameters on PostgreSQL, or from JSON_TABLE over one JSON parameter on
    MySQL/MariaDB — a handful of parameters whatever the count."""
    if conn.dialect.name == "postgresql":
        return _bulk_set_pg(conn, ids, per_row, fixed, guard)
    if conn.dialect.name == "mysql":
        return _bulk_set_json(conn, ids, per_row, fixed, guard)
    changed = 0
    for i in range(0, len(ids), MARK_CHUNK):
        chunk = ids[i:i + MARK_CHUNK]
        values = dict(fixed)
        for column, by_id in per_row.items():
            values[column] = sa.case({k: by_id[k] for k in chunk}, value=LOG.c.id,
                                     else_=LOG.c[column])
        changed += conn.execute(LOG.update().where(LOG.c.id.in_(chunk), guard)
                                .values(**values)).rowcount
    return changed


def _bulk_set_pg(conn: Connection, ids: list[int], per_row: dict[str, dict[int, Any]],
                 fixed: dict[str, Any], guard: sa.ColumnElement[bool]) -> int:
    columns = list(per_row)
    v = (sa.func.unnest(sa.bindparam("ids", ids, type_=pg.ARRAY(sa.Integer)),
                        *[sa.bindparam(f"v_{c}", [per_row[c][i] for i in ids],
                                       type_=pg.ARRAY(sa.Text)) for c in columns])
         .table_valued("id", *columns).render_derived(name="v", with_types=False))
    values = dict(fixed)
    values.update({c: v.c[c] for c in columns})
    return conn.execute(LOG.update().where(LOG.c.id == v.c.id, guard).values(**values)
                        ).rowcount


def _bulk_set_json(conn: Connection, ids: list[int], per_row: dict[str, dict[int, Any]],
                   fixed: dict[str, Any], guard: sa.ColumnElement[bool]) -> int:
    """MySQL/MariaDB: the CASE form costs the worker more than the database there
    (pymysql quotes every one of the ~1,500 parameters of a 500-row mark in Python:
    measured 55 ms a job, against 17 ms for PostgreSQL's arrays); one JSON document
    read by JSON_TABLE (MariaDB 10.6+, MySQL 8) is the same join from one parameter."""
    columns = list(per_row)
    assert all(c in LOG.c for c in columns)  # names from this module, never from input
    rows = json.dumps([[i, *[per_row[c][i] for c in columns]] for i in ids])
    shape = ", ".join(["id BIGINT PATH '$[0]'"] + [
        f"{c} TEXT PATH '$[{n}]'" for n, c in enumerate(columns, start=1)])
    v = (sa.text(f"SELECT * FROM JSON_TABLE(:rows, '$[*]' COLUMNS ({shape})) AS jt")
         .bindparams(rows=rows)
         .columns(sa.column("id", sa.Integer), *[sa.column(c, sa.Text) for c in columns])
         .subquery("v"))
    values = dict(fixed)
    values.update({c: v.c[c] for c in columns})
    return conn.execute(LOG.update().where(LOG.c.id == v.c.id, guard).values(**values)
                        ).rowcount


def mark(conn: Connection, outcomes: list[Outcome], messages: dict[int, str],
         now: datetime) -> tuple[int, int]:
    """Bulk-mark outcomes; returns (sent, failed) rows actually changed.

    Guarded by status: a row is only marked from queued, so a row is never marked twice
    whatever number of workers raced for it, and never after a cancel marked it.
    """
    sent = [o for o in outcomes if o.error is None]
    failed = [o for o in outcomes if o.error is not None]
    n_sent = n_failed = 0
    if sent:
        n_sent = _bulk_set(
            conn, [o.log_id for o in sent],
            {"vendor_message_id": {o.log_id: o.vendor_message_id for o in sent},
             "message": {o.log_id: messages.get(o.log_id) for o in sent}},
            {"status": DeliveryStatus.SENT, "sent_at": now, "updated_at": now, "error": None},
            LOG.c.status == DeliveryStatus.QUEUED)
    if failed:
        n_failed = _bulk_set(
            conn, [o.log_id for o in failed],
            {"error": {o.log_id: (o.error or "")[:_ERROR_MAX] for o in failed},
             "message": {o.log_id: messages.get(o.log_id) for o in failed}},
            {"status": DeliveryStatus.FAILED, "updated_at": now},
            LOG.c.status == DeliveryStatus.QUEUED)
    return n_sent, n_failed


def note_error(conn: Connection, ids: list[int], token: datetime, error: str) -> None:
    """Keep `error` on rows still claimed by `token` (their error if they run out of
    attempts), leaving them queued."""
    if ids:
        conn.execute(LOG.update().where(LOG.c.id >= ids[0], LOG.c.id <= ids[-1],
                                        LOG.c.claimed_at == token,
                                        LOG.c.status == DeliveryStatus.QUEUED)
                     .values(error=error[:_ERROR_MAX]))


def complete_if_done(conn: Connection, campaign_id: int, now: datetime) -> bool:
    """sending -> completed once no row is queued or waiting for an A/B winner
    (guarded: only one caller wins)."""
    queued = sa.exists().where(LOG.c.campaign_id == campaign_id,
                               LOG.c.status.in_((DeliveryStatus.QUEUED,
                                                 DeliveryStatus.WAITING)))
    result = conn.execute(
        CAMPAIGN.update().where(CAMPAIGN.c.id == campaign_id,
                                CAMPAIGN.c.status == CampaignStatus.SENDING, ~queued)
        .values(status=CampaignStatus.COMPLETED, completed_at=now))
    return result.rowcount == 1


def release_cancelled(conn: Connection, campaign_id: int, first_id: int, last_id: int,
                      token: datetime) -> int:
    """This job's claimed rows it will not send, its campaign cancelled: failed
    "cancelled" (a cancel leaves claimed rows to their job)."""
    return conn.execute(LOG.update().where(
        LOG.c.campaign_id == campaign_id, LOG.c.id >= first_id, LOG.c.id <= last_id,
        LOG.c.claimed_at == token, LOG.c.status == DeliveryStatus.QUEUED)
        .values(status=DeliveryStatus.FAILED, error=CANCELLED_ERROR,
                updated_at=utcnow())).rowcount


def is_cancelled(conn: Connection, campaign_id: int) -> bool:
    """Whether the campaign is no longer sending (cancelled, completed or gone)."""
    status = conn.execute(sa.select(CAMPAIGN.c.status)
                          .where(CAMPAIGN.c.id == campaign_id)).scalar_one_or_none()
    return status != CampaignStatus.SENDING

"""The suppression list: normalised addresses that must not be messaged on a channel.

It is keyed by address, not customer: a phone that texted STOP stays suppressed when
the same number arrives later under another customer record. Rows come from opt-outs
(core/consent.py adds the customer's address for each channel they leave) and from
admins adding addresses by hand (a complaint, a legal request, a bounce list).
Removing a row lifts the block on the address; it does not change any customer's
consent flags.

Rows hold the address's key (contacts.address_key): for email the inbox
(`asharaotest@gmail.com` for `Asha.Rao.Test+promo@googlemail.com`), for a phone its
E.164 form. Every function here keys the addresses it is given, so callers pass
addresses as stored and any spelling of one inbox finds one row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Session, func, select

from mini_crm.core import brand_time, text_checks
from mini_crm.core.auth import audit
from mini_crm.core.contacts import (
    ADDRESS_FIELD,
    CHANNELS,
    InvalidContact,
    address_key,
    blank_to_none,
    normalise_address,
)
from mini_crm.models import Customer, Suppression, utcnow

TABLE: sa.Table = Suppression.__table__  # type: ignore[assignment]
CUSTOMER: sa.Table = Customer.__table__  # type: ignore[assignment]
SOURCES = ("api", "ui", "import", "unsubscribe_link", "inbound", "seed")
MAX_REASON = 500


class SuppressionError(ValueError):
    """Input that cannot become a suppression (bad channel, address or reason); `field`
    names the input."""

    def __init__(self, message: str, field: str = "address") -> None:
        super().__init__(message)
        self.field = field


def _keyed(pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """(address, channel) pairs with each address as its key (contacts.address_key)."""
    return {(address_key(c, a) or a, c) for a, c in pairs}


def customer_key(channel: str) -> sa.ColumnElement[Any]:
    """The customer column holding the key of the channel's address, as the list keys
    it: email_key for email (the stored email when no key was written), the phone for
    sms and whatsapp. The launch's dedupe and suppression join compare this."""
    if ADDRESS_FIELD[channel] == "email":
        return sa.func.coalesce(CUSTOMER.c.email_key, CUSTOMER.c.email)
    return CUSTOMER.c.phone


def customers_keyed(channel: str, key: str) -> sa.ColumnElement[bool]:
    """The condition "this customer's address for `channel` has key `key`", written so
    each side can use its index (ix_customer_email_key, ix_customer_email, the phone's):
    `customer_key(channel) == key` hides email_key inside COALESCE, which no index
    serves, so an opt-out would read the whole customer table (1M rows) to find one
    inbox. Same meaning: the stored email stands in only where no key was written."""
    if ADDRESS_FIELD[channel] == "email":
        return sa.or_(CUSTOMER.c.email_key == key,
                      sa.and_(CUSTOMER.c.email_key.is_(None), CUSTOMER.c.email == key))
    return CUSTOMER.c.phone == key


def insert_missing(session: Session | Connection, pairs: Iterable[tuple[str, str]], *,
                   source: str, reason: str | None = None,
                   created_by: int | None = None) -> None:
    """Add (address, channel) pairs, leaving alone those already listed (one statement)."""
    rows = [{"address": a, "channel": c, "source": source, "reason": reason,
             "created_by": created_by, "created_at": utcnow()} for a, c in sorted(_keyed(pairs))]
    if not rows:
        return
    bind = session if isinstance(session, Connection) else session.get_bind()
    dialect = bind.dialect.name
    if dialect in ("mysql", "mariadb"):
        stmt: Any = mysql.insert(TABLE).prefix_with("IGNORE")
    else:
        stmt = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](TABLE)
        stmt = stmt.on_conflict_do_nothing(index_elements=["address", "channel"])
    session.execute(stmt, rows)


def delete_pairs(session: Session, pairs: Iterable[tuple[str, str]]) -> int:
    """Remove (address, channel) pairs; returns how many rows went."""
    removed = 0
    by_channel: dict[str, set[str]] = {}
    for address, channel in _keyed(pairs):
        by_channel.setdefault(channel, set()).add(address)
    for channel, addresses in by_channel.items():
        removed += session.execute(TABLE.delete().where(
            TABLE.c.channel == channel, TABLE.c.address.in_(sorted(addresses)))).rowcount
    return removed


def _checked(address: str, channel: str, reason: str | None) -> tuple[str, str | None]:
    if channel not in CHANNELS:
        raise SuppressionError(f"channel must be one of {', '.join(CHANNELS)}, "
                               f"not {channel!r}", "channel")
    try:
        normalised = normalise_address(channel, address)
    except InvalidContact as exc:
        raise SuppressionError(str(exc)) from exc
    if normalised is None:
        what = "an email address" if channel == "email" else "a phone number"
        raise SuppressionError(f"give {what} to suppress on {channel}")
    normalised = address_key(channel, normalised) or normalised
    reason = blank_to_none(reason)
    if reason is not None and len(reason) > MAX_REASON:
        raise SuppressionError(f"the reason is longer than {MAX_REASON} characters",
                               "reason")
    if reason is not None and (problem := text_checks.control_problem(reason, "the reason")):
        raise SuppressionError(problem, "reason")
    return normalised, reason


def add(session: Session, address: str, channel: str, *, reason: str | None = None,
        source: str = "ui", actor: audit.Actor = audit.SYSTEM) -> tuple[Suppression, bool]:
    """Suppress `address` on `channel`: (the row, True) or (the existing row, False).

    The address is normalised first (an email lower-cased, a phone in E.164), so any
    spelling of one address finds the same row. Raises SuppressionError for an unknown
    channel, an unreadable address or a reason over 500 characters.
    """
    normalised, reason = _checked(address, channel, reason)
    existing = find(session, normalised, channel)
    if existing is not None:
        return existing, False
    insert_missing(session, [(normalised, channel)], source=source, reason=reason,
                   created_by=actor.user_id)
    row = find(session, normalised, channel)
    assert row is not None
    audit.record_by(session, actor, audit.SUPPRESSION_ADDED, target=f"{channel}:{normalised}",
                    details={"address": normalised, "channel": channel, "reason": reason,
                             "source": source})
    return row, True


def remove(session: Session, suppression_id: int, *, actor: audit.Actor = audit.SYSTEM,
           source: str = "ui") -> Suppression | None:
    """Delete one row by id; returns it, or None when there is no such row."""
    row = session.get(Suppression, suppression_id)
    if row is None:
        return None
    session.delete(row)
    session.flush()
    audit.record_by(session, actor, audit.SUPPRESSION_REMOVED,
                    target=f"{row.channel}:{row.address}",
                    details={"address": row.address, "channel": row.channel,
                             "source": source, "was_reason": row.reason})
    return row


def find(session: Session, address: str, channel: str) -> Suppression | None:
    """The row for an already normalised address (any spelling of its inbox), or None."""
    key = address_key(channel, address) or address
    return session.exec(select(Suppression).where(Suppression.address == key,
                                                  Suppression.channel == channel)).first()


def listed(session: Session, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of the (normalised address, channel) pairs are suppressed (as given: an
    address is listed when its key is)."""
    wanted = set(pairs)
    if not wanted:
        return set()
    keyed = {(a, c): (address_key(c, a) or a, c) for a, c in wanted}
    rows = session.execute(select(TABLE.c.address, TABLE.c.channel)
                           .where(TABLE.c.address.in_(sorted({k for k, _ in keyed.values()}))))
    found = {(a, c) for a, c in rows}
    return {pair for pair, key in keyed.items() if key in found}


@dataclass(frozen=True)
class Page:
    rows: list[Suppression]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _filters(channel: str | None, query: str) -> list[Any]:
    where: list[Any] = []
    if channel:
        where.append(Suppression.channel == channel)
    text = query.strip().lower()
    if channel == "email" and "@" in text:
        text = address_key("email", text) or text  # a typed gmail spelling finds its row
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(Suppression.address.like(f"%{escaped}%", escape="\\"))
    return where


def list_page(session: Session, *, channel: str | None = None, query: str = "",
              page: int = 1, page_size: int = 25) -> Page:
    """One page of the list for the UI, newest first, with the total for the pager."""
    page_size = max(1, min(page_size, 100))
    where = _filters(channel, query)
    total = session.exec(select(func.count()).select_from(Suppression).where(*where)).one()
    page = max(1, min(page, max(1, -(-total // page_size))))
    rows = session.exec(select(Suppression).where(*where)
                        .order_by(Suppression.id.desc())
                        .offset((page - 1) * page_size).limit(page_size)).all()
    return Page(list(rows), total, page, page_size)


def list_after(session: Session, *, before_id: int | None, limit: int,
               channel: str | None = None, query: str = "") -> tuple[list[Suppression], bool]:
    """Newest first, keyset-paginated for the API: rows with id < before_id, and whether
    more follow."""
    where = _filters(channel, query)
    if before_id:
        where.append(Suppression.id < before_id)
    rows = list(session.exec(select(Suppression).where(*where)
                             .order_by(Suppression.id.desc()).limit(limit + 1)).all())
    return rows[:limit], len(rows) > limit


def as_json(row: Suppression) -> dict[str, Any]:
    return {"id": row.id, "address": row.address, "channel": row.channel,
            "reason": row.reason, "source": row.source, "created_by": row.created_by,
            "created_at": brand_time.utc_text(row.created_at)}

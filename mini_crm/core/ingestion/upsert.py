"""Idempotent batch upserts of customers and orders, with customer stats kept exact
and campaign attribution (the `conversion` table) maintained in the same transaction.

Stats are never incremented: after a batch of orders is written, the touched
customers' stats are recomputed from the order table in one UPDATE, in the same
transaction, with those customer rows locked first (in id order, so concurrent
batches queue instead of deadlocking). A re-sent order, a changed amount or a
cancellation therefore always lands on the right totals.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from mini_crm.core import consent, contacts
from mini_crm.core.ingestion import limits
from mini_crm.core.ingestion.schemas import CustomerIn, OrderIn
from mini_crm.core.outcomes.attribution import attribute_orders
from mini_crm.db import session_scope
from mini_crm.models import Customer, Order, OrderStatus, utcnow

CUSTOMER = Customer.__table__
# CustomerIn fields that are not customer columns of their own.
NOT_COLUMNS = frozenset({"external_id", "unsubscribed", "consent"})
ORDER = Order.__table__
T = TypeVar("T")


def _insert(session: Session, table: sa.Table) -> Any:
    dialect = session.get_bind().dialect.name
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(
        dialect, mysql.insert)(table)


def _upsert(session: Session, table: sa.Table, rows: list[dict[str, Any]],
            update: Callable[[Any], dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT (external_id) DO UPDATE / ON DUPLICATE KEY UPDATE."""
    if not rows:
        return
    stmt = _insert(session, table)
    if session.get_bind().dialect.name in ("mysql", "mariadb"):
        stmt = stmt.on_duplicate_key_update(update(stmt.inserted))
    else:
        stmt = stmt.on_conflict_do_update(index_elements=["external_id"],
                                          set_=update(stmt.excluded))
    session.execute(stmt, rows)


def _insert_missing(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt = _insert(session, table)
    if session.get_bind().dialect.name in ("mysql", "mariadb"):
        stmt = stmt.prefix_with("IGNORE")
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=["external_id"])
    session.execute(stmt, rows)


def _last_wins(items: Sequence[T], key: Callable[[T], str]) -> list[T]:
    # One statement may not touch the same row twice (PostgreSQL refuses): keep the last.
    return list({key(i): i for i in items}.values())


def _merge_customers(items: Sequence[CustomerIn]) -> list[CustomerIn]:
    """One item per external_id, as if the batch's items had been sent one after another.

    A later item's fields override an earlier one's; fields it leaves out keep the earlier
    item's values (so `[{id, email, city}, {id, name}]` keeps the email and city).
    Consent is not merged here (see _consent_steps).
    """
    merged: dict[str, CustomerIn] = {}
    for item in items:
        ext = item.external_id
        earlier = merged.get(ext)
        merged[ext] = item if earlier is None else earlier.model_copy(
            update={f: getattr(item, f) for f in item.model_fields_set - NOT_COLUMNS})
    return list(merged.values())


def _consent_steps(session: Session, items: Sequence[CustomerIn]
                   ) -> dict[str, list[consent.Step]]:
    """Each item's consent keys in batch order, with the customer's email and phone at
    that point of the batch: what was stored before it (read here, before the batch is
    written), overridden by the batch's items up to and including that one.

    Consent is not merged like the other fields: `[opt out, opt in]` is two changes, and
    the opt-out's suppression must survive, as it would over two requests
    (core.consent.apply_steps)."""
    with_consent = sorted({i.external_id for i in items if i.consent_wanted()})
    if not with_consent:
        return {}
    addresses = {ext: {"email": None, "phone": None} for ext in with_consent}
    addresses.update({ext: {"email": email, "phone": phone} for ext, email, phone in
                      session.execute(sa.select(CUSTOMER.c.external_id, CUSTOMER.c.email,
                                                CUSTOMER.c.phone)
                                      .where(CUSTOMER.c.external_id.in_(with_consent)))})
    steps: dict[str, list[consent.Step]] = {}
    for item in items:
        now = addresses.get(item.external_id)
        if now is None:
            continue
        now.update({f: getattr(item, f) for f in ("email", "phone")
                    if f in item.model_fields_set})
        if w := item.consent_wanted():
            steps.setdefault(item.external_id, []).append(consent.Step(w, dict(now)))
    return steps


# Contact fields a list may be keyed by (a CSV without an id column, csv_import).
KEYED_BY = ("email", "phone")


def match_existing(session: Session, items: Sequence[CustomerIn], keyed_by: str
                   ) -> list[CustomerIn]:
    """Items of a list keyed by its email or phone column (their external_id is the
    normalised address) with the external_id of the customer who already holds that
    address, when one does: a list row for " asha.rao@example.in " updates customer
    t-1 holding asha.rao@example.in instead of creating a second record of one person.

    With several customers holding the address, the lowest customer id (the oldest
    record, the one a launch keeps when it dedupes the address) is updated; the others
    are left as they are. An address no customer holds keeps the address as its key.
    Read in the writing transaction, one SELECT per batch."""
    if keyed_by not in KEYED_BY:
        raise ValueError(f"a list is keyed by {' or '.join(KEYED_BY)}, not {keyed_by!r}")
    # An email list matches on the inbox (asha.rao@gmail.com finds asharao@gmail.com).
    key = contacts.inbox_key if keyed_by == "email" else (lambda a: a)
    keys = sorted({k for i in items if (k := key(i.external_id))})
    if not keys:
        return list(items)
    column = CUSTOMER.c.email_key if keyed_by == "email" else CUSTOMER.c.phone
    owner: dict[str, str] = {}
    for address, external_id in session.execute(
            sa.select(column, CUSTOMER.c.external_id).where(column.in_(keys))
            .order_by(CUSTOMER.c.id)):
        owner.setdefault(address, external_id)
    return [i.model_copy(update={"external_id": owner[k]})
            if (k := key(i.external_id)) in owner else i for i in items]


def upsert_customers(session: Session, items: Sequence[CustomerIn],
                     change: consent.Change | None = None,
                     merge_attributes: bool = False, keyed_by: str | None = None) -> int:
    """Upsert by external_id. Fields a client leaves out keep their stored values.

    `attributes` replaces the stored object (the API's meaning) unless
    `merge_attributes` (CSV imports, one column per key): then the item's keys are
    merged into the stored ones, a key whose value is None is removed, and keys the
    item does not name stay.

    Consent (`unsubscribed`, `consent`) is applied through core.consent after the rows
    are written, recorded as coming from `change` (default: the API): items without
    consent keys never touch it, so a later upsert cannot undo an opt-out.

    `keyed_by` ("email" or "phone"): the items come from a list keyed by that column
    and match the customer already holding the address (match_existing).
    """
    if keyed_by is not None:
        items = match_existing(session, items, keyed_by)
    latest = _merge_customers(items)
    steps = _consent_steps(session, items)
    if merge_attributes:
        latest = _merged_attributes(session, latest)
    groups: dict[frozenset[str], list[CustomerIn]] = {}
    for c in latest:
        groups.setdefault(frozenset(c.model_fields_set - NOT_COLUMNS), []).append(c)
    now = utcnow()
    for fields, group in groups.items():
        rows = [{
            "external_id": c.external_id, "name": c.name, "email": c.email, "phone": c.phone,
            "phone_type": contacts.phone_type(c.phone), "email_key": contacts.inbox_key(c.email),
            "city": c.city, "attributes": c.attributes or {}, "is_stub": False,
            "created_at": c.created_at or now, "updated_at": now,
            "total_spend": 0, "order_count": 0,
        } for c in group]
        # The phone's line type travels with the phone (an SMS skips a landline), the
        # inbox key with the email (the launch's dedupe and the suppression list).
        written = fields | {"phone_type"} if "phone" in fields else fields
        written = written | {"email_key"} if "email" in fields else written

        def update(new: Any, fields: frozenset[str] = written) -> dict[str, Any]:
            values = {f: new[f] for f in sorted(fields)}
            return {**values, "is_stub": new["is_stub"], "updated_at": new["updated_at"]}

        _upsert(session, CUSTOMER, rows, update)
    _apply_consent(session, steps, change or consent.Change(source="api"))
    return len(latest)


def _merged_attributes(session: Session, items: list[CustomerIn]) -> list[CustomerIn]:
    """Items whose attributes are the stored ones updated by theirs (None removes a key);
    read in the writing transaction, one SELECT per batch."""
    ids = [c.external_id for c in items if c.attributes is not None]
    if not ids:
        return items
    stored = dict(session.execute(sa.select(CUSTOMER.c.external_id, CUSTOMER.c.attributes)
                                  .where(CUSTOMER.c.external_id.in_(ids))).all())
    merged = []
    for c in items:
        if c.attributes is not None:
            values = {**(stored.get(c.external_id) or {}), **c.attributes}
            c = c.model_copy(update={"attributes": {k: v for k, v in values.items()
                                                    if v is not None}})
        merged.append(c)
    return merged


def _apply_consent(session: Session, steps: dict[str, list[consent.Step]],
                   change: consent.Change) -> None:
    if not steps:
        return
    ids = dict(session.execute(sa.select(CUSTOMER.c.external_id, CUSTOMER.c.id)
                               .where(CUSTOMER.c.external_id.in_(sorted(steps)))).all())
    consent.apply_steps(session, {ids[ext]: s for ext, s in steps.items()}, change)


def _is_retryable(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return any(word in text for word in ("deadlock", "lock wait", "could not serialize",
                                         "database is locked"))


def in_transaction(work: Callable[[Session], T], engine: Engine | None = None,
                   attempts: int = 6) -> T:
    """Run `work` in its own transaction, retrying the whole of it after a deadlock.

    A deadlock aborts the entire transaction on MySQL/MariaDB and PostgreSQL, so the
    retry must start over from BEGIN, not from a savepoint.
    """
    for attempt in range(attempts):
        try:
            with session_scope(engine) as session:
                return work(session)
        except DBAPIError as exc:
            if attempt == attempts - 1 or not _is_retryable(exc):
                raise
            time.sleep(random.uniform(0.01, 0.05) * 2**attempt)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class OrdersWritten:
    """What write_orders did: `written` orders stored, `refused` {order external_id:
    the sentence why} for orders left out (limits.spend_refusals)."""

    written: int
    refused: dict[str, str] = field(default_factory=dict)


def upsert_orders(session: Session, items: Sequence[OrderIn]) -> int:
    """write_orders, answering only how many were written."""
    return write_orders(session, items).written


def write_orders(session: Session, items: Sequence[OrderIn]) -> OrdersWritten:
    """Upsert orders by external_id (the last of a batch's duplicates wins), create stub
    customers for unknown ones, recompute the touched customers' stats and attribute the
    orders, in the caller's transaction. An order that would take its customer's total
    spend past NUMERIC(14,2) is refused on its own (limits.spend_refusals, checked under
    the customers' row locks) and the rest is written."""
    items = _last_wins(items, lambda o: o.external_id)
    if not items:
        return OrdersWritten(0)
    now = utcnow()
    customer_ids = sorted({o.customer_external_id for o in items})
    # Orders may arrive before their customer: make stubs that customer data fills in later.
    _insert_missing(session, CUSTOMER, [{
        "external_id": ext, "attributes": {}, "is_stub": True,
        "created_at": now, "updated_at": now, "total_spend": 0, "order_count": 0,
    } for ext in customer_ids])
    ids, totals = _lock_customers(session, customer_ids)
    refused = ({} if limits.cannot_overflow(items, totals)
               else limits.spend_refusals(session, items))
    items = [o for o in items if o.external_id not in refused]
    if not items:
        return OrdersWritten(0, refused)
    moved_from = _current_owners(session, [o.external_id for o in items])
    rows = [{
        "external_id": o.external_id, "customer_id": ids[o.customer_external_id],
        "amount": o.amount, "currency": o.currency, "status": o.status,
        "ordered_at": o.ordered_at, "items": o.items, "created_at": now, "updated_at": now,
    } for o in items]

    def update(new: Any) -> dict[str, Any]:
        # Indexed, not attribute access: `.items` is the collection's own method.
        return {f: new[f] for f in ("customer_id", "amount", "currency", "status",
                                    "ordered_at", "items", "updated_at")}

    _upsert(session, ORDER, rows, update)
    recompute_stats(session, set(ids.values()) | moved_from)
    # Same transaction, set-based for the whole batch: a re-sent, changed or cancelled
    # order lands on the right campaign's conversions (core/outcomes/attribution.py).
    attribute_orders(session, [o.external_id for o in items], now)
    return OrdersWritten(len(rows), refused)


def _lock_customers(session: Session, external_ids: list[str]
                    ) -> tuple[dict[str, int], dict[str, Decimal]]:
    """Lock the batch's customers (id order); their ids and stored total spend."""
    stmt = (sa.select(CUSTOMER.c.external_id, CUSTOMER.c.id, CUSTOMER.c.total_spend)
            .where(CUSTOMER.c.external_id.in_(external_ids)).order_by(CUSTOMER.c.id))
    if session.get_bind().dialect.name != "sqlite":  # SQLite has one writer at a time
        stmt = stmt.with_for_update()
    rows = session.execute(stmt).all()
    return ({ext: cid for ext, cid, _ in rows},
            {ext: Decimal(total or 0) for ext, _, total in rows})


def _current_owners(session: Session, order_external_ids: list[str]) -> set[int]:
    rows = session.execute(sa.select(ORDER.c.customer_id)
                           .where(ORDER.c.external_id.in_(order_external_ids)))
    return {r[0] for r in rows}


def recompute_stats(session: Session, customer_ids: set[int]) -> None:
    """Set total_spend, order_count, first/last order from the order table, in one UPDATE."""
    if not customer_ids:
        return
    counted = sa.and_(ORDER.c.customer_id == CUSTOMER.c.id,
                      ORDER.c.status.not_in(OrderStatus.NOT_COUNTED))

    def agg(expr: Any) -> Any:
        return sa.select(expr).where(counted).scalar_subquery()

    session.execute(
        sa.update(CUSTOMER).where(CUSTOMER.c.id.in_(sorted(customer_ids))).values(
            total_spend=agg(sa.func.coalesce(sa.func.sum(ORDER.c.amount), 0)),
            order_count=agg(sa.func.count()),
            first_order_at=agg(sa.func.min(ORDER.c.ordered_at)),
            last_order_at=agg(sa.func.max(ORDER.c.ordered_at)),
        ).execution_options(synchronize_session=False)
    )


def ingest_orders(items: Sequence[OrderIn], engine: Engine | None = None) -> int:
    """write_orders in its own transaction; how many were written."""
    return write_orders_in_transaction(items, engine).written


def write_orders_in_transaction(items: Sequence[OrderIn], engine: Engine | None = None
                                ) -> OrdersWritten:
    """write_orders in its own transaction (retried after a deadlock): what every
    ingest door (API, stream consumer, CSV import) calls, to report the refusals."""
    return in_transaction(lambda session: write_orders(session, items), engine)


def ingest_customers(items: Sequence[CustomerIn], engine: Engine | None = None,
                     change: consent.Change | None = None,
                     merge_attributes: bool = False, keyed_by: str | None = None) -> int:
    """Upsert customers in one transaction; `change` says where consent changes came from,
    `merge_attributes` and `keyed_by` as in upsert_customers."""
    return in_transaction(lambda session: upsert_customers(
        session, items, change, merge_attributes, keyed_by), engine)

"""Per-item refusal of orders a customer's stored totals cannot hold.

`customer.total_spend` is NUMERIC(14,2) (at most 999,999,999,999.99) and is
recomputed from the order table in the batch's own UPDATE (upsert.recompute_stats).
An order whose amount fits on its own can still push its customer's sum past that:
PostgreSQL then fails the whole statement ("numeric field overflow"), so every valid
order of the batch was lost; MariaDB refuses it in strict mode too. SQLite would store
it but the other two could not, so all three refuse it here, before writing: each
such order is a per-item error and the rest of the batch is written.

How: the totals of the customers a batch touches are read once (one SELECT, under
the batch's row locks when writing), and the batch's orders are applied to them in
order as the writes will be: a re-sent order replaces its old amount, a cancelled or
refunded one counts nothing, an order moving to another customer leaves the old one's
total. The first order that would take a total over the limit is refused (its stored
version, if any, stays as it was) and later orders are still checked against the
totals without it.

`order_count` (an INTEGER) needs no such check: it counts order rows, and the order
table's INTEGER id cannot number more rows than that column holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mini_crm.core import formatting, numbers
from mini_crm.core.ingestion.schemas import OrderIn
from mini_crm.db import session_scope
from mini_crm.models import Customer, Order, OrderStatus

CUSTOMER = Customer.__table__
ORDER = Order.__table__
LIMIT = numbers.MONEY.high


def _counted(status: str) -> bool:
    return status not in OrderStatus.NOT_COUNTED


def cannot_overflow(items: Sequence[OrderIn], totals: dict[str, Decimal]) -> bool:
    """True when no customer's stored total (`totals`, by customer external id) plus all
    of the batch's counted amounts for them reaches past the limit: then nothing can be
    refused and the check needs no query (the common case). bench/ingest.py
    --spend-check, raw ingest rows/s with / without, on a loaded shared 2-core machine:
    the full check on every batch 0.75 (PostgreSQL), 0.75 (MariaDB), 0.92 (SQLite),
    5k customers + 50k orders; with this shortcut 0.95 (PostgreSQL) and 1.18 (SQLite),
    2k + 20k, i.e. within the run-to-run noise of that machine."""
    added: dict[str, Decimal] = {}
    for o in items:
        if _counted(o.status):
            added[o.customer_external_id] = added.get(o.customer_external_id,
                                                      Decimal(0)) + o.amount
    return all(Decimal(totals.get(who) or 0) + amount <= LIMIT
               for who, amount in added.items())


def spend_refusals(session: Session, items: Sequence[OrderIn]) -> dict[str, str]:
    """{order external_id: why it is refused} for the orders of `items` (one per
    external id, in the order they will be written) that would take their customer's
    total spend past NUMERIC(14,2). Two SELECTs; writes nothing. Exact when the
    customers' rows are locked by the caller (upsert.write_orders); a fair early answer
    otherwise (the queued API path checks before queueing; the consumer checks again)."""
    if not items:
        return {}
    stored = {ext: (owner, Decimal(amount), status) for ext, owner, amount, status in
              session.execute(sa.select(ORDER.c.external_id, CUSTOMER.c.external_id,
                                        ORDER.c.amount, ORDER.c.status)
                              .join(CUSTOMER, CUSTOMER.c.id == ORDER.c.customer_id)
                              .where(ORDER.c.external_id.in_(
                                  sorted({o.external_id for o in items})))).all()}
    owners = {o.customer_external_id for o in items} | {s[0] for s in stored.values()}
    totals: dict[str, Decimal] = {ext: Decimal(0) for ext in owners}
    totals.update({ext: Decimal(total) for ext, total in session.execute(
        sa.select(CUSTOMER.c.external_id, CUSTOMER.c.total_spend)
        .where(CUSTOMER.c.external_id.in_(sorted(owners)))).all()})
    refused: dict[str, str] = {}
    for order in items:
        change: dict[str, Decimal] = {}
        old = stored.get(order.external_id)
        if old is not None and _counted(old[2]):
            change[old[0]] = change.get(old[0], Decimal(0)) - old[1]
        if _counted(order.status):
            who = order.customer_external_id
            change[who] = change.get(who, Decimal(0)) + order.amount
        over = [(who, totals[who] + delta) for who, delta in change.items()
                if delta > 0 and totals[who] + delta > LIMIT]
        if over:
            who, total = over[0]
            refused[order.external_id] = (
                f"amount {formatting.rupees(order.amount, paise=True)} would take customer "
                f"{who}'s total spend to {formatting.rupees(total, paise=True)}, more than "
                f"the largest total kept ({formatting.rupees(LIMIT, paise=True)}); the "
                "order was not stored")
            continue
        for who, delta in change.items():
            totals[who] += delta
        stored[order.external_id] = (order.customer_external_id, order.amount,
                                     order.status)
    return refused


def check_orders(items: Sequence[OrderIn], engine: Engine | None = None
                 ) -> dict[str, str]:
    """spend_refusals in a read-only transaction of its own: the queued API path's early
    answer, so the caller hears of a refusal before the order is queued (the consumer's
    write checks again under the row locks, and logs what it refuses then)."""
    unique = list({o.external_id: o for o in items}.values())
    with session_scope(engine) as session:
        totals = {ext: Decimal(total) for ext, total in session.execute(
            sa.select(CUSTOMER.c.external_id, CUSTOMER.c.total_spend).where(
                CUSTOMER.c.external_id.in_(sorted({o.customer_external_id
                                                  for o in unique})))).all()}
        if cannot_overflow(unique, totals):
            return {}
        return spend_refusals(session, unique)

"""Attribution: which campaign earned an order (last touch within the conversion window).

The rule. An order whose status is not cancelled or refunded, placed by a customer at
`ordered_at`, is a conversion of campaign C when C's log row for that customer is a
*touch* at time T with T <= ordered_at < T + window(C.channel). A touch is
- a message handed to the vendor (status sent, delivered or undelivered): T = sent_at;
- a holdout member (status holdout): T = the row's created_at, i.e. the launch time —
  so the control group is measured over the same window as the recipients.
With several touches before one order, the latest one gets it (last touch; ties go to
the newer log row). Windows are settings per channel, hours (see settings.py:
conversion_window_*_hours; defaults email 120 h, sms 24 h, whatsapp 24 h, Klaviyo's
defaults — help.klaviyo.com, "Understanding message attribution").

Storage. `conversion` has one row per attributed order (order_id unique) with the
campaign, log row, customer, amount, ordered_at, whether the log row was a holdout
member and its A/B variant, so every outcome report reads one small table.

Maintenance. `attribute_orders` runs inside every order upsert (core/ingestion/upsert.py,
the path the API, the stream consumer and the CSV import share), in the same
transaction, set-based per batch (four statements per batch, never one per order): one
read of the batch's orders, one DELETE of their conversion rows by order_id, one read of
their customers' touches through the log's (customer_id, ...) index (only touches that
could reach the batch's order dates), and one multi-row INSERT; each order's latest
qualifying touch is picked in Python from its customer's few touches (`last_touch`).
Re-sent orders, changed amounts or dates, an order moving to another customer and a
status change to cancelled/refunded therefore all land right, and late orders
(ingested long after they were placed) are attributed by their ordered_at. Nothing is
ever rescanned, and no statement's cost grows with the size of the order, log or
conversion tables beyond an index lookup.

Known limit: a message sent after an order was ingested can only touch orders placed
after its sent_at, which were not there yet — except in the milliseconds between a
worker stamping sent_at and committing it. An order ingested inside that gap is not
credited to that message; `attribute_order_ids` re-runs attribution for any orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.models import (
    Campaign,
    CommunicationLog,
    Conversion,
    DeliveryStatus,
    Order,
    OrderStatus,
    utcnow,
)
from mini_crm.settings import get_settings

CAMPAIGN = Campaign.__table__
LOG = CommunicationLog.__table__
ORDER = Order.__table__
CONVERSION = Conversion.__table__

def window_hours() -> dict[str, int]:
    """Conversion window per channel, in hours, from settings."""
    s = get_settings()
    return {"email": s.conversion_window_email_hours, "sms": s.conversion_window_sms_hours,
            "whatsapp": s.conversion_window_whatsapp_hours}


def touch_time(log: sa.Table | Any = LOG) -> sa.ColumnElement[Any]:
    """The moment a log row touched its customer: sent_at, or the launch for holdout."""
    return sa.type_coerce(sa.case((log.c.status == DeliveryStatus.HOLDOUT, log.c.created_at),
                                  else_=log.c.sent_at), sa.DateTime())


def is_touch(log: sa.Table | Any = LOG) -> sa.ColumnElement[bool]:
    return log.c.status.in_((*DeliveryStatus.TOUCHED, DeliveryStatus.HOLDOUT))


def _touches(session: Session, customer_ids: list[int], first: datetime, last: datetime
             ) -> dict[int, list[Any]]:
    """Every touch of these customers that could precede an order placed between `first`
    and `last` within the longest window: {customer_id: rows, latest first (ties: newer
    row first)}. One query through the log's (customer_id, created_at) index."""
    touched = touch_time()
    rows = session.execute(
        sa.select(LOG.c.id, LOG.c.customer_id, LOG.c.campaign_id, LOG.c.status,
                  LOG.c.variant, touched.label("at"), CAMPAIGN.c.channel)
        .select_from(LOG.join(CAMPAIGN, CAMPAIGN.c.id == LOG.c.campaign_id))
        .where(LOG.c.customer_id.in_(customer_ids), is_touch(),
               touched <= last,
               touched >= first - timedelta(hours=max(window_hours().values())))).all()
    out: dict[int, list[Any]] = {}
    for r in sorted(rows, key=lambda r: (r.at, r.id), reverse=True):
        out.setdefault(r.customer_id, []).append(r)
    return out


def last_touch(touches: list[Any], ordered_at: datetime, windows: dict[str, timedelta]
               ) -> Any | None:
    """The touch that gets an order placed at `ordered_at`: the latest of `touches`
    (sorted latest first) with at <= ordered_at < at + window(channel); None if none."""
    for t in touches:
        if t.at is None or t.at > ordered_at:
            continue
        # The rows are latest first: the first touch inside its window wins; an older
        # one may still qualify when a newer touch's (shorter) window has closed.
        if ordered_at - t.at < windows.get(t.channel, windows["sms"]):
            return t
    return None


def _attribute(session: Session, order_filter: sa.ColumnElement[bool],
               now: datetime | None) -> int:
    now = now or utcnow()
    # Four statements per batch, each an index lookup whatever the table sizes: the
    # batch's orders (by external id or id), the DELETE of their conversion rows (by
    # order_id), the touches of their customers (by customer_id) and one multi-row
    # INSERT. Last touch is picked here. (Earlier versions did it in SQL, one correlated
    # subquery per order plus a DELETE joining "order": both cost more per batch the
    # more rows the tables held; see docs/performance.md.)
    orders = session.execute(
        sa.select(ORDER.c.id, ORDER.c.customer_id, ORDER.c.amount, ORDER.c.ordered_at,
                  ORDER.c.status).where(order_filter)).all()
    if not orders:
        return 0
    session.execute(CONVERSION.delete().where(
        CONVERSION.c.order_id.in_(sorted(o.id for o in orders))))
    counted = [o for o in orders if o.status not in OrderStatus.NOT_COUNTED]
    if not counted:
        return 0
    touches = _touches(session, sorted({o.customer_id for o in counted}),
                       min(o.ordered_at for o in counted), max(o.ordered_at for o in counted))
    windows = {name: timedelta(hours=h) for name, h in window_hours().items()}
    picked = [(o, t) for o in counted
              if (t := last_touch(touches.get(o.customer_id, []), o.ordered_at, windows))]
    if not picked:
        return 0
    rows = [{"order_id": o.id, "campaign_id": t.campaign_id, "log_id": t.id,
             "customer_id": o.customer_id, "amount": o.amount, "ordered_at": o.ordered_at,
             "attributed_at": now, "holdout": t.status == DeliveryStatus.HOLDOUT,
             "variant": t.variant} for o, t in picked]
    session.execute(CONVERSION.insert(), rows)
    return len(picked)


def attribute_orders(session: Session, order_external_ids: Sequence[str],
                     now: datetime | None = None) -> int:
    """(Re)attribute the orders with these external ids, in the caller's transaction.

    Four set-based statements whatever the batch size (up to ingest_max_items ids):
    the orders are read, their conversion rows deleted, their customers' touches read and
    each order's last touch inserted. Returns how many of them are conversions now.
    """
    if not order_external_ids:
        return 0
    return _attribute(session, ORDER.c.external_id.in_(list(order_external_ids)), now)


def attribute_order_ids(session: Session, order_ids: Sequence[int],
                        now: datetime | None = None) -> int:
    """The same for order primary keys (repairs, benchmarks)."""
    if not order_ids:
        return 0
    return _attribute(session, ORDER.c.id.in_(list(order_ids)), now)

"""Cursor-paginated reads of customers and orders for the API."""

from __future__ import annotations

import base64
from typing import Any

from sqlmodel import Session, select

from mini_crm.core import contacts
from mini_crm.core.brand_time import utc_text
from mini_crm.core.consent import consent_of, suppressed_channels
from mini_crm.core.ingestion.schemas import normalise_external_id
from mini_crm.models import Customer, Order

MAX_LIMIT = 500
# Ids are 32-bit on every supported database (api/campaign_schemas.MAX_ID): a cursor past
# that names no row, and a larger number overflows the database driver (a 500).
MAX_CURSOR_ID = 2_147_483_647


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The id a cursor from `encode_cursor` points past; 0 for none. ValueError (the
    message for the user) for anything else, an id outside 0..MAX_CURSOR_ID included."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "id" or not (value.isascii() and value.isdigit()) or len(value) > 10 \
                or int(value) > MAX_CURSOR_ID:
            raise ValueError
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("cursor (in the address) is not one this API gave out: pass "
                         "back the next_cursor of the previous page") from exc


def customer_json(c: Customer, suppressed: dict[str, bool]) -> dict[str, Any]:
    """The API's customer: `suppressed` ({channel: bool}, from consent.suppressed_channels)
    says which of its addresses are on the suppression list."""
    return {
        "external_id": c.external_id, "name": c.name, "email": c.email, "phone": c.phone,
        "phone_type": c.phone_type, "sms_reachable": bool(c.phone)
        and contacts.sms_reachable(c.phone_type),
        "city": c.city, "attributes": c.attributes, "is_stub": c.is_stub,
        "consent": consent_of(c), "suppressed": suppressed,
        "created_at": utc_text(c.created_at), "updated_at": utc_text(c.updated_at),
        "stats": {"total_spend": str(c.total_spend), "order_count": c.order_count,
                  "first_order_at": utc_text(c.first_order_at),
                  "last_order_at": utc_text(c.last_order_at)},
    }


def order_json(o: Order, customer_external_id: str) -> dict[str, Any]:
    return {"external_id": o.external_id, "customer_external_id": customer_external_id,
            "amount": str(o.amount), "currency": o.currency, "status": o.status,
            "ordered_at": utc_text(o.ordered_at), "items": o.items}


def stored_id(external_id: str) -> str | None:
    """A path's id read as a body's is (schemas.normalise_external_id: " t-1 " is t-1);
    None when it holds a control character, which no stored id can."""
    try:
        return normalise_external_id(external_id)
    except ValueError:
        return None


def get_customer(session: Session, external_id: str) -> Customer | None:
    """The customer with this id (read as stored ids are), or None."""
    if (key := stored_id(external_id)) is None:
        return None
    return session.exec(select(Customer).where(Customer.external_id == key)).first()


def get_order(session: Session, external_id: str) -> tuple[Order, str] | None:
    """The order and its customer's external id, or None."""
    if (key := stored_id(external_id)) is None:
        return None
    row = session.exec(select(Order, Customer.external_id)
                       .join(Customer, Customer.id == Order.customer_id)
                       .where(Order.external_id == key)).first()
    return (row[0], row[1]) if row else None


def list_customers(session: Session, cursor: str | None, limit: int) -> dict[str, Any]:
    after = decode_cursor(cursor)
    limit = max(1, min(limit, MAX_LIMIT))
    rows = session.exec(select(Customer).where(Customer.id > after).order_by(Customer.id)
                        .limit(limit + 1)).all()
    page = rows[:limit]
    suppressed = suppressed_channels(session, list(page))
    return {"items": [customer_json(c, suppressed[int(c.id)]) for c in page],  # type: ignore[arg-type]
            "next_cursor": encode_cursor(page[-1].id) if len(rows) > limit else None}


def list_orders(session: Session, cursor: str | None, limit: int,
                customer_external_id: str | None = None) -> dict[str, Any]:
    after = decode_cursor(cursor)
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = (select(Order, Customer.external_id).join(Customer, Customer.id == Order.customer_id)
            .where(Order.id > after).order_by(Order.id).limit(limit + 1))
    if customer_external_id:
        stmt = stmt.where(Customer.external_id == customer_external_id)
    rows = session.exec(stmt).all()
    page = rows[:limit]
    return {"items": [order_json(o, ext) for o, ext in page],
            "next_cursor": encode_cursor(page[-1][0].id) if len(rows) > limit else None}

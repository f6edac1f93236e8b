"""Planted data for the AI feature tests: bulk inserts of customers, orders, logs."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.models import Campaign, CommunicationLog, Customer, Order, utcnow


def add_customers(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert customers (keys: any Customer column); returns their ids in order."""
    now = utcnow()
    full = []
    for r in rows:
        spend = Decimal(str(round(r.get("total_spend", 0), 2)))
        full.append({"name": None, "email": None, "phone": None, "city": None,
                     "attributes": {}, "is_stub": False,
                     "created_at": now, "updated_at": now, "order_count": 0,
                     "first_order_at": None, "last_order_at": None, **r, "total_spend": spend})
    session.execute(sa.insert(Customer), full)
    session.commit()
    ids = dict(session.execute(sa.select(Customer.external_id, Customer.id).where(
        Customer.external_id.in_([r["external_id"] for r in rows]))).all())
    return [ids[r["external_id"]] for r in rows]


def add_orders(session: Session, rows: list[tuple[int, datetime, float]],
               prefix: str = "o") -> None:
    """Orders (customer id, ordered_at naive UTC, amount); stats are not recomputed."""
    session.execute(sa.insert(Order), [
        {"external_id": f"{prefix}{i}", "customer_id": cid, "amount": Decimal(str(amount)),
         "currency": "INR", "status": "completed", "ordered_at": at, "items": None,
         "created_at": at, "updated_at": at} for i, (cid, at, amount) in enumerate(rows)])
    session.commit()


def add_campaign(session: Session, name: str, *, created_at: datetime | None = None,
                 channel: str = "sms", status: str = "completed") -> Campaign:
    at = created_at or utcnow()
    campaign = Campaign(name=name, rules={"combinator": "and", "rules": []}, channel=channel,
                        message_template="Hi {name}", status=status, created_at=at,
                        started_at=at, audience_size=0)
    session.add(campaign)
    session.commit()
    return campaign


def add_logs(session: Session, campaign_id: int, rows: list[tuple[int, str]],
             error: str | None = None) -> None:
    """Log rows (customer id, status) for one campaign."""
    now = utcnow()
    session.execute(sa.insert(CommunicationLog), [
        {"campaign_id": campaign_id, "customer_id": cid, "message": "Hi", "status": status,
         "vendor_message_id": None, "attempts": 1,
         "error": error if status in ("failed", "undelivered") else None,
         "claimed_at": None, "created_at": now, "sent_at": now,
         "delivered_at": now if status == "delivered" else None, "updated_at": now}
        for cid, status in rows])
    session.commit()


def days_ago(now: datetime, days: float) -> datetime:
    return now - timedelta(days=days)

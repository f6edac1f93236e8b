"""A customer's messages (the customer page's list) on every database."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.core.campaigns import reports
from mini_crm.models import Campaign, CommunicationLog, DeliveryStatus, utcnow
from tests.integration.campaign_helpers import add_customers


def test_a_customers_messages_newest_first_with_campaign_and_status(
        session: Session, engine: sa.Engine) -> None:
    me, other = add_customers(engine, 2)
    now = utcnow()
    for i, (status, sent) in enumerate([(DeliveryStatus.DELIVERED, now - timedelta(days=2)),
                                        (DeliveryStatus.FAILED, None)]):
        c = Campaign(name=f"Campaign {i}", rules={}, message_template="Hi", channel="sms",
                     status="completed")
        session.add(c)
        session.flush()
        session.add(CommunicationLog(campaign_id=c.id, customer_id=me, status=status,
                                     sent_at=sent, created_at=now - timedelta(days=1),
                                     error="no phone number" if sent is None else None))
        session.add(CommunicationLog(campaign_id=c.id, customer_id=other, status=status,
                                     created_at=now))
    session.commit()
    rows = reports.customer_messages(session, "c-Pune-0")
    assert [(r["campaign"], r["status"]) for r in rows] == [
        ("Campaign 1", "failed"), ("Campaign 0", "delivered")]
    assert rows[0]["error"] == "no phone number" and rows[1]["channel"] == "sms"
    assert reports.customer_messages(session, "c-Pune-0", limit=1)[0]["campaign"] == \
        "Campaign 1"
    assert reports.customer_messages(session, "nobody") == []

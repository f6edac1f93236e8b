"""A planted outcome world for the attribution, uplift and report tests: customers,
campaigns and log rows written directly (send times chosen by the test), orders through
the real ingestion path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from mini_crm.core.ingestion.schemas import OrderIn
from mini_crm.core.ingestion.upsert import ingest_orders
from mini_crm.models import Campaign, CommunicationLog, Conversion, Customer

CUSTOMER = Customer.__table__
CAMPAIGN = Campaign.__table__
LOG = CommunicationLog.__table__
CONVERSION = Conversion.__table__
T0 = datetime(2026, 3, 2, 10, 0, 0)


def customers(engine: sa.Engine, names: list[str]) -> dict[str, int]:
    now = T0 - timedelta(days=400)
    with engine.begin() as conn:
        conn.execute(CUSTOMER.insert(), [{
            "external_id": n, "name": n, "city": "Pune", "attributes": {}, "is_stub": False,
            "created_at": now, "updated_at": now,
            "total_spend": 0, "order_count": 0} for n in names])
        rows = conn.execute(sa.select(CUSTOMER.c.external_id, CUSTOMER.c.id)
                            .where(CUSTOMER.c.external_id.in_(names))).all()
    return {e: i for e, i in rows}


def campaign(engine: sa.Engine, name: str, channel: str, started: datetime,
             holdout_percent: int = 0) -> int:
    with engine.begin() as conn:
        return int(conn.execute(CAMPAIGN.insert().values(
            name=name, rules={"combinator": "and", "rules": []}, channel=channel,
            message_template="Hi {name}", tags=[], status="completed", started_at=started,
            completed_at=started, audience_size=0, holdout_percent=holdout_percent,
            created_at=started)).inserted_primary_key[0])


def log_rows(engine: sa.Engine, campaign_id: int,
             rows: list[tuple[int, str, datetime | None]], launched: datetime,
             variant: str | None = None) -> list[int]:
    """(customer_id, status, sent_at) per row; created_at is the launch time."""
    with engine.begin() as conn:
        conn.execute(LOG.insert(), [{
            "campaign_id": campaign_id, "customer_id": cid, "status": status,
            "sent_at": sent, "attempts": 1 if sent else 0, "created_at": launched,
            "updated_at": launched, "variant": variant} for cid, status, sent in rows])
        ids = conn.execute(sa.select(LOG.c.id).where(LOG.c.campaign_id == campaign_id)
                           .order_by(LOG.c.id)).scalars().all()
    return list(ids)


def order(ext: str, customer: str, at: datetime, amount: str = "100.00",
          status: str = "completed") -> OrderIn:
    # Explicitly UTC: an offset-less time would be read in BRAND_TIMEZONE.
    return OrderIn(external_id=ext, customer_external_id=customer, amount=Decimal(amount),
                   status=status, ordered_at=at.replace(tzinfo=UTC))


def send_orders(engine: sa.Engine, *orders: OrderIn) -> None:
    ingest_orders(list(orders), engine)


def conversions(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    """order external id -> its conversion row."""
    order_t = sa.table("order", sa.column("id"), sa.column("external_id"))
    with engine.connect() as conn:
        rows = conn.execute(sa.select(order_t.c.external_id, CONVERSION)
                            .join_from(CONVERSION, order_t,
                                       order_t.c.id == CONVERSION.c.order_id)).all()
    return {r.external_id: dict(r._mapping) for r in rows}

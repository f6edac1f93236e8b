"""The delivery cost floor: the same rows through the same statuses by bare SQL.

What a campaign cannot avoid on any design: each row inserted once (queued), claimed
(claimed_at, attempts), marked sent (vendor id, the message text, sent_at) and moved by
its receipt (delivered or undelivered, found by vendor id) — four row versions, written
set-based, one statement per batch of the campaign's batch size per step, with the
pipeline's own commit settings (delivery commits without waiting for the WAL flush on
PostgreSQL; receipts wait). No rendering, no HTTP, no queue, no Python per row beyond
building the receipt's id list. Its CPU (the run's database backends plus this client)
per message, plus the vendor simulator's own CPU per message, is the floor the
pipeline's CPU per message is divided by.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlmodel import Session

from bench.common import DatabaseCpu
from mini_crm.models import Campaign, CommunicationLog, Customer, utcnow

LOG = CommunicationLog.__table__
CUSTOMER = Customer.__table__
# The same length as the bench's rendered messages ("Hi Customer 123, your 1,123.00 ...").
MESSAGE = "Hi Customer 12345, your 1,234.00 of orders in Pune earned a voucher"


def run(engine: sa.Engine, db_cpu: DatabaseCpu, batch: int, delivered_ratio: float
        ) -> dict[str, float]:
    """Move every customer through the four statuses; returns seconds of wall time and CPU
    (database backends, this process) per step, and the row count as `rows`."""
    now = utcnow()
    with Session(engine) as session:
        campaign = Campaign(name="floor", message_template=MESSAGE, channel="sms",
                            status="sending")
        session.add(campaign)
        session.commit()
        campaign_id = campaign.id
    out: dict[str, float] = {}
    with engine.connect() as conn:  # one connection: its backend is the database's cost
        conn.exec_driver_sql("SELECT 1")
        conn.commit()
        db_cpu.reset()
        pg = conn.dialect.name == "postgresql"

        def step(name: str, work: Callable[[], None]) -> None:
            cpu0, wall0, db0 = time.process_time(), time.perf_counter(), db_cpu.total()
            work()
            out[f"{name}_wall"] = time.perf_counter() - wall0
            out[f"{name}_db_cpu"] = db_cpu.total() - db0
            out[f"{name}_client_cpu"] = time.process_time() - cpu0

        def insert() -> None:
            stamp = sa.literal(now, LOG.c.created_at.type)
            conn.execute(LOG.insert().from_select(
                ["campaign_id", "customer_id", "status", "attempts", "created_at",
                 "updated_at"],
                sa.select(sa.literal(campaign_id, sa.Integer), CUSTOMER.c.id,
                          sa.literal("queued"), sa.literal(0, sa.Integer), stamp, stamp)))
            conn.commit()

        step("insert", insert)
        first, last = conn.execute(sa.select(sa.func.min(LOG.c.id), sa.func.max(LOG.c.id))
                                   .where(LOG.c.campaign_id == campaign_id)).one()
        conn.commit()
        ranges = [(a, min(a + batch - 1, last)) for a in range(first, last + 1, batch)]
        in_range = [(LOG.c.campaign_id == campaign_id, LOG.c.id.between(a, b))
                    for a, b in ranges]

        def fast_commit() -> None:
            if pg:
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")

        def claim() -> None:
            for where in in_range:
                fast_commit()
                conn.execute(LOG.update().where(*where, LOG.c.status == "queued")
                             .values(claimed_at=now, attempts=LOG.c.attempts + 1,
                                     updated_at=now))
                conn.commit()

        def mark() -> None:
            for where in in_range:
                fast_commit()
                conn.execute(LOG.update().where(*where, LOG.c.status == "queued")
                             .values(status="sent", message=MESSAGE, sent_at=now,
                                     updated_at=now,
                                     vendor_message_id=sa.literal("f-") + sa.cast(
                                         LOG.c.id, sa.String)))
                conn.commit()

        def receipts() -> None:
            for a, b in ranges:
                ids = [f"f-{i}" for i in range(a, b + 1)]
                cut = round(len(ids) * delivered_ratio)
                for status, chunk in (("delivered", ids[:cut]), ("undelivered", ids[cut:])):
                    if chunk:
                        conn.execute(LOG.update().where(LOG.c.vendor_message_id.in_(chunk),
                                                        LOG.c.status.in_(("queued", "sent")))
                                     .values(status=status, delivered_at=now,
                                             updated_at=now))
                conn.commit()

        step("claim", claim)
        step("mark", mark)
        step("receipt", receipts)
        out["rows"] = conn.execute(sa.select(sa.func.count()).where(
            LOG.c.campaign_id == campaign_id, LOG.c.status.in_(("delivered", "undelivered")))
        ).scalar_one()
        conn.commit()
    return out

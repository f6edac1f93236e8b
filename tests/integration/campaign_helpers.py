"""Shared pieces for the campaign tests: bulk customers, a fake vendor, waiting."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from mini_crm.core.delivery.vendors import OutgoingMessage, SendResult, TransientVendorError
from mini_crm.models import Campaign, CommunicationLog, Customer, utcnow

CUSTOMER = Customer.__table__
LOG = CommunicationLog.__table__


def add_customers(engine: sa.Engine, n: int, *, city: str = "Pune", start: int = 0,
                  **overrides: Any) -> list[int]:
    now = utcnow()
    rows = [{"external_id": f"c-{city}-{start + i}", "name": f"Customer {start + i}",
             "email": f"c{start + i}@example.in", "phone": f"+9190000{start + i:05d}",
             "city": city, "attributes": {}, "is_stub": False,
             "created_at": now, "updated_at": now, "total_spend": Decimal("1500.00"),
             "order_count": 2, **overrides} for i in range(n)]
    with engine.begin() as conn:
        conn.execute(CUSTOMER.insert(), rows)
        ids = conn.execute(sa.select(CUSTOMER.c.id).where(CUSTOMER.c.city == city)
                           .order_by(CUSTOMER.c.id)).scalars().all()
    return list(ids)[-n:]


def city_rules(city: str) -> dict[str, Any]:
    return {"combinator": "and", "rules": [{"field": "city", "operator": "=", "value": city}]}


class FakeVendor:
    """Accepts messages like the contract's vendor: dedupes by idempotency key."""

    def __init__(self, *, reject: Callable[[OutgoingMessage], str | None] | None = None,
                 fail_calls: int = 0, retry_after: float | None = None) -> None:
        self.lock = threading.Lock()
        self.accepted: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        self.ids: dict[str, str] = {}
        self.calls = 0
        self.fail_calls = fail_calls
        self.retry_after = retry_after
        self.reject = reject
        self.bodies: dict[str, str] = {}

    name = "fake"

    def send(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        with self.lock:
            self.calls += 1
            if self.fail_calls > 0:
                self.fail_calls -= 1
                raise TransientVendorError("503 from fake vendor", self.retry_after)
            out = []
            for m in messages:
                key = m.idempotency_key
                self.received[key] += 1
                problem = self.reject(m) if self.reject else None
                if problem:
                    out.append(SendResult(key, None, "rejected", problem))
                    continue
                if key not in self.ids:
                    self.ids[key] = f"v-{key}"
                    self.accepted[key] += 1
                    self.bodies[key] = m.body
                out.append(SendResult(key, self.ids[key], "accepted"))
            return out


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, step: float = 0.05) -> None:
    """Poll until `predicate()` holds; AssertionError after `timeout` seconds, stretched
    by the machine's load per core (at least 1x): the workers these tests wait for are
    real processes, and at a load of 20 on 2 cores their start alone took most of a 20 s
    window (helpers beside a CI run, stop 21). A test that passes returns as soon as the
    condition holds, so the stretch costs nothing; it only waits longer before failing."""
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    deadline = time.monotonic() + timeout * min(max(1.0, load), 6.0)
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError("condition not met in time")


def campaign_status(engine: sa.Engine, campaign_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.select(Campaign.__table__.c.status)
                            .where(Campaign.__table__.c.id == campaign_id)).scalar_one()


def status_counts(engine: sa.Engine, campaign_id: int) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(LOG.c.status, sa.func.count())
                            .where(LOG.c.campaign_id == campaign_id)
                            .group_by(LOG.c.status)).all()
    return {s: int(n) for s, n in rows}


def add_history(engine: sa.Engine, campaign_id: int, customer_ids: list[int],
                created_at: datetime, status: str = "sent") -> None:
    with engine.begin() as conn:
        conn.execute(LOG.insert(), [{"campaign_id": campaign_id, "customer_id": c,
                                     "status": status, "attempts": 1,
                                     "created_at": created_at, "updated_at": created_at}
                                    for c in customer_ids])

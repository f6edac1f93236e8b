"""Realistic demo data: customers and two years of orders, streamed into the database in bulk.

What the data looks like, so every screen and AI feature has something real to find:
- Indian names from many regions, matching cities (weighted by size), emails derived from the
  names, +91 mobile numbers, custom `attributes` (gender, age_band, loyalty_tier,
  preferred_channel, acquisition_source, language, state, app_installed, birthday_month);
- personas that behave differently: loyal high spenders, regulars, bargain hunters who buy in
  sales, festive-only shoppers, lapsed customers (nothing in the last six months and more), new
  signups with zero or one order, and people who never ordered;
- orders over the last two years with a weekly rhythm (weekends busier), a daily rhythm (evening
  peak, each customer with a habitual hour), seasonal peaks (Diwali, end-of-season sales,
  Valentine's, Holi, Raksha Bandhan, Independence Day sales, Christmas), and a small share of
  cancelled or refunded orders, which do not count towards a customer's stats.

Behaviour happens in India Standard Time; timestamps are stored as naive UTC like everything else
in the schema, so an evening peak at 21:00 IST is stored at 15:30 UTC.

Rows go in with Core `insert()` executemany, one transaction per chunk of customers, so memory
stays bounded whatever N is. Every customer gets its own random stream derived from
(random_seed, customer number), which makes the output independent of the chunk size and
identical for the same seed and `now`. A later run continues the numbering of external ids, so
it adds new people instead of colliding with (or duplicating) earlier ones.

The pieces: `personas` (who shops how), `shopping_calendar` (which days sell),
`people` (names, cities, contact details), `shoppers` (one customer and their orders);
this module numbers them and streams them into the database.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from mini_crm.core import suppression
from mini_crm.core.contacts import ADDRESS_FIELD
from mini_crm.core.contacts import CHANNELS as MESSAGE_CHANNELS
from mini_crm.db import get_engine
from mini_crm.demo.personas import persona_cycle
from mini_crm.demo.shoppers import (
    EXTERNAL_ID_DIGITS,
    EXTERNAL_ID_PREFIX,
    GeneratedCustomer,
    generate_customer,
)
from mini_crm.demo.shopping_calendar import build_calendar
from mini_crm.models import Customer, Order, utcnow

ORDER_INSERT_BATCH = 5000
DEFAULT_CHUNK_SIZE = 1000

CUSTOMER_TABLE: sa.Table = Customer.__table__  # type: ignore[assignment]
ORDER_TABLE: sa.Table = Order.__table__  # type: ignore[assignment]
T = TypeVar("T")


def is_empty(session: Session) -> bool:
    """True when the database has no customers yet."""
    return session.execute(sa.select(CUSTOMER_TABLE.c.id).limit(1)).first() is None


def next_customer_number(conn: Connection) -> int:
    """One past the highest demo external id already stored, so runs never collide."""
    ext = CUSTOMER_TABLE.c.external_id
    pattern = EXTERNAL_ID_PREFIX + "_" * EXTERNAL_ID_DIGITS
    id_shape = re.compile(rf"{re.escape(EXTERNAL_ID_PREFIX)}(\d{{{EXTERNAL_ID_DIGITS}}})")
    # Fixed-width numbers sort as strings; a few rows cover stray ids of the same shape.
    rows = conn.execute(sa.select(ext).where(ext.like(pattern)).order_by(ext.desc()).limit(50))
    for (value,) in rows:
        match = id_shape.fullmatch(value)
        if match:
            return int(match.group(1)) + 1
    return 1


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert_chunk(conn: Connection, generated: list[GeneratedCustomer]) -> None:
    conn.execute(sa.insert(CUSTOMER_TABLE), [g.row for g in generated])
    # Opted-out addresses go on the suppression list, as a real opt-out would put them.
    suppression.insert_missing(conn, [
        (g.row[ADDRESS_FIELD[channel]], channel)
        for g in generated for channel in MESSAGE_CHANNELS
        if not g.row[f"consent_{channel}"] and g.row[ADDRESS_FIELD[channel]]],
        source="seed", reason="opted out (demo data)")
    ext = CUSTOMER_TABLE.c.external_id
    ids = dict(
        conn.execute(
            sa.select(ext, CUSTOMER_TABLE.c.id).where(
                ext.in_([g.row["external_id"] for g in generated])
            )
        )
        .tuples()
        .all()
    )
    order_rows = [
        {**order, "customer_id": ids[g.row["external_id"]]} for g in generated for order in g.orders
    ]
    for batch in _batches(order_rows, ORDER_INSERT_BATCH):
        conn.execute(sa.insert(ORDER_TABLE), list(batch))


@dataclass
class SeedResult:
    customers: int = 0
    orders: int = 0
    counted_orders: int = 0
    revenue: Decimal = Decimal(0)
    first_external_id: str = ""
    last_external_id: str = ""
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"seeded {self.customers:,} customers and {self.orders:,} orders "
            f"({self.counted_orders:,} counted, INR {self.revenue:,.0f} revenue) "
            f"as {self.first_external_id}..{self.last_external_id} "
            f"in {self.seconds:.1f}s"
        )


def seed_database(
    engine: Engine,
    customers: int,
    random_seed: int = 7,
    *,
    now: datetime | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[str], None] | None = None,
) -> SeedResult:
    """Generate and insert `customers` demo customers with their orders, chunk by chunk."""
    if customers < 1:
        raise ValueError(f"customers must be at least 1, got {customers}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    started = time.perf_counter()
    now = (now or utcnow()).replace(microsecond=0)
    cal = build_calendar(now)
    cycle = persona_cycle(random_seed)
    with engine.connect() as conn:
        first_number = next_customer_number(conn)
    result = SeedResult()
    for chunk_start in range(0, customers, chunk_size):
        numbers = range(
            first_number + chunk_start, first_number + min(customers, chunk_start + chunk_size)
        )
        generated = [
            generate_customer(n, cycle[(n - 1) % len(cycle)], cal, now, random_seed)
            for n in numbers
        ]
        try:
            with engine.begin() as conn:
                _insert_chunk(conn, generated)
        except sa.exc.IntegrityError as exc:
            raise RuntimeError(
                f"seeding stopped: customers {generated[0].row['external_id']}.."
                f"{generated[-1].row['external_id']} conflict with rows already stored (is "
                "another seed running at the same time?); earlier chunks were kept and a new "
                f"run continues after them. Database said: {exc.orig}"
            ) from exc
        for g in generated:
            result.orders += len(g.orders)
            result.counted_orders += g.row["order_count"]
            result.revenue += g.row["total_spend"]
        result.customers += len(generated)
        if not result.first_external_id:
            result.first_external_id = generated[0].row["external_id"]
        result.last_external_id = generated[-1].row["external_id"]
        if progress is not None:
            progress(
                f"  {result.customers:,}/{customers:,} customers, "
                f"{result.orders:,} orders ({time.perf_counter() - started:.1f}s)"
            )
    result.seconds = time.perf_counter() - started
    return result


def seed(
    customers: int = 2000,
    random_seed: int = 7,
    progress: Callable[[str], None] | None = None,
    *,
    engine: Engine | None = None,
    now: datetime | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> str:
    """Seed demo data (into the app's database unless `engine` is given); a one-line summary."""
    return seed_database(
        engine or get_engine(),
        customers,
        random_seed,
        now=now,
        chunk_size=chunk_size,
        progress=progress,
    ).summary()

"""Cancelled and refunded orders as platforms spell them do not count (a fresh user's
`canceled` order was added to the customer's spend), on every database: on ingest, and
for rows stored before, by migration 0011."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mini_crm import migrations
from mini_crm.core.ingestion.schemas import OrderIn
from mini_crm.core.ingestion.upsert import ingest_orders
from mini_crm.db import create_db_engine
from mini_crm.models import Customer
from tests.databases import DIALECTS, fresh_database

STATUSES = {"completed": True, "Shipped": True, "CANCELED": False, "voided": False,
            "failed": False, "returned": False, "cancelled": False, "refunded": False}


def _orders() -> list[OrderIn]:
    return [OrderIn(external_id=f"o-{i}", customer_external_id="asha", amount="100.00",
                    status=status, ordered_at=f"2026-03-{i + 1:02d}T10:00:00+05:30")
            for i, status in enumerate(STATUSES)]


def test_ingest_counts_only_orders_that_were_sales(app_settings: sa.Engine) -> None:
    ingest_orders(_orders(), app_settings)
    with Session(app_settings) as s:
        asha = s.exec(select(Customer).where(Customer.external_id == "asha")).one()
    assert (Decimal(asha.total_spend), asha.order_count) == (Decimal("200.00"), 2)
    assert asha.last_order_at == datetime(2026, 3, 2, 4, 30)  # the shipped one


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_migration_0011_recounts_stored_orders(dialect_name: str, tmp_path: Path) -> None:
    with fresh_database(dialect_name, tmp_path) as url:
        migrations.upgrade(url, "0010_phone_type")
        engine = create_db_engine(url)
        try:
            now = datetime(2026, 3, 1)
            with engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO customer (id, external_id, is_stub, created_at, updated_at, "
                    "total_spend, order_count, attributes, consent_sms, consent_email, "
                    "consent_whatsapp) VALUES (1, 'asha', false, :now, :now, 300, 3, '{}', "
                    "true, true, true)"), {"now": now})
                order = sa.table("order", *(sa.column(c) for c in (
                    "id", "external_id", "customer_id", "amount", "currency", "status",
                    "ordered_at", "created_at", "updated_at")))  # quoted per dialect
                conn.execute(order.insert(), [
                    {"id": i + 1, "external_id": f"o{i}", "customer_id": 1, "amount": 100,
                     "currency": "INR", "status": status, "ordered_at": datetime(2026, 3, 1 + i),
                     "created_at": now, "updated_at": now}
                    for i, status in enumerate(["completed", "canceled", "returned"])])
            migrations.upgrade(url, "head")
            with engine.connect() as conn:
                row = conn.execute(sa.text(
                    "SELECT total_spend, order_count, last_order_at FROM customer")).one()
            # SQLite hands a raw query's timestamp back as text.
            assert (Decimal(row[0]), row[1], str(row[2])[:19]) == (
                Decimal("100.00"), 1, "2026-03-01 00:00:00")
        finally:
            engine.dispose()

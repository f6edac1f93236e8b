"""The one schema migrates from empty, round-trips every table and downgrades on all DBs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from mini_crm import migrations
from mini_crm.db import create_db_engine
from mini_crm.models import (
    ApiKey,
    AuditEvent,
    Campaign,
    CommunicationLog,
    Conversion,
    Customer,
    ImportJob,
    ImportRowError,
    Order,
    ReceiptRetry,
    Segment,
    SegmentTerm,
    Suppression,
    User,
    UserSession,
    segment_name_key,
)
from tests.databases import DIALECTS, fresh_database

WHEN = datetime(2025, 3, 4, 5, 6, 7, 891011)


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_migrate_twice_then_downgrade_to_empty(dialect_name: str, tmp_path: Path) -> None:
    with fresh_database(dialect_name, tmp_path) as url:
        migrations.upgrade(url)
        migrations.upgrade(url)  # safe to run twice: nothing pending the second time
        engine = create_db_engine(url)
        tables = set(sa.inspect(engine).get_table_names())
        assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables
        migrations.downgrade(url, "base")
        left = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
        engine.dispose()
        assert left == set()


def _all_rows() -> list[SQLModel]:
    user = User(id=1, email="asha@example.com", name="Asha Rao", role="admin")
    customer = Customer(
        id=1, external_id="c-1", name="Zoë Ñáñez 李", email="zoe@example.in",
        email_key="zoe@example.in", phone="+91 98200 00000",
        city="Pune", attributes={"tier": "gold", "tags": ["a", "b"]},
        total_spend=Decimal("12345.67"), order_count=2, first_order_at=WHEN, last_order_at=WHEN,
    )
    return [
        user,
        customer,
        Order(id=1, external_id="o-1", customer_id=1, amount=Decimal("99999999.99"),
              ordered_at=WHEN, items=[{"sku": "TEA-1", "qty": 2}]),
        Segment(id=1, name="Big spenders", rules={"combinator": "and", "rules": []}, created_by=1,
                name_key=segment_name_key("Big spenders")),
        Campaign(id=1, name="Diwali", message_template="Hi {name}", segment_id=1,
                 tags=["festive"], created_by=1, scheduled_at=WHEN),
        CommunicationLog(id=1, campaign_id=1, customer_id=1, message="Hi Zoë",
                         vendor_message_id="v-1", variant="B"),
        Conversion(id=1, order_id=1, campaign_id=1, log_id=1, customer_id=1,
                   amount=Decimal("99999999.99"), ordered_at=WHEN, attributed_at=WHEN,
                   holdout=True, variant="B"),
        UserSession(id=1, token_hash="a" * 64, user_id=1, expires_at=WHEN),
        ApiKey(id=1, name="shop", prefix="mc_abcd", key_hash="b" * 64, scopes=["ingest", "read"]),
        AuditEvent(id=1, actor_user_id=1, action="signin", details={"ip": "127.0.0.1"}),
        Suppression(id=1, address="+919820000000", channel="sms", reason="texted STOP",
                    source="inbound", created_by=1),
        ReceiptRetry(id=1, vendor_message_id="v-2", status="failed", error="mailbox full",
                     at="2026-11-30T01:00:00+00:00", tries=3, due_at=WHEN),
        ImportJob(id="f" * 32, kind="orders", file_name="Bestellungen ü.csv",
                  path="/data/imports/x.csv", encoding="cp1252", delimiter=";",
                  mapping={"fields": {"amount": "Betrag"}, "ignore": ["Notiz"]},
                  bytes_total=5 * 1024**3, bytes_read=3 * 1024**3, row_count=7,
                  heartbeat_at=WHEN, created_by=1),
        ImportRowError(id=1, import_id="f" * 32, row_no=3, field="amount",
                       message="'5.000,00' is ambiguous " + "x" * 3000),
        SegmentTerm(key="vip", rules={"combinator": "and", "not": False, "rules": [
            {"field": "total_spend", "operator": ">=", "value": 100000}]},
                    description="₹1 lakh or more — “Diwali” list", updated_by=1,
                    updated_at=WHEN),
    ]


def _insert(engine: sa.Engine, rows: list[SQLModel]) -> None:
    # No ORM relationships are declared, so flush in foreign-key order ourselves.
    with Session(engine) as s:
        for row in rows:
            s.add(row)
            s.flush()
        s.commit()


def test_every_table_round_trips(engine: sa.Engine) -> None:
    rows = _all_rows()
    expected = [r.model_dump() for r in rows]
    _insert(engine, rows)
    with Session(engine) as s:
        for row, want in zip(rows, expected, strict=True):
            got = s.get(type(row), want.get("id", want.get("key")))
            assert got is not None, type(row).__name__
            assert got.model_dump() == want, type(row).__name__
    assert len(rows) == len(SQLModel.metadata.tables)


def test_one_log_row_per_campaign_and_customer(engine: sa.Engine) -> None:
    _insert(engine, _all_rows())
    with Session(engine) as s:
        s.add(CommunicationLog(campaign_id=1, customer_id=1))
        with pytest.raises(IntegrityError):
            s.commit()


def test_external_ids_are_unique(engine: sa.Engine) -> None:
    with Session(engine) as s:
        s.add(Customer(external_id="dup"))
        s.commit()
        s.add(Customer(external_id="dup"))
        with pytest.raises(IntegrityError):
            s.commit()
        s.rollback()
        assert len(s.exec(select(Customer)).all()) == 1

"""Migration 0002 on data written by the 0001 schema, on every database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from mini_crm import migrations
from mini_crm.db import create_db_engine
from tests.databases import DIALECTS, fresh_database

NOW = datetime(2026, 1, 2, 3, 4, 5)
OLD_CUSTOMER = sa.table(
    "customer", *(sa.column(c) for c in (
        "id", "external_id", "name", "email", "phone", "city", "is_stub", "unsubscribed",
        "created_at", "updated_at", "total_spend", "order_count")),
    sa.column("attributes", sa.JSON))
ROWS = [
    # id, name, email, phone, city, unsubscribed, attributes
    (1, "Asha", "Asha.Rao@Example.in", "+91 98765 43210", "Pune", True, {"tier": "gold"}),
    (2, "   ", "", "  ", "\t", False, {}),
    (3, "Ravi", "ravi@@example.in", "call me", "Delhi", False, {}),
    (4, "Meera", " MEERA@example.in ", "9.19877E+11", "Goa", True, {}),
    (5, "Dup", "asha.rao@example.in", "098765-43210", "Pune", True, {}),
]


def _insert_old_rows(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(OLD_CUSTOMER.insert(), [
            {"id": i, "external_id": f"c{i}", "name": n, "email": e, "phone": p, "city": c,
             "unsubscribed": u, "attributes": a, "is_stub": False, "created_at": NOW,
             "updated_at": NOW, "total_spend": 0, "order_count": 0}
            for i, n, e, p, c, u, a in ROWS])
        conn.execute(sa.text("INSERT INTO segment (id, name, description, rules, created_at, "
                             "updated_at) VALUES (1, 'All', '  ', '{}', :now, :now)"),
                     {"now": NOW})


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_upgrade_moves_unsubscribed_to_consent_and_cleans_contacts(dialect_name: str,
                                                                  tmp_path: Path) -> None:
    with fresh_database(dialect_name, tmp_path) as url:
        migrations.upgrade(url, "0001")
        engine = create_db_engine(url)
        try:
            _insert_old_rows(engine)
            migrations.upgrade(url, "0002_consent")
            columns = {c["name"] for c in sa.inspect(engine).get_columns("customer")}
            assert "unsubscribed" not in columns
            assert {"consent_sms", "consent_email", "consent_whatsapp"} <= columns
            with engine.connect() as conn:
                got = {r.id: r for r in conn.execute(sa.text(
                    "SELECT id, name, email, phone, city, attributes, consent_sms, "
                    "consent_email, consent_whatsapp FROM customer ORDER BY id"))}
                suppressed = set(conn.execute(sa.text(
                    "SELECT address, channel FROM suppression")).tuples())
                description = conn.execute(sa.text(
                    "SELECT description FROM segment")).scalar_one()
                # Inserting without consent columns gets the server default: subscribed.
                conn.execute(sa.text(
                    "INSERT INTO customer (id, external_id, attributes, is_stub, created_at, "
                    "updated_at, total_spend, order_count) VALUES "
                    "(99, 'new', '{}', false, :now, :now, 0, 0)"), {"now": NOW})
                fresh = conn.execute(sa.text("SELECT consent_sms, consent_email, "
                                             "consent_whatsapp FROM customer "
                                             "WHERE external_id = 'new'")).one()
                conn.rollback()
        finally:
            engine.dispose()

        def attrs(row: sa.Row) -> dict:
            value = row.attributes
            return sa.JSON().result_processor(engine.dialect, None)(value) \
                if isinstance(value, str) else value

        assert (got[1].email, got[1].phone) == ("asha.rao@example.in", "+919876543210")
        assert [bool(v) for v in got[1][6:9]] == [False, False, False]
        assert [bool(v) for v in got[2][6:9]] == [True, True, True]
        assert (got[2].name, got[2].email, got[2].phone, got[2].city) == (None,) * 4
        # Unparseable contacts: NULL, with the original kept in the attributes.
        assert (got[3].email, got[3].phone) == (None, None)
        assert attrs(got[3]) == {"invalid_email": "ravi@@example.in",
                                 "invalid_phone": "call me"}
        assert got[4].email == "meera@example.in" and got[4].phone is None
        assert attrs(got[4]) == {"invalid_phone": "9.19877E+11"}
        assert attrs(got[1]) == {"tier": "gold"}
        # Customers 1 and 5 share both addresses: each address is suppressed once.
        assert suppressed == {("asha.rao@example.in", "email"), ("+919876543210", "sms"),
                              ("+919876543210", "whatsapp"), ("meera@example.in", "email")}
        assert description is None
        assert [bool(v) for v in fresh] == [True, True, True]

        # Down again: any opt-out becomes the old all-channel flag.
        migrations.downgrade(url, "0001")
        engine = create_db_engine(url)
        try:
            with engine.connect() as conn:
                flags = dict(conn.execute(sa.text("SELECT id, unsubscribed FROM customer"))
                             .all())
            assert "suppression" not in sa.inspect(engine).get_table_names()
        finally:
            engine.dispose()
        assert {k: bool(v) for k, v in flags.items()} == {
            1: True, 2: False, 3: False, 4: True, 5: True}
        migrations.upgrade(url)

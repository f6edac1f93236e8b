"""Migration 0013 keys stored emails and the suppression list's email rows, on every
database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from mini_crm import migrations
from mini_crm.db import create_db_engine
from tests.databases import DIALECTS, fresh_database

NOW = datetime(2026, 1, 2, 3, 4, 5)


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_upgrade_keys_emails_and_merges_suppressions(dialect_name: str,
                                                     tmp_path: Path) -> None:
    with fresh_database(dialect_name, tmp_path) as url:
        migrations.upgrade(url, "0012_segment_name_key")
        engine = create_db_engine(url)
        try:
            with engine.begin() as conn:
                for i, email in enumerate(["asha.rao.test@gmail.com", None,
                                           "a.rao+team@example.in"], start=1):
                    conn.execute(sa.text(
                        "INSERT INTO customer (id, external_id, email, attributes, is_stub, "
                        "created_at, updated_at, total_spend, order_count) VALUES "
                        "(:i, :ext, :email, '{}', false, :now, :now, 0, 0)"),
                        {"i": i, "ext": f"c{i}", "email": email, "now": NOW})
                for i, (address, channel) in enumerate([
                        ("asharaotest+promo@googlemail.com", "email"),
                        ("asharaotest@gmail.com", "email"),  # becomes the same key
                        ("+919876543210", "sms")], start=1):
                    conn.execute(sa.text(
                        "INSERT INTO suppression (id, address, channel, source, reason, "
                        "created_at) VALUES (:i, :a, :c, 'inbound', :r, :now)"),
                        {"i": i, "a": address, "c": channel, "r": f"row {i}", "now": NOW})
            migrations.upgrade(url)
            with engine.connect() as conn:
                keys = dict(conn.execute(sa.text(
                    "SELECT id, email_key FROM customer ORDER BY id")).all())
                rows = conn.execute(sa.text(
                    "SELECT address, channel, reason FROM suppression ORDER BY id")).all()
            assert keys == {1: "asharaotest@gmail.com", 2: None, 3: "a.rao+team@example.in"}
            assert [tuple(r) for r in rows] == [
                ("asharaotest@gmail.com", "email", "row 1"), ("+919876543210", "sms", "row 3")]
            migrations.downgrade(url, "0012_segment_name_key")
            columns = {c["name"] for c in sa.inspect(engine).get_columns("customer")}
            assert "email_key" not in columns
        finally:
            engine.dispose()

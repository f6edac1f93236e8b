"""consent per channel, suppression list, normalised contacts, blank strings as NULL

`customer.unsubscribed` (all channels) becomes consent_sms / consent_email /
consent_whatsapp (false = opted out); an unsubscribed customer is opted out of all
three, and their addresses go on the new suppression list.

Existing rows are cleaned the way ingestion now stores them: blank and whitespace-only
text becomes NULL, emails are lower-cased, phones become E.164. A stored email or phone
that cannot be normalised is set to NULL (so nothing ever tries to message it) and its
original text is kept in the customer's attributes as `invalid_email` / `invalid_phone`,
where the customer page shows it and a segment rule can find it.

Revision ID: 0002_consent
Revises: 0002_outcomes
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from mini_crm.core.contacts import InvalidContact, normalise_email, normalise_phone

revision: str = "0002_consent"
down_revision: str | None = "0002_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 2000
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
CONSENT = ("consent_sms", "consent_email", "consent_whatsapp")
# Optional text columns outside customer (customer is cleaned row by row below).
BLANKABLE = {"segment": ("description",), "campaign": ("objective",),
             "user": ("name", "picture_url", "oidc_subject"),
             "communication_log": ("error",), "audit_event": ("actor_label", "target")}

customer = sa.table(
    "customer", sa.column("id", sa.Integer), sa.column("name", sa.String),
    sa.column("email", sa.String), sa.column("phone", sa.String), sa.column("city", sa.String),
    sa.column("attributes", sa.JSON), sa.column("unsubscribed", sa.Boolean),
    *(sa.column(c, sa.Boolean) for c in CONSENT))


def upgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        for column in CONSENT:
            batch.add_column(sa.Column(column, sa.Boolean(), nullable=False,
                                       server_default=sa.true()))
        batch.create_index("ix_customer_phone", ["phone"])
    op.create_table(
        "suppression",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address", "channel", name="uq_suppression_address"),
    )
    op.create_index("ix_suppression_created_at", "suppression", ["created_at"])
    conn = op.get_bind()
    conn.execute(sa.update(customer).where(customer.c.unsubscribed == sa.true())
                 .values({c: sa.false() for c in CONSENT}))
    _clean_customers(conn)
    for table, columns in BLANKABLE.items():
        t = sa.table(table, *(sa.column(c, sa.String) for c in columns))
        for c in columns:
            conn.execute(sa.update(t).where(sa.func.trim(t.c[c]) == "").values({c: None}))
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("unsubscribed")


def _clean_customers(conn: sa.Connection) -> None:
    """Normalise every customer's text fields, in id-ordered chunks (bounded memory)."""
    last = 0
    while True:
        rows = conn.execute(
            sa.select(customer.c.id, customer.c.name, customer.c.email, customer.c.phone,
                      customer.c.city, customer.c.attributes, customer.c.unsubscribed)
            .where(customer.c.id > last).order_by(customer.c.id).limit(CHUNK)).all()
        if not rows:
            return
        last = rows[-1].id
        suppressed: set[tuple[str, str]] = set()
        for row in rows:
            values = _cleaned(row)
            if values:
                conn.execute(sa.update(customer).where(customer.c.id == row.id).values(values))
            if row.unsubscribed:
                email = values.get("email", row.email)
                phone = values.get("phone", row.phone)
                if email:
                    suppressed.add((email, "email"))
                if phone:
                    suppressed |= {(phone, "sms"), (phone, "whatsapp")}
        _suppress(conn, suppressed)


def _cleaned(row: Any) -> dict[str, Any]:
    """The changed columns of one customer row (empty when it is already clean)."""
    values: dict[str, Any] = {}
    for column in ("name", "city"):
        value = getattr(row, column)
        if value is not None and not value.strip():
            values[column] = None
    attributes = dict(row.attributes or {})
    for column, normalise in (("email", normalise_email), ("phone", normalise_phone)):
        raw = getattr(row, column)
        if raw is None:
            continue
        try:
            clean = normalise(raw)
        except InvalidContact:
            clean = None
            attributes[f"invalid_{column}"] = raw
        if clean != raw:
            values[column] = clean
    if attributes != (row.attributes or {}):
        values["attributes"] = attributes
    return values


def _suppress(conn: sa.Connection, pairs: set[tuple[str, str]]) -> None:
    if not pairs:
        return
    table = sa.table("suppression", sa.column("address"), sa.column("channel"))
    addresses = sorted({a for a, _ in pairs})
    existing = set(conn.execute(sa.select(table.c.address, table.c.channel)
                                .where(table.c.address.in_(addresses))).tuples())
    new = sorted(pairs - existing)
    if new:
        insert = sa.table("suppression", sa.column("address"), sa.column("channel"),
                          sa.column("reason"), sa.column("source"),
                          sa.column("created_at", TIMESTAMP))
        now = datetime.now(UTC).replace(tzinfo=None)
        conn.execute(insert.insert(), [
            {"address": a, "channel": c, "source": "import", "created_at": now,
             "reason": "unsubscribed before per-channel consent"} for a, c in new])


def downgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("unsubscribed", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    conn = op.get_bind()
    # The old column meant "all channels": any opt-out keeps the customer out of campaigns.
    conn.execute(sa.update(customer).where(sa.or_(*(customer.c[c] == sa.false()
                                                    for c in CONSENT)))
                 .values(unsubscribed=sa.true()))
    op.drop_index("ix_suppression_created_at", table_name="suppression")
    op.drop_table("suppression")
    with op.batch_alter_table("customer") as batch:
        batch.drop_index("ix_customer_phone")
        for column in CONSENT:
            batch.drop_column(column)

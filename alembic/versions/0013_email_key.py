"""customer.email_key: the inbox an email delivers to, so the launch's dedupe and the
suppression list treat Gmail's spellings of one inbox as one address

Revision ID: 0013_email_key
Revises: 0012_segment_name_key
Create Date: 2026-11-30 17:45:00

`Asha.Rao.Test@gmail.com`, `asharaotest+promo@gmail.com` and
`asharaotest@googlemail.com` reach one inbox; compared as stored they were three
recipients. The key (core/contacts.inbox_key, copied here so this migration keeps
meaning what it meant) lower-cases, drops a "+tag" for providers that deliver it to
the plain address, and for gmail.com / googlemail.com drops the dots and writes
gmail.com. The email column (what is sent to) is not changed.

Data steps: existing customers get their key (keyset batches of BATCH, one
executemany UPDATE each); email rows of the suppression list are rewritten to the key,
and when two rows become one key the oldest (lowest id) is kept and the others deleted
(the address stays suppressed either way). The downgrade drops the column and leaves
the suppression rows keyed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_email_key"
down_revision: str | None = "0012_segment_name_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
GMAIL = frozenset({"gmail.com", "googlemail.com"})
PLUS_TAG = GMAIL | frozenset({
    "outlook.com", "hotmail.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com",
    "fastmail.com", "proton.me", "protonmail.com", "pm.me"})
CUSTOMER = sa.table("customer", sa.column("id", sa.Integer), sa.column("email", sa.String),
                    sa.column("email_key", sa.String))
SUPPRESSION = sa.table("suppression", sa.column("id", sa.Integer),
                       sa.column("address", sa.String), sa.column("channel", sa.String))


def inbox_key(email: str) -> str:
    local, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return email.strip().lower()
    if domain in PLUS_TAG:
        local = local.split("+", 1)[0] or local
    if domain in GMAIL:
        local, domain = local.replace(".", "") or local, "gmail.com"
    return f"{local}@{domain}"


def upgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("email_key", sa.String(length=254), nullable=True))
    op.create_index("ix_customer_email_key", "customer", ["email_key"])
    conn = op.get_bind()
    update = (CUSTOMER.update().where(CUSTOMER.c.id == sa.bindparam("cid"))
              .values(email_key=sa.bindparam("key")))
    last = 0
    while True:
        rows = conn.execute(sa.select(CUSTOMER.c.id, CUSTOMER.c.email)
                            .where(CUSTOMER.c.id > last, CUSTOMER.c.email.is_not(None))
                            .order_by(CUSTOMER.c.id).limit(BATCH)).all()
        if not rows:
            break
        conn.execute(update, [{"cid": cid, "key": inbox_key(email)} for cid, email in rows])
        last = rows[-1][0]
    # The list is small (opt-outs and hand-added rows): read it whole, oldest first.
    kept: set[str] = set()
    for row_id, address in conn.execute(
            sa.select(SUPPRESSION.c.id, SUPPRESSION.c.address)
            .where(SUPPRESSION.c.channel == "email").order_by(SUPPRESSION.c.id)).all():
        key = inbox_key(address)
        if key in kept:
            conn.execute(SUPPRESSION.delete().where(SUPPRESSION.c.id == row_id))
            continue
        kept.add(key)
        if key != address:
            # A later row may hold the key as written already: it goes (this, older,
            # row keeps the reason), so the UPDATE cannot break the unique index.
            conn.execute(SUPPRESSION.delete().where(
                SUPPRESSION.c.channel == "email", SUPPRESSION.c.address == key,
                SUPPRESSION.c.id > row_id))
            conn.execute(SUPPRESSION.update().where(SUPPRESSION.c.id == row_id)
                         .values(address=key))


def downgrade() -> None:
    op.drop_index("ix_customer_email_key", table_name="customer")
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("email_key")

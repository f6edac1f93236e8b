"""customer.phone_type: the phone's line type (mobile, fixed_line, ...), so an SMS
launch skips landlines as no_address; existing phones are classified here

Revision ID: 0010_phone_type
Revises: 0009_segment_term
Create Date: 2026-11-30 08:00:00

The data step reads (id, phone) in id order, BATCH rows at a time (keyset, never the
whole table in memory), classifies each phone with phonenumbers (core/contacts.
phone_type, the function every ingest path uses) and writes one executemany UPDATE
per batch. Downgrade drops the column.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_phone_type"
down_revision: str | None = "0009_segment_term"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    from mini_crm.core.contacts import phone_type

    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("phone_type", sa.String(length=24), nullable=True))
    customer = sa.table("customer", sa.column("id", sa.Integer),
                        sa.column("phone", sa.String), sa.column("phone_type", sa.String))
    conn = op.get_bind()
    update = (customer.update().where(customer.c.id == sa.bindparam("cid"))
              .values(phone_type=sa.bindparam("kind")))
    last = 0
    while True:
        rows = conn.execute(sa.select(customer.c.id, customer.c.phone)
                            .where(customer.c.id > last, customer.c.phone.is_not(None))
                            .order_by(customer.c.id).limit(BATCH)).all()
        if not rows:
            break
        conn.execute(update, [{"cid": cid, "kind": phone_type(phone)}
                              for cid, phone in rows])
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("phone_type")

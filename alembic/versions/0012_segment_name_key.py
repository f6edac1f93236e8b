"""segment.name_key with a UNIQUE index: segment names are unique ignoring case and
surrounding spaces in the database itself, not only by the service's check (two saves
at the same instant both passed it)

Revision ID: 0012_segment_name_key
Revises: 0011_more_uncounted_statuses
Create Date: 2026-11-30 14:10:00

The key is sha256 (hex) of the name stripped and casefolded (models.segment_name_key,
copied here so this migration keeps meaning what it meant). A database that already
holds two segments whose names differ only by case or spaces cannot take the index, so
the upgrade renames all but the oldest of each such group, in id order: "Lapsed",
"lapsed " become "Lapsed", "lapsed (2)" (then (3)..., skipping any name already in
use; the name is shortened to keep within 200 characters). Campaigns point at segments
by id and keep their own rules, so a rename changes nothing they send. The downgrade
drops the index and the column and keeps the new names.

The column is added NOT NULL with the default '' and filled in the same upgrade; the
default stays so SQLite need not rebuild the table (which, with foreign keys on, a
referenced table cannot always survive), and every ORM write sets the key anyway.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_segment_name_key"
down_revision: str | None = "0011_more_uncounted_statuses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_NAME = 200
SEGMENT = sa.table("segment", sa.column("id", sa.Integer), sa.column("name", sa.String),
                   sa.column("name_key", sa.String))
log = logging.getLogger("alembic.runtime.migration")


def name_key(name: str) -> str:
    return hashlib.sha256((name or "").strip().casefold().encode()).hexdigest()


def renamed(name: str, used: set[str]) -> str:
    """The first "<name> (n)", n = 2, 3..., whose key is not in `used`."""
    base = (name or "").strip()
    n = 2
    while True:
        suffix = f" ({n})"
        candidate = (base[:MAX_NAME - len(suffix)] + suffix).strip()
        if name_key(candidate) not in used:
            return candidate
        n += 1


def upgrade() -> None:
    op.add_column("segment", sa.Column("name_key", sa.String(length=64), nullable=False,
                                       server_default=""))
    conn = op.get_bind()
    rows = conn.execute(sa.select(SEGMENT.c.id, SEGMENT.c.name).order_by(SEGMENT.c.id)).all()
    used = {name_key(name) for _, name in rows}
    seen: set[str] = set()
    for seg_id, name in rows:
        key = name_key(name)
        values = {"name_key": key}
        if key in seen:  # an older segment has this name: this one gets "<name> (n)"
            new_name = renamed(name, used)
            key = name_key(new_name)
            used.add(key)
            values = {"name": new_name, "name_key": key}
            log.info("segment %s renamed from %r to %r: another segment had the same "
                     "name ignoring case and spaces", seg_id, name, new_name)
        seen.add(key)
        conn.execute(SEGMENT.update().where(SEGMENT.c.id == seg_id).values(**values))
    op.create_index("uq_segment_name_key", "segment", ["name_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_segment_name_key", table_name="segment")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite (3.35+) drops a column in place; a batch rebuild would drop and recreate
        # the table campaigns reference.
        op.execute("ALTER TABLE segment DROP COLUMN name_key")
    else:
        op.drop_column("segment", "name_key")

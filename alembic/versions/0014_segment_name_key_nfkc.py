"""segment.name_key re-keyed: NFKC, casefold, invisible characters removed, spaces
collapsed, so "Ｂｉｇ spenders" and "Big\u200b spenders" are the name "Big spenders"

Revision ID: 0014_segment_name_key_nfkc
Revises: 0013_email_key
Create Date: 2026-11-30 18:30:00

0012's key was sha256 of the name stripped and casefolded; full-width letters, a
zero-width space or a doubled space inside a name made a second name that looks the
same in every list. The new key (text_checks.name_key_text, copied here so this
migration keeps meaning what it meant) is sha256 of the name NFKC-normalised,
casefolded, NFKC again, with every Unicode format character (category Cf) removed and
whitespace runs made one space.

Data steps, in id order: invisible format characters other than ZWNJ/ZWJ (which Indic
scripts and emoji need) are removed from stored names, since names now refuse them;
every row gets the new key; when two segments now share a key, the oldest keeps its
name and the others become "<name> (2)", "(3)"... (as 0012 did; the renames are
logged). The UNIQUE index is dropped while re-keying (two rows may hold each other's
new key mid-way) and created again. Campaigns point at segments by id, so a rename
changes nothing they send. The downgrade restores 0012's keys; the renames and the
removed characters stay (0012's key is unique over them too, since it is finer).
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_segment_name_key_nfkc"
down_revision: str | None = "0013_email_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_NAME = 200
JOINERS = frozenset("\u200c\u200d")
SEGMENT = sa.table("segment", sa.column("id", sa.Integer), sa.column("name", sa.String),
                   sa.column("name_key", sa.String))
log = logging.getLogger("alembic.runtime.migration")


def name_key(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "")
    text = unicodedata.normalize("NFKC", text.casefold())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


def old_key(name: str) -> str:
    return hashlib.sha256((name or "").strip().casefold().encode()).hexdigest()


def visible(name: str) -> str:
    """The name without the format characters names now refuse, trimmed."""
    kept = "".join(ch for ch in name or "" if ch in JOINERS
                   or unicodedata.category(ch) != "Cf").strip()
    return kept or (name or "").strip() or "Segment"


def renamed(name: str, used: set[str], key_of: Callable[[str], str]) -> str:
    """The first "<name> (n)", n = 2, 3..., whose key is not in `used`."""
    n = 2
    while True:
        suffix = f" ({n})"
        candidate = (name[:MAX_NAME - len(suffix)] + suffix).strip()
        if key_of(candidate) not in used:
            return candidate
        n += 1


def _rekey(key_of: Callable[[str], str], clean: bool) -> None:
    conn = op.get_bind()
    op.drop_index("uq_segment_name_key", table_name="segment")
    rows = conn.execute(sa.select(SEGMENT.c.id, SEGMENT.c.name).order_by(SEGMENT.c.id)).all()
    names = {seg_id: (visible(name) if clean else name) for seg_id, name in rows}
    used = {key_of(name) for name in names.values()}
    seen: set[str] = set()
    for seg_id, stored in rows:
        name = names[seg_id]
        key = key_of(name)
        if key in seen:  # an older segment has this name: this one gets "<name> (n)"
            name = renamed(name, used, key_of)
            key = key_of(name)
            used.add(key)
            log.info("segment %s renamed from %r to %r: another segment had the same "
                     "name ignoring case, width, spacing and invisible characters",
                     seg_id, stored, name)
        seen.add(key)
        values = {"name_key": key} if name == stored else {"name": name, "name_key": key}
        conn.execute(SEGMENT.update().where(SEGMENT.c.id == seg_id).values(**values))
    op.create_index("uq_segment_name_key", "segment", ["name_key"], unique=True)


def upgrade() -> None:
    _rekey(name_key, clean=True)


def downgrade() -> None:
    _rekey(old_key, clean=False)

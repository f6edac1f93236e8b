"""What the plain-English parser knows of the data, learnt from the WHOLE customer table.

Attribute keys, their values with counts, and email domains with counts. Before this,
they came from the newest 500 customers, so a batch of new customers with other
attributes made "gold tier customers in Lucknow" lose its gold-tier rule.

Cost at 1M customers: one full pass per process — a GROUP BY over json_each in the
database on SQLite and PostgreSQL, a streamed read of (id, updated_at, attributes, email)
on MariaDB (no portable way to list a JSON object's keys) — then never again unless
asked (bench/nl_context.py measures it against the old 500-row sample).
After that each call reads only customers changed since the last call (`updated_at` is
set by every upsert; indexed by migration 0009), so a prompt costs one indexed range read.

Correctness of the incremental step:
- rows are re-read with an OVERLAP (upserts stamp `updated_at` before they commit, so a
  slow transaction can land with a slightly older stamp); a row re-read inside the
  overlap first takes back what it added last time, so it is never counted twice;
- the overlap runs back from the later of the newest stamp read and the time the last
  read began (a row committed after that read was stamped at most OVERLAP before it).
  From the newest stamp alone, a burst of more than INCREMENTAL_ROWS writes (20,000
  customers pushed in a few minutes) stayed inside every later overlap until some newer
  write came, and each call made a full pass again (at 1M customers, seconds to tens of
  seconds per prompt or rule-builder open);
- a customer changed long after the last full pass is counted with its new values, but
  its old values are not taken back (they are not remembered for 1M rows). Counts can
  therefore only over-state a value that customers moved away from; a full pass again
  after REBUILD_SHARE of the table changed or REBUILD_SECONDS passed resets them.
- each call also compares count(*) with the customers counted: rows deleted, or written
  with an old `updated_at` the range read cannot see, make it start again;
- the cache is per process and per database URL; every process converges the same way.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, select

from mini_crm.db import session_scope
from mini_crm.models import Customer, utcnow

logger = logging.getLogger(__name__)
OVERLAP = timedelta(minutes=5)
REBUILD_SHARE = 0.2
REBUILD_SECONDS = 6 * 3600
BATCH = 5000
INCREMENTAL_ROWS = 20_000
MAX_VALUE_LENGTH = 60


@dataclass
class Stats:
    values: dict[str, dict[Any, int]] = field(default_factory=dict)  # key → value → count
    keys: dict[str, int] = field(default_factory=dict)  # key → customers having it
    domains: dict[str, int] = field(default_factory=dict)
    mark: datetime | None = None  # newest updated_at read
    recent: dict[int, tuple[datetime, tuple[Any, ...]]] = field(default_factory=dict)
    rows_at_build: int = 0
    rows: int = 0  # customers counted (each id once); checked against count(*) per call
    max_id: int = 0
    changed_since_build: int = 0
    built_at: float = 0.0
    read_at: datetime | None = None  # utcnow() as the last build or read began


_cache: dict[str, Stats] = {}
_lock = threading.Lock()


def _contribution(attrs: Any, email: Any) -> tuple[Any, ...]:
    """What one customer adds: ((key, value|None), …, domain|None), hashable."""
    items: list[tuple[str, Any]] = []
    if isinstance(attrs, dict):
        for k, v in attrs.items():
            if not isinstance(k, str):
                continue
            scalar = isinstance(v, str | int | float | bool) and not (
                isinstance(v, str) and len(v) > MAX_VALUE_LENGTH)
            items.append((k, v if scalar else None))
    domain = email.rsplit("@", 1)[1].lower() if isinstance(email, str) and "@" in email \
        else None
    return (*items, domain)


def _apply(stats: Stats, contribution: tuple[Any, ...], sign: int) -> None:
    *items, domain = contribution
    for k, v in items:
        stats.keys[k] = stats.keys.get(k, 0) + sign
        if v is not None:
            bucket = stats.values.setdefault(k, {})
            bucket[v] = bucket.get(v, 0) + sign
            if bucket[v] <= 0:
                del bucket[v]
        if stats.keys[k] <= 0:
            del stats.keys[k]
            stats.values.pop(k, None)
    if domain:
        stats.domains[domain] = stats.domains.get(domain, 0) + sign
        if stats.domains[domain] <= 0:
            del stats.domains[domain]


def _read(db: Session, stats: Stats, since: datetime | None) -> int | None:
    """Add customers changed since `since` (all when None): the rows read, or None when
    more than INCREMENTAL_ROWS changed (a full pass is then cheaper than catching up)."""
    cols = select(Customer.id, Customer.updated_at, Customer.attributes, Customer.email)
    if since is not None:  # one range read on ix_customer_updated_at
        page = db.exec(cols.where(Customer.updated_at >= since)
                       .order_by(Customer.updated_at, Customer.id)
                       .limit(INCREMENTAL_ROWS + 1)).all()
        if len(page) > INCREMENTAL_ROWS:
            return None
        # new ids in order (Stats.rows); re-reads inside the overlap are not changes
        return _add(stats, sorted(page, key=lambda row: row[0]))
    n, last_id = 0, 0
    while True:  # keyset pages by id: bounded memory, no long-held server cursor
        page = db.exec(cols.where(Customer.id > last_id).order_by(Customer.id)
                       .limit(BATCH)).all()
        _add(stats, page)
        n += len(page)
        if len(page) < BATCH:
            return n
        last_id = page[-1][0]


def _add(stats: Stats, page: Any) -> int:
    """Count a page of (id, updated_at, attributes, email); the rows not re-reads."""
    fresh = 0
    for cid, updated_at, attrs, email in page:
        contribution = _contribution(attrs, email)
        old = stats.recent.get(cid)
        if old is not None and old[0] == updated_at:
            continue  # the same version read again inside the overlap
        if old is not None:  # changed again: take back what the last version added
            _apply(stats, old[1], -1)
        fresh += 1
        _apply(stats, contribution, +1)
        if stats.mark is None or updated_at > stats.mark:
            stats.mark = updated_at
        stats.recent[cid] = (updated_at, contribution)
        if cid > stats.max_id:  # a customer not seen before (ids only grow)
            stats.max_id, stats.rows = cid, stats.rows + 1
    if stats.mark is not None:  # keep only what the next overlap can re-read
        horizon = stats.mark - OVERLAP
        stats.recent = {k: v for k, v in stats.recent.items() if v[0] >= horizon}
    return fresh


def _build(db: Session) -> Stats:
    stats = Stats(built_at=time.monotonic(), read_at=utcnow())
    if db.get_bind().dialect.name in SQL_DIALECTS:
        _build_sql(db, stats)
    else:  # MariaDB cannot list a JSON object's keys in portable SQL: one streamed pass
        stats.rows_at_build = _read(db, stats, None) or 0
    return stats


# GROUP BY over each customer's attribute pairs, in the database. Only the customers up
# to a fixed id take part, so the counts, the row count and the newest stamp agree.
SQL_DIALECTS = ("sqlite", "postgresql")
_PAIRS = {
    "sqlite": """SELECT j.key, j.type, j.atom, count(*) FROM customer,
                 json_each(customer.attributes) AS j
                 WHERE customer.id <= :m AND json_type(customer.attributes) = 'object'
                 GROUP BY j.key, j.type, j.atom""",
    "postgresql": """SELECT e.key, json_typeof(e.value), e.value::text, count(*) FROM customer,
                     json_each(customer.attributes) AS e
                     WHERE customer.id <= :m AND json_typeof(customer.attributes) = 'object'
                     GROUP BY 1, 2, 3""",
}
_DOMAINS = {
    "sqlite": """SELECT lower(substr(email, instr(email, '@') + 1)), count(*) FROM customer
                 WHERE id <= :m AND email LIKE '%@%' GROUP BY 1""",
    "postgresql": """SELECT lower(substr(email, strpos(email, '@') + 1)), count(*)
                     FROM customer WHERE id <= :m AND email LIKE '%@%' GROUP BY 1""",
}


def _sql_value(dialect: str, kind: str, raw: Any) -> Any:
    """The Python value of one attribute as the streamed pass would see it (None: only
    the key counts — nested, null or long text)."""
    if dialect == "sqlite":
        value = {"true": True, "false": False}.get(kind, raw)
        if kind in ("object", "array", "null"):
            value = None
    else:
        value = json.loads(raw) if kind in ("string", "number", "boolean") else None
    if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
        return None
    return value


def _build_sql(db: Session, stats: Stats) -> None:
    dialect = db.get_bind().dialect.name
    top = db.exec(select(func.max(Customer.id))).one() or 0
    for key, kind, raw, n in db.exec(text(_PAIRS[dialect]), params={"m": top}).all():
        stats.keys[key] = stats.keys.get(key, 0) + n
        value = _sql_value(dialect, kind, raw)
        if value is not None:
            bucket = stats.values.setdefault(key, {})
            bucket[value] = bucket.get(value, 0) + n
    for domain, n in db.exec(text(_DOMAINS[dialect]), params={"m": top}).all():
        if domain:
            stats.domains[domain] = stats.domains.get(domain, 0) + n
    count, mark = db.exec(select(func.count(), func.max(Customer.updated_at))
                          .where(Customer.id <= top)).one()
    stats.rows = stats.rows_at_build = count
    stats.max_id, stats.mark = top, mark
    if mark is not None:  # remember what the overlap will re-read, without counting it
        for cid, updated_at, attrs, email in db.exec(
                select(Customer.id, Customer.updated_at, Customer.attributes, Customer.email)
                .where(Customer.id <= top, Customer.updated_at >= mark - OVERLAP)).all():
            stats.recent[cid] = (updated_at, _contribution(attrs, email))


def current(db: Session) -> Stats:
    """The stats for this database, brought up to date (see the module docstring)."""
    url = str(db.get_bind().url)
    with _lock:
        stats = _cache.get(url)
        stale = stats is None or time.monotonic() - stats.built_at > REBUILD_SECONDS or \
            stats.changed_since_build > REBUILD_SHARE * max(stats.rows_at_build, 1000)
        if stale:
            stats = _build(db)
        else:
            assert stats is not None
            started = utcnow()
            since = max(stats.mark, stats.read_at or stats.mark) - OVERLAP \
                if stats.mark else None
            changed = _read(db, stats, since) if since else None
            stats.read_at = started
            total = db.exec(select(func.count()).select_from(Customer)).one()
            if changed is None or total != stats.rows:
                # deleted rows, or rows written with an old updated_at: start again
                stats = _build(db)
            else:
                stats.changed_since_build += changed
        _cache[url] = stats
        return stats


def warm_in_background() -> threading.Thread:
    """Start the first pass on a daemon thread at app start, so the first prompt after a
    deploy does not wait for it (at 1M customers it takes tens of seconds on SQLite; see
    bench/nl_context.py). A prompt arriving meanwhile waits on the same lock, never
    repeats the pass. Failures are logged: prompts then build it themselves."""
    def run() -> None:
        try:
            with session_scope() as db:
                current(db)
        except Exception:  # a warm-up must never take the app down
            logger.warning("warming the plain-English data vocabulary failed", exc_info=True)

    thread = threading.Thread(target=run, name="nl-data-vocabulary", daemon=True)
    thread.start()
    return thread


def forget(db: Session | None = None) -> None:
    """Drop the cache (tests that recreate a database under the same URL)."""
    with _lock:
        if db is None:
            _cache.clear()
        else:
            _cache.pop(str(db.get_bind().url), None)


def attribute_values(stats: Stats, limit: int = 40) -> dict[str, list[Any]]:
    """Each key's values that look like categories (repeated), most common first."""
    out: dict[str, list[Any]] = {}
    for k in stats.keys:
        vals = stats.values.get(k, {})
        ranked = sorted(vals.items(), key=lambda kv: (-kv[1], str(kv[0])))
        out[k] = [v for v, n in ranked if n >= 2 or len(vals) <= 12][:limit]
    return out


def email_domains(stats: Stats) -> list[str]:
    return [d for d, _ in sorted(stats.domains.items(), key=lambda kv: (-kv[1], kv[0]))]


__all__ = ["Stats", "attribute_values", "current", "email_domains", "forget"]

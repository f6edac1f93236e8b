"""Engine and sessions: the one place that knows how to reach the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from mini_crm.core.numbers import numeric_text
from mini_crm.settings import get_settings


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine tuned per dialect (SQLite needs WAL and a busy timeout for workers)."""
    parsed = make_url(url)
    kwargs: dict = {"echo": echo, "pool_pre_ping": True, "future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        kwargs.pop("pool_pre_ping")
    elif parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg":
        # psycopg prepares a statement after 5 runs and PostgreSQL may then switch to a
        # generic plan; audience queries vary wildly in selectivity, so plan each run.
        kwargs["connect_args"] = {"prepare_threshold": None}
    elif parsed.get_backend_name() == "mysql":
        kwargs["pool_recycle"] = 3600
        kwargs["isolation_level"] = "READ COMMITTED"
    engine = sa.create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _numeric_text(value: object) -> float | None:
    number = numeric_text(value)
    return None if number is None else float(number)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API objects
    # SQLite's built-in lower() folds ASCII only; PostgreSQL and MariaDB fold Unicode.
    # Same meaning on every database: replace it with Python's.
    dbapi_conn.create_function("lower", 1, _unicode_lower, deterministic=True)
    # SQLite has no regular expressions: the segment compiler's "a text that means a
    # number" (core.numbers.numeric_text) runs as Python, the same code as the rule side.
    dbapi_conn.create_function("crm_numeric_text", 1, _numeric_text, deterministic=True)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return create_db_engine(settings.database_url, echo=settings.database_echo)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

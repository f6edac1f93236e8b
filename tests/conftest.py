"""Shared fixtures: every database test runs on SQLite, PostgreSQL and MariaDB.

`db_url` is a migrated, empty database per dialect for the whole session;
`engine` gives a clean database to each test (tables emptied before it runs).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import mini_crm.models  # noqa: F401 - registers tables
from mini_crm import migrations
from mini_crm.db import create_db_engine
from tests.databases import DIALECTS, fresh_database

pytest_plugins = ["tests.api_fixtures"]


@pytest.fixture(scope="session", params=DIALECTS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[str]:
    with fresh_database(request.param, Path(tmp_path_factory.mktemp("db"))) as url:
        migrations.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def _session_engine(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


def empty_all_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def engine(_session_engine: Engine) -> Engine:
    empty_all_tables(_session_engine)
    return _session_engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def dialect(engine: Engine) -> str:
    return engine.dialect.name




@pytest.fixture
def app_settings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Point the app's own settings (get_settings/get_engine) at this test's database.

    Redis is off (embedded mode) unless a test sets REDIS_URL itself.
    """
    from mini_crm.core import redis_conn
    from mini_crm.db import get_engine
    from mini_crm.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("REDIS_URL", "")
    get_settings.cache_clear()
    get_engine.cache_clear()
    redis_conn.reset_cache()
    yield engine
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()
    redis_conn.reset_cache()

"""The three real databases the suite runs against, each created fresh and dropped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MYSQL_ADMIN_URL = os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/")
DIALECTS = ("sqlite", "postgresql", "mariadb")


@contextmanager
def fresh_database(dialect: str, tmp_dir: Path) -> Iterator[str]:
    """Yield the URL of a new, empty database of `dialect`; drop it afterwards."""
    name = f"minicrm_test_{uuid.uuid4().hex[:10]}"
    if dialect == "sqlite":
        yield f"sqlite:///{tmp_dir / (name + '.db')}"
        return
    admin_url = PG_ADMIN_URL if dialect == "postgresql" else MYSQL_ADMIN_URL
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if dialect == "postgresql":
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                                 "COLLATE utf8mb4_unicode_ci"))
    url = sa.engine.make_url(admin_url).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if dialect == "postgresql":
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()

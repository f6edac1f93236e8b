"""Alembic, run directly (never `reflex db`), against any database URL."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from mini_crm.settings import PROJECT_ROOT, get_settings

ALEMBIC_DIR = PROJECT_ROOT / "alembic"


def alembic_config(database_url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    # '%' is ConfigParser interpolation syntax; URLs may contain it (escaped passwords).
    url = database_url or get_settings().database_url
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)

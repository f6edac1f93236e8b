from __future__ import annotations

import pytest
from pydantic import ValidationError

from mini_crm.settings import Settings


def test_development_generates_and_keeps_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = Settings(_env_file=None)
    second = Settings(_env_file=None)
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert first.uses_local_oidc


def test_production_refuses_without_secret_key() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, app_env="production", secret_key="",
                 oidc_client_id="x", oidc_client_secret="y")


def test_production_refuses_without_real_oidc_provider() -> None:
    with pytest.raises(ValidationError, match="OIDC_CLIENT_ID"):
        Settings(_env_file=None, app_env="production", secret_key="k" * 40)


def test_production_with_everything_set() -> None:
    s = Settings(_env_file=None, app_env="production", secret_key="k" * 40,
                 oidc_client_id="id", oidc_client_secret="secret")
    assert s.is_production and not s.uses_local_oidc


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("WORKER_PROCESSES", "5")
    s = Settings(_env_file=None)
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert s.worker_processes == 5


def test_bad_values_are_refused_with_the_field_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_PROCESSES", "0")
    with pytest.raises(ValidationError, match="worker_processes"):
        Settings(_env_file=None)

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


_PREFIXES = ("SIMULATOR_REDIS_PREFIX", "RECEIPT_BUFFER_PREFIX", "INGEST_STREAM_PREFIX",
             "REDIS_NAMESPACE")


def _per_database_keys(url: str, **extra: str) -> tuple[str, str, str]:
    s = Settings(_env_file=None, database_url=url, **extra)
    return s.simulator_redis_prefix, s.receipt_buffer_prefix, s.ingest_stream_prefix


def test_two_databases_get_different_redis_prefixes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two clones sharing one Redis: fixed prefixes made one's row ids the other's duplicates.
    for name in _PREFIXES:
        monkeypatch.delenv(name, raising=False)
    first = _per_database_keys("sqlite:////srv/one/data/mini_crm.db")
    second = _per_database_keys("sqlite:////srv/two/data/mini_crm.db")
    assert all(a != b for a, b in zip(first, second, strict=True))
    assert first == _per_database_keys("sqlite:////srv/one/data/mini_crm.db")
    assert first[0].startswith("mc:vendor-sim:") and len(first[0]) == len("mc:vendor-sim:") + 10


def test_redis_prefix_ignores_the_password_and_keeps_the_namespace(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PREFIXES:
        monkeypatch.delenv(name, raising=False)
    url = "postgresql+psycopg://crm:{}@db.internal:5432/crm"
    old, rotated = _per_database_keys(url.format("old")), _per_database_keys(url.format("new"))
    assert old == rotated
    assert "old" not in "".join(old)
    other_db = _per_database_keys("postgresql+psycopg://crm:old@db.internal:5432/crm_staging")
    assert other_db[0] != old[0]
    spaced = _per_database_keys(url.format("old"), redis_namespace="blue:")
    assert spaced[0] == "blue:" + old[0] and spaced[1] == "blue:" + old[1]


def test_an_explicit_redis_prefix_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMULATOR_REDIS_PREFIX", "mc:vendor-sim")
    monkeypatch.delenv("RECEIPT_BUFFER_PREFIX", raising=False)
    s = Settings(_env_file=None, database_url="sqlite:////srv/one/data/mini_crm.db")
    assert s.simulator_redis_prefix == "mc:vendor-sim"
    assert s.receipt_buffer_prefix.startswith("mc:receipts:")

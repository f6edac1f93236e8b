"""The `mini-crm` commands and the health endpoints, on every database."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from mini_crm.api.app import create_api
from mini_crm.cli import app as cli
from mini_crm.core import apikeys
from mini_crm.models import ApiKey

runner = CliRunner()


def test_apikey_create_prints_the_key_once_on_the_last_line(app_settings: sa.Engine) -> None:
    result = runner.invoke(cli, ["apikey", "create", "--name", "shop", "--scopes",
                                 "ingest,read"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith(apikeys.KEY_PREFIX)
    with Session(app_settings) as s:
        key = s.exec(select(ApiKey)).one()
        assert key.scopes == ["ingest", "read"]
        assert key.key_hash == apikeys.hash_key(secret)
        assert secret not in str(key.model_dump())  # only the hash is stored
        assert apikeys.authenticate(s, secret) is not None
        assert apikeys.authenticate(s, secret + "x") is None


def test_apikey_create_refuses_unknown_scopes(app_settings: sa.Engine) -> None:
    result = runner.invoke(cli, ["apikey", "create", "--name", "x", "--scopes", "ingest,root"])
    assert result.exit_code != 0
    assert "unknown scope(s) root" in result.output
    with Session(app_settings) as s:
        assert s.exec(select(ApiKey)).first() is None


def test_revoked_key_no_longer_authenticates(session: Session) -> None:
    key = apikeys.create_key(session, "etl", ["read"])
    session.commit()
    assert apikeys.revoke_key(session, key.id)
    session.commit()
    assert apikeys.authenticate(session, key.secret) is None
    assert not apikeys.revoke_key(session, key.id)


def test_migrate_command_is_idempotent(app_settings: sa.Engine) -> None:
    for _ in range(2):
        result = runner.invoke(cli, ["migrate"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_health_and_readiness(app_settings: sa.Engine) -> None:
    client = TestClient(create_api())
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["dialect"] == app_settings.dialect.name
    assert "redis" not in body["checks"]  # embedded mode: no Redis configured


def test_readiness_fails_when_redis_is_configured_but_down(app_settings: sa.Engine,
                                                           monkeypatch) -> None:
    from mini_crm.core import health

    class DeadRedis:
        def ping(self) -> bool:
            raise ConnectionError("connection refused")

    monkeypatch.setattr(health, "get_redis", lambda: DeadRedis())
    ready = TestClient(create_api()).get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"]["ok"] is False

"""The `mini-crm` commands and the health endpoints, on every database."""

from __future__ import annotations

import json

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


def test_apikey_list_shows_keys_but_never_the_key(app_settings: sa.Engine) -> None:
    empty = runner.invoke(cli, ["apikey", "list"])
    assert empty.exit_code == 0 and "no API keys yet" in empty.output
    made = runner.invoke(cli, ["apikey", "create", "--name", "shop backend", "--scopes",
                               "ingest,read"])
    secret = made.output.strip().splitlines()[-1]
    first = made.output.split("#")[1].split()[0]
    with Session(app_settings) as s:
        other = apikeys.create_key(s, "etl", ["read"])
        assert apikeys.authenticate(s, secret) is not None  # touches last used
        s.commit()
    result = runner.invoke(cli, ["apikey", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "NAME", "PREFIX", "SCOPES", "CREATED", "LAST", "USED",
                                "STATUS"]
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert set(rows) == {first, str(other.id)}
    assert "shop backend" in rows[first] and "ingest,read" in rows[first]
    assert rows[first].rstrip().endswith("active") and "never" not in rows[first]
    assert "never" in rows[str(other.id)]  # never used
    assert secret not in result.output and other.secret not in result.output
    as_json = runner.invoke(cli, ["apikey", "list", "--json"])
    listed = {k["name"]: k for k in json.loads(as_json.output)}
    assert listed["shop backend"]["scopes"] == ["ingest", "read"]
    assert listed["shop backend"]["last_used_at"].endswith("Z")
    assert listed["etl"]["last_used_at"] is None and listed["etl"]["revoked_at"] is None
    assert secret not in as_json.output and "key_hash" not in as_json.output


def test_apikey_revoke_is_audited_and_refuses_unknown_ids(app_settings: sa.Engine) -> None:
    from mini_crm.core.auth import audit
    from mini_crm.models import AuditEvent

    made = runner.invoke(cli, ["apikey", "create", "--name", "etl"])
    secret = made.output.strip().splitlines()[-1]
    key_id = int(made.output.split("#")[1].split()[0])
    result = runner.invoke(cli, ["apikey", "revoke", str(key_id)])
    assert result.exit_code == 0, result.output
    assert f"revoked API key #{key_id} 'etl'" in result.output
    with Session(app_settings) as s:
        assert apikeys.authenticate(s, secret) is None
        events = s.exec(select(AuditEvent).where(
            AuditEvent.action == audit.APIKEY_REVOKED)).all()
        assert [(e.actor_label, e.details["key_id"]) for e in events] == [("cli", key_id)]
    again = runner.invoke(cli, ["apikey", "revoke", str(key_id)])
    assert again.exit_code == 0 and "already revoked" in again.output
    listed = runner.invoke(cli, ["apikey", "list"]).output
    assert "revoked" in listed.splitlines()[1]
    missing = runner.invoke(cli, ["apikey", "revoke", str(key_id + 1)])
    assert missing.exit_code == 1 and f"no API key #{key_id + 1}" in missing.output
    bad = runner.invoke(cli, ["apikey", "revoke", "abc"])
    assert bad.exit_code == 2 and "valid integer" in " ".join(bad.output.split())
    with Session(app_settings) as s:  # nothing more was recorded
        assert len(s.exec(select(AuditEvent).where(
            AuditEvent.action == audit.APIKEY_REVOKED)).all()) == 1

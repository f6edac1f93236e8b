"""Schemathesis against the OpenAPI spec: no generated request gets a 5xx (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from oidc_provider_mock import run_server_in_thread
from sqlmodel import Session

from mini_crm import migrations
from mini_crm.api.app import create_api
from mini_crm.core import apikeys, redis_conn
from mini_crm.db import create_db_engine, get_engine
from mini_crm.settings import get_settings

HEADERS: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('st')) / 'st.db'}"
    # A real local identity provider, so /auth/login can redirect to it.
    provider = run_server_in_thread(port=0, require_nonce=True)
    server = provider.__enter__()
    patch = pytest.MonkeyPatch()
    patch.setenv("DEV_OIDC_PORT", str(server.server_port))
    patch.setenv("OIDC_CLIENT_ID", "")
    patch.setenv("DATABASE_URL", url)
    patch.setenv("REDIS_URL", "")
    patch.setenv("API_RATE_LIMIT_PER_MINUTE", "1000000")
    get_settings.cache_clear()
    get_engine.cache_clear()
    redis_conn.reset_cache()
    migrations.upgrade(url)
    with Session(create_db_engine(url)) as s:
        key = apikeys.create_key(s, "schemathesis", list(apikeys.SCOPES))
        s.commit()
    HEADERS["Authorization"] = f"Bearer {key.secret}"
    yield
    provider.__exit__(None, None, None)
    patch.undo()
    get_settings.cache_clear()
    get_engine.cache_clear()
    redis_conn.reset_cache()


# The app reads its settings on the first request, after the fixture has set them.
schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_api())


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call(headers=HEADERS)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])

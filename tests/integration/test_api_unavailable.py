"""A database or Redis that is down (a restart, a failover) answers 503 with Retry-After
in the standard error shape, so clients retry; never a 500 with a stack trace."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mini_crm.core import apikeys, ratelimit


def _database_down(*_a, **_k):
    raise sa.exc.OperationalError("SELECT", {}, Exception("connection refused"))


def _redis_down(*_a, **_k):
    raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.mark.parametrize("target, broken, message", [
    (apikeys, _database_down, "the database is unavailable; retry later"),
    (ratelimit, _redis_down, "the queue (Redis) is unavailable; retry later"),
], ids=["database", "redis"])
def test_a_service_that_is_down_answers_503(api: TestClient,
                                            make_key: Callable[..., dict[str, str]],
                                            monkeypatch: pytest.MonkeyPatch, target,
                                            broken, message: str) -> None:
    headers = make_key("read")
    assert api.get("/api/v1/customers", headers=headers).status_code == 200
    monkeypatch.setattr(target, "authenticate" if target is apikeys else "hit", broken)
    answer = api.get("/api/v1/customers", headers=headers)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.json() == {"error": {"code": "unavailable", "message": message,
                                       "details": None}}

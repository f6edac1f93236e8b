"""POST /api/v1/receipts on the real app: signature, window, validation, and what a 202
promises: the receipts are committed (applied, or kept in receipt_retry) before it, or,
with RECEIPT_BUFFER=redis, in the Redis buffer."""

from __future__ import annotations

import json
import time

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mini_crm.core import redis_conn
from mini_crm.core.delivery import receipts
from mini_crm.core.delivery.signing import signed_headers
from mini_crm.settings import get_settings
from tests.integration.test_receipts_apply import (  # noqa: F401 - redis_receipts: fixture
    REDIS_URL,
    make_logs,
    redis_receipts,
    statuses,
)

SECRET = "receipt-secret-for-tests"


def settle_settings(**env: str) -> None:
    """Clear the settings cache until it reflects `env`: a background thread (the receipt
    flusher) may be building Settings from the old environment while we clear."""
    for _ in range(100):
        get_settings.cache_clear()
        current = get_settings()
        if all(str(getattr(current, k.lower())) == v for k, v in env.items()):
            return
        time.sleep(0.01)
    raise AssertionError(f"settings never picked up {env}")


@pytest.fixture
def client(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    env = {"RECEIPT_SIGNING_SECRET": SECRET, "RECEIPT_FLUSH_MS": "50"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settle_settings(**env)
    return api


def post(client: TestClient, payload: object, *, secret: str = SECRET,
         now: float | None = None, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", **signed_headers(secret, body, now=now)}
    return client.post("/api/v1/receipts", content=body, headers=headers)


def wait_for(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_signed_receipts_are_accepted_and_applied(client: TestClient,
                                                  app_settings: sa.Engine) -> None:
    ids = make_logs(app_settings, ["sent", "sent", "sent"])
    answer = post(client, {"receipts": [
        {"vendor_message_id": "v0", "status": "delivered", "at": "2025-11-02T10:00:00Z"},
        {"vendor_message_id": "v1", "status": "failed", "error": "mailbox full",
         "at": "2025-11-02T10:00:00Z"},
        {"vendor_message_id": "v2", "status": "delivered", "error": None, "at": None}]})
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": 3}
    wait_for(lambda: statuses(app_settings, ids)[2][0] == "delivered")
    assert statuses(app_settings, ids) == [("delivered", None), ("undelivered", "mailbox full"),
                                           ("delivered", None)]
    # The same request again (a vendor retry inside the window): accepted, changes nothing.
    assert post(client, {"receipts": [{"vendor_message_id": "v0", "status": "failed"}]}
                ).status_code == 202
    time.sleep(0.3)
    assert statuses(app_settings, ids)[0] == ("delivered", None)


def test_receipts_are_committed_before_the_202(client: TestClient, app_settings: sa.Engine,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Write-through (the default, with or without Redis): the 202 comes after the UPDATE.
    A receipt whose message id is not stored yet is kept in receipt_retry, in the same
    transaction, and applied once the worker's mark makes the id known."""
    monkeypatch.setattr(receipts, "retry_delay", lambda tries: 0.0)
    ids = make_logs(app_settings, ["sent", "queued-noid"], prefix="emb")
    answer = post(client, {"receipts": [
        {"vendor_message_id": "emb0", "status": "delivered"},
        {"vendor_message_id": "emb1", "status": "failed", "error": "handset unreachable"}]})
    assert answer.status_code == 202, answer.text
    assert statuses(app_settings, ids) == [("delivered", None), ("queued", None)]  # no wait
    assert receipts.retry_count(app_settings) == 1  # emb1: unknown for now, but kept
    with app_settings.begin() as conn:  # the worker's mark lands
        conn.execute(sa.text("UPDATE communication_log SET status = 'sent', "
                             "vendor_message_id = 'emb1' WHERE id = :id"), {"id": ids[1]})
    # Without Redis no worker runs the periodic flush: the process's own flusher does.
    wait_for(lambda: statuses(app_settings, ids)[1] == ("undelivered", "handset unreachable"))
    wait_for(lambda: receipts.retry_count(app_settings) == 0)


def test_a_database_that_refuses_gets_503_so_the_vendor_retries(
        client: TestClient, app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = make_logs(app_settings, ["sent"])

    def down(*_a, **_k):
        raise sa.exc.OperationalError("UPDATE", {}, Exception("server closed the connection"))

    monkeypatch.setattr(receipts, "apply_batch", down)
    answer = post(client, {"receipts": [{"vendor_message_id": "v0", "status": "delivered"}]})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["error"]["message"] == ("receipts cannot be stored right now; "
                                                 "retry later")
    monkeypatch.undo()
    assert statuses(app_settings, ids) == [("sent", None)]
    assert receipts.retry_count(app_settings) == 0


@pytest.mark.parametrize("case", ["tampered", "wrong_secret", "missing"])
def test_bad_signatures_get_401_bad_signature(client: TestClient, app_settings: sa.Engine,
                                              case: str) -> None:
    ids = make_logs(app_settings, ["sent"])
    body = json.dumps({"receipts": [{"vendor_message_id": "v0", "status": "delivered"}]})
    headers = signed_headers(SECRET if case != "wrong_secret" else "nope", body.encode())
    if case == "tampered":
        body = body.replace("delivered", "failed")
    if case == "missing":
        headers = {}
    answer = client.post("/api/v1/receipts", content=body, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "bad_signature"
    assert statuses(app_settings, ids) == [("sent", None)]
    assert receipts.retry_count(app_settings) == 0


@pytest.mark.parametrize("skew", [-3600, 301, 3600])
def test_stale_or_future_timestamps_get_401_stale_timestamp(client: TestClient,
                                                            skew: int) -> None:
    answer = post(client, {"receipts": [{"vendor_message_id": "v0", "status": "delivered"}]},
                  now=time.time() - skew)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "stale_timestamp"


def test_invalid_items_get_422_and_the_valid_ones_are_kept(client: TestClient,
                                                          app_settings: sa.Engine) -> None:
    ids = make_logs(app_settings, ["sent", "sent"])
    answer = post(client, {"receipts": [
        {"vendor_message_id": "v0", "status": "delivered"},
        {"vendor_message_id": "v1", "status": "read"},
        {"status": "delivered"},
        {"vendor_message_id": "v1", "status": "failed", "at": "not a time"}]})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith("receipts[1].status")
    assert error["details"]["accepted"] == 1
    assert sorted({e["index"] for e in error["details"]["errors"]}) == [1, 2, 3]
    wait_for(lambda: statuses(app_settings, ids)[0][0] == "delivered")
    assert statuses(app_settings, ids)[1] == ("sent", None)


@pytest.mark.parametrize("raw, status", [(b"{not json", 400), (b'{"receipts": {}}', 422),
                                         (b"[]", 422)])
def test_malformed_bodies(client: TestClient, raw: bytes, status: int) -> None:
    answer = post(client, None, raw=raw)
    assert answer.status_code == status
    assert set(answer.json()["error"]) == {"code", "message", "details"}


def test_no_api_key_is_needed_and_the_route_is_documented(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    op = spec["paths"]["/api/v1/receipts"]["post"]
    assert {"202", "401", "422"} <= set(op["responses"])
    assert "example" in op["requestBody"]["content"]["application/json"]
    assert {p["name"] for p in op["parameters"]} == {"X-Mini-CRM-Timestamp",
                                                     "X-Mini-CRM-Signature"}


def test_with_receipt_buffer_redis_receipts_go_to_the_shared_buffer(
        client: TestClient, redis_receipts: str  # noqa: F811
        ) -> None:
    answer = post(client, {"receipts": [{"vendor_message_id": "x1", "status": "delivered"},
                                        {"vendor_message_id": "x2", "status": "failed"}]})
    assert answer.status_code == 202
    assert redis.Redis.from_url(REDIS_URL).llen(f"{redis_receipts}:queue") == 2


def test_with_redis_but_the_default_buffer_nothing_waits_in_redis(
        client: TestClient, app_settings: sa.Engine, redis_receipts: str,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECEIPT_BUFFER", "database")
    settle_settings(RECEIPT_BUFFER="database")
    assert redis_conn.get_redis() is not None
    ids = make_logs(app_settings, ["sent"])
    answer = post(client, {"receipts": [{"vendor_message_id": "v0", "status": "delivered"}]})
    assert answer.status_code == 202
    assert statuses(app_settings, ids) == [("delivered", None)]
    assert redis.Redis.from_url(REDIS_URL).llen(f"{redis_receipts}:queue") == 0

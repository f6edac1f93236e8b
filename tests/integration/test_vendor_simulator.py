"""The bundled vendor simulator: idempotency, stats, rejections, 429/503, runtime config,
and signed receipt batches posted to a real HTTP callback."""

from __future__ import annotations

import json
import time
import uuid

import redis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from mini_crm.core.delivery import signing
from mini_crm.settings import Settings
from mini_crm.simulator import create_app
from mini_crm.simulator.sender import outcome
from mini_crm.simulator.store import MemoryStore, RedisStore
from tests.servers import serve

SECRET = "receipt-secret-for-tests"
AUTH = {"Authorization": "Bearer sim"}


class Receiver:
    """A tiny receipt callback that verifies signatures like the real one."""

    def __init__(self, fail_first: int = 0) -> None:
        self.batches: list[list[dict]] = []
        self.bad = 0
        self.fail_first = fail_first
        self.app = FastAPI()
        self.app.post("/hook")(self.hook)

    async def hook(self, request: Request) -> JSONResponse:
        body = await request.body()
        try:
            signing.verify(SECRET, request.headers.get(signing.TIMESTAMP_HEADER),
                           request.headers.get(signing.SIGNATURE_HEADER), body)
        except signing.SignatureError:
            self.bad += 1
            return JSONResponse({}, status_code=401)
        if self.fail_first > 0:
            self.fail_first -= 1
            return JSONResponse({}, status_code=500)
        self.batches.append(json.loads(body)["receipts"])
        return JSONResponse({"accepted": len(self.batches[-1])}, status_code=202)

    def receipts(self) -> list[dict]:
        return [r for batch in self.batches for r in batch]


def sim_settings(**overrides) -> Settings:
    values = {"receipt_signing_secret": SECRET, "simulator_receipt_delay_ms": 20,
              "vendor_secret": "", **overrides}
    return Settings(**values)


def messages(keys, channel: str = "sms", to: str = "+91 98200 12345") -> list[dict]:
    return [{"idempotency_key": str(k), "channel": channel, "to": to, "body": f"hi {k}"}
            for k in keys]


def wait_for(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_idempotent_per_key_and_counted_once() -> None:
    client = TestClient(create_app(sim_settings()))
    first = client.post("/v1/messages", headers=AUTH, json={"messages": messages(range(5))})
    assert first.status_code == 200
    ids = {r["idempotency_key"]: r["vendor_message_id"] for r in first.json()["results"]}
    assert len(set(ids.values())) == 5 and all(v.startswith("sim-") for v in ids.values())
    again = client.post("/v1/messages", headers=AUTH, json={"messages": messages([3, 4, 5])})
    got = {r["idempotency_key"]: r["vendor_message_id"] for r in again.json()["results"]}
    assert got["3"] == ids["3"] and got["4"] == ids["4"] and got["5"] not in ids.values()
    stats = client.get("/v1/stats", headers=AUTH).json()
    assert (stats["accepted"], stats["duplicates"], stats["keys_seen"]) == (6, 2, 6)
    assert stats["keys_seen_twice"] == ["3", "4"]
    assert stats["requests"] == 2


def test_vendor_ids_differ_between_simulator_runs() -> None:
    one = TestClient(create_app(sim_settings()))
    two = TestClient(create_app(sim_settings()))
    a = one.post("/v1/messages", headers=AUTH, json={"messages": messages([1])}).json()
    b = two.post("/v1/messages", headers=AUTH, json={"messages": messages([1])}).json()
    assert a["results"][0]["vendor_message_id"] != b["results"][0]["vendor_message_id"]


def test_obviously_invalid_recipients_are_rejected() -> None:
    client = TestClient(create_app(sim_settings()))
    batch = [*messages([1], to=""), *messages([2], to="12"),
             *messages([3], channel="email", to="not-an-address"),
             *messages([4], channel="email", to="asha@example.in"),
             *messages([5], channel="whatsapp", to="+44 20 7946 0958"),
             {"idempotency_key": "6", "channel": "sms", "to": "+919820012345", "body": "  "}]
    results = client.post("/v1/messages", headers=AUTH, json={"messages": batch}).json()
    status = {r["idempotency_key"]: (r["status"], r["error"]) for r in results["results"]}
    assert status["1"] == ("rejected", "empty recipient")
    assert status["2"][0] == "rejected" and "phone" in status["2"][1]
    assert status["3"][0] == "rejected" and "email" in status["3"][1]
    assert status["4"] == ("accepted", None) and status["5"] == ("accepted", None)
    assert status["6"] == ("rejected", "empty message body")
    assert all(r["vendor_message_id"] is None for r in results["results"]
               if r["status"] == "rejected")
    # A rejected key re-sent stays rejected and counts as a duplicate.
    again = client.post("/v1/messages", headers=AUTH, json={"messages": messages([1], to="")})
    assert again.json()["results"][0]["status"] == "rejected"
    stats = client.get("/v1/stats", headers=AUTH).json()
    assert (stats["accepted"], stats["rejected"], stats["duplicates"]) == (2, 4, 1)


def test_auth_and_request_validation() -> None:
    client = TestClient(create_app(sim_settings(vendor_secret="vsecret")))
    body = {"messages": messages([1])}
    assert client.post("/v1/messages", json=body, headers=AUTH).status_code == 401
    ok = client.post("/v1/messages", json=body, headers={"Authorization": "Bearer vsecret"})
    assert ok.status_code == 200
    headers = {"Authorization": "Bearer vsecret"}
    assert client.post("/v1/messages", json={"messages": []}, headers=headers).status_code == 422
    too_many = {"messages": messages(range(1001))}
    assert client.post("/v1/messages", json=too_many, headers=headers).status_code == 422


def test_rate_limit_answers_429_with_retry_after() -> None:
    client = TestClient(create_app(sim_settings(simulator_rate_limit_per_second=10)))
    assert client.post("/v1/messages", headers=AUTH,
                       json={"messages": messages(range(10))}).status_code == 200
    limited = client.post("/v1/messages", headers=AUTH, json={"messages": messages([99])})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    time.sleep(max(0.2, limited.json()["error"]["details"]["retry_after_seconds"]))
    assert client.post("/v1/messages", headers=AUTH,
                       json={"messages": messages([99])}).status_code == 200
    stats = client.get("/v1/stats", headers=AUTH).json()
    assert (stats["rate_limited"], stats["accepted"]) == (1, 11)


def test_outage_503_then_recovery_through_runtime_config() -> None:
    client = TestClient(create_app(sim_settings(simulator_error_rate=1.0)))
    down = client.post("/v1/messages", headers=AUTH, json={"messages": messages([1, 2])})
    assert down.status_code == 503
    assert client.get("/v1/stats", headers=AUTH).json()["accepted"] == 0  # nothing taken
    cfg = client.post("/v1/config", headers=AUTH, json={"error_rate": 0.0, "latency_ms": 30})
    assert cfg.json()["error_rate"] == 0.0 and cfg.json()["latency_ms"] == 30
    started = time.monotonic()
    up = client.post("/v1/messages", headers=AUTH, json={"messages": messages([1, 2])})
    assert up.status_code == 200 and time.monotonic() - started >= 0.03
    assert client.post("/v1/config", headers=AUTH, json={"error_rate": 2}).status_code == 422
    stats = client.get("/v1/stats", headers=AUTH).json()
    assert (stats["errors_injected"], stats["accepted"]) == (1, 2)


def test_a_timed_outage_refuses_every_send_then_ends_by_itself() -> None:
    store = MemoryStore()
    client = TestClient(create_app(sim_settings(), store=store))
    for status in (429, 503):
        cfg = client.post("/v1/config", headers=AUTH,
                          json={"outage_seconds": 0.4, "outage_status": status})
        assert cfg.status_code == 200
        down = client.post("/v1/messages", headers=AUTH, json={"messages": messages([status])})
        assert down.status_code == status
        assert 1 <= int(down.headers["Retry-After"]) <= 5
        assert down.json()["error"]["message"].startswith("simulated outage")
        time.sleep(0.45)
        up = client.post("/v1/messages", headers=AUTH, json={"messages": messages([status])})
        assert up.status_code == 200
    stats = client.get("/v1/stats", headers=AUTH).json()
    assert (stats["outage_refused"], stats["accepted"]) == (2, 2)
    assert store.vendor_ids().keys() == {"429", "503"}  # the vendor's own log
    assert client.post("/v1/config", headers=AUTH,
                       json={"outage_seconds": 1, "outage_status": 500}).status_code == 422


def test_outcome_is_deterministic_and_about_ninety_percent() -> None:
    results = [outcome(str(k), "sms", 0.9) for k in range(20_000)]
    delivered = sum(1 for status, _ in results if status == "delivered")
    assert 0.88 < delivered / 20_000 < 0.92
    assert results == [outcome(str(k), "sms", 0.9) for k in range(20_000)]
    assert all(error for status, error in results if status == "failed")
    assert outcome("7", "sms", 0.0)[0] == "failed" and outcome("7", "sms", 1.0)[0] == "delivered"


def test_receipts_are_posted_signed_in_batches_to_the_callback() -> None:
    receiver = Receiver()
    with serve(receiver.app) as base:
        app = create_app(sim_settings(simulator_receipt_batch_size=100))
        client = TestClient(app)
        sent = {}
        for chunk in range(3):
            keys = range(chunk * 100, chunk * 100 + 100)
            answer = client.post("/v1/messages", headers=AUTH, json={
                "callback_url": f"{base}/hook", "messages": messages(keys)}).json()
            sent.update({r["vendor_message_id"]: r["idempotency_key"]
                         for r in answer["results"]})
        # A duplicate send produces no second receipt.
        client.post("/v1/messages", headers=AUTH, json={
            "callback_url": f"{base}/hook", "messages": messages(range(50))})
        wait_for(lambda: len(receiver.receipts()) >= 300)
        time.sleep(0.3)
        app.state.simulator.sender.close()
    got = receiver.receipts()
    assert receiver.bad == 0
    assert len(got) == 300 and {r["vendor_message_id"] for r in got} == set(sent)
    assert all(len(batch) <= 100 for batch in receiver.batches)
    for r in got:
        assert (r["status"], r["error"]) == outcome(sent[r["vendor_message_id"]], "sms", 0.9)
        assert r["at"].endswith("Z")
    stats = client.get("/v1/stats", headers=AUTH).json()
    assert stats["receipts_posted"] == 300 and stats["receipts_pending"] == 0


def test_a_failing_callback_is_retried_with_backoff() -> None:
    receiver = Receiver(fail_first=2)
    with serve(receiver.app) as base:
        app = create_app(sim_settings())
        client = TestClient(app)
        client.post("/v1/messages", headers=AUTH, json={
            "callback_url": f"{base}/hook", "messages": messages(range(20))})
        wait_for(lambda: len(receiver.receipts()) == 20)
        app.state.simulator.sender.close()
    stats = client.get("/v1/stats", headers=AUTH).json()
    assert stats["callback_failures"] == 2 and stats["receipts_posted"] == 20


def test_redis_store_is_one_vendor_across_processes() -> None:
    raw = redis.Redis.from_url("redis://127.0.0.1:6379/12")
    prefix = f"test:sim:{uuid.uuid4().hex[:8]}"
    try:
        one = TestClient(create_app(sim_settings(), store=RedisStore(raw, prefix)))
        two = TestClient(create_app(sim_settings(), store=RedisStore(raw, prefix)))
        a = one.post("/v1/messages", headers=AUTH, json={"messages": messages([1, 2])}).json()
        b = two.post("/v1/messages", headers=AUTH,
                     json={"messages": messages([2, 3]) + messages([4], to="")}).json()
        ids_a = {r["idempotency_key"]: r["vendor_message_id"] for r in a["results"]}
        ids_b = {r["idempotency_key"]: r["vendor_message_id"] for r in b["results"]}
        assert ids_b["2"] == ids_a["2"] and ids_b["3"] not in ids_a.values()
        assert b["results"][2]["status"] == "rejected"
        stats = two.get("/v1/stats", headers=AUTH).json()
        assert (stats["accepted"], stats["rejected"], stats["duplicates"]) == (3, 1, 1)
        assert stats["keys_seen_twice"] == ["2"] and stats["requests"] == 2
        assert two.post("/v1/reset", headers=AUTH).status_code == 200
        assert one.get("/v1/stats", headers=AUTH).json()["accepted"] == 0
    finally:
        for key in raw.scan_iter(f"{prefix}:*"):
            raw.delete(key)


def test_two_installs_on_one_redis_do_not_share_the_simulators_memory() -> None:
    # The tester's case: a second clone with its own database, the same Redis and no
    # namespace of its own; its row ids "1", "2" were counted as the first's duplicates.
    raw = redis.Redis.from_url("redis://127.0.0.1:6379/12")
    namespace = f"test-installs-{uuid.uuid4().hex[:8]}:"
    first, second = (sim_settings(database_url=f"sqlite:////srv/{name}/data/mini_crm.db",
                                  redis_namespace=namespace, simulator_redis_prefix="")
                     for name in ("one", "two"))
    try:
        clients = [TestClient(create_app(s, store=RedisStore(raw, s.simulator_redis_prefix)))
                   for s in (first, second)]
        for client in clients:
            answer = client.post("/v1/messages", headers=AUTH, json={"messages": messages([1, 2])})
            assert [r["status"] for r in answer.json()["results"]] == ["accepted", "accepted"]
        for client in clients:
            stats = client.get("/v1/stats", headers=AUTH).json()
            assert (stats["accepted"], stats["duplicates"], stats["keys_seen_twice"]) == (2, 0, [])
    finally:
        for key in raw.scan_iter(f"{namespace}*"):
            raw.delete(key)


def test_memory_store_stays_compact_for_100k_keys() -> None:
    store = MemoryStore()
    for start in range(0, 100_000, 1000):
        store.record([(str(k), False) for k in range(start, start + 1000)])
    store.record([(str(k), False) for k in range(10)])
    stats = store.stats()
    assert (stats["accepted"], stats["duplicates"], stats["keys_seen"]) == (100_000, 10, 100_000)

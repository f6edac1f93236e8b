"""HTTP vendor clients (simulator, webhook) over real sockets, and client selection."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from mini_crm.core.delivery import signing
from mini_crm.core.delivery.vendors import (
    HttpVendorClient,
    OutgoingMessage,
    PermanentVendorError,
    SendResult,
    SmtpVendorClient,
    TransientVendorError,
    get_vendor_client,
    parse_retry_after,
    simulator_in_use,
)
from mini_crm.settings import Settings
from mini_crm.simulator import create_app
from tests.integration.test_vendor_simulator import sim_settings
from tests.servers import serve


def msgs(keys, to: str = "+91 98200 12345", channel: str = "sms") -> list[OutgoingMessage]:
    return [OutgoingMessage(str(k), channel, to, f"hello {k}") for k in keys]


def test_simulator_client_round_trip_and_idempotency() -> None:
    app = create_app(sim_settings())
    with serve(app) as base:
        client = HttpVendorClient(url=f"{base}/v1/messages", token="sim", callback_url=None)
        first = client.send(msgs(range(1500)) + msgs(["bad"], to=""))  # two requests
        assert [r.idempotency_key for r in first] == [*map(str, range(1500)), "bad"]
        assert all(r.status == "accepted" and r.vendor_message_id for r in first[:-1])
        assert first[-1] == SendResult("bad", None, "rejected", "empty recipient")
        again = client.send(msgs(range(10)))
        assert [r.vendor_message_id for r in again] == [r.vendor_message_id for r in first[:10]]
    stats = app.state.simulator.stats()
    assert (stats["accepted"], stats["rejected"], stats["duplicates"]) == (1500, 1, 10)


class FakeVendor:
    """A vendor whose next answer the test chooses; records what it was sent."""

    def __init__(self) -> None:
        self.next: Response | None = None
        self.seen: list[tuple[dict[str, str], bytes]] = []
        self.delay = 0.0
        self.app = FastAPI()
        self.app.post("/hook")(self.hook)

    async def hook(self, request: Request) -> Response:
        import asyncio

        body = await request.body()
        self.seen.append((dict(request.headers), body))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.next is not None:
            return self.next
        data = json.loads(body)
        return JSONResponse({"results": [
            {"idempotency_key": m["idempotency_key"],
             "vendor_message_id": f"wh-{m['idempotency_key']}", "status": "accepted",
             "error": None} for m in data["messages"]]})


@pytest.fixture
def fake():
    vendor = FakeVendor()
    with serve(vendor.app) as base:
        vendor.url = f"{base}/hook"
        yield vendor


def test_webhook_requests_are_signed_and_verifiable(fake: FakeVendor) -> None:
    settings = Settings(vendor_kind="webhook", vendor_url=fake.url, vendor_secret="wh-secret",
                        app_url="https://crm.example.com")
    client = get_vendor_client(settings, "whatsapp")
    assert isinstance(client, HttpVendorClient) and client.name == "webhook"
    results = client.send(msgs([7, 8], channel="whatsapp"))
    assert [r.vendor_message_id for r in results] == ["wh-7", "wh-8"]
    headers, body = fake.seen[0]
    assert headers["authorization"] == "Bearer wh-secret"
    signing.verify("wh-secret", headers["x-mini-crm-timestamp"],
                   headers["x-mini-crm-signature"], body)
    with pytest.raises(signing.SignatureError):
        signing.verify("other", headers["x-mini-crm-timestamp"],
                       headers["x-mini-crm-signature"], body)
    payload = json.loads(body)
    assert payload["callback_url"] == "https://crm.example.com/api/v1/receipts"
    assert payload["messages"][0] == {"idempotency_key": "7", "channel": "whatsapp",
                                      "to": "+91 98200 12345", "body": "hello 7"}


@pytest.mark.parametrize("status, headers, retry_after", [
    (429, {"Retry-After": "3"}, 3.0), (503, {}, None), (500, {"Retry-After": "0.5"}, 0.5),
    (408, {}, None)])
def test_transient_answers_raise_transient_errors(fake: FakeVendor, status, headers,
                                                  retry_after) -> None:
    fake.next = JSONResponse({"error": "busy"}, status_code=status, headers=headers)
    client = HttpVendorClient(url=fake.url, token="t", callback_url=None)
    with pytest.raises(TransientVendorError) as info:
        client.send(msgs([1]))
    assert info.value.retry_after == retry_after
    assert str(status) in info.value.reason


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_refused_requests_raise_permanent_errors(fake: FakeVendor, status: int) -> None:
    fake.next = JSONResponse({"error": "no"}, status_code=status)
    with pytest.raises(PermanentVendorError, match=str(status)):
        HttpVendorClient(url=fake.url, token="t", callback_url=None).send(msgs([1]))


@pytest.mark.parametrize("answer", [
    Response("not json", media_type="text/plain"),
    JSONResponse({"results": []}),
    JSONResponse({"results": [{"idempotency_key": "1", "status": "queued"}]})])
def test_answers_we_do_not_understand_are_transient(fake: FakeVendor, answer) -> None:
    fake.next = answer
    with pytest.raises(TransientVendorError):
        HttpVendorClient(url=fake.url, token="t", callback_url=None).send(msgs([1]))


def test_timeouts_and_refused_connections_are_transient(fake: FakeVendor) -> None:
    fake.delay = 1.0
    with pytest.raises(TransientVendorError, match="timed out"):
        HttpVendorClient(url=fake.url, token="t", callback_url=None, timeout=0.2).send(msgs([1]))
    from tests.servers import free_socket

    sock = free_socket()  # bound, never listening: connection refused
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1/messages"
    try:
        with pytest.raises(TransientVendorError, match="unreachable"):
            HttpVendorClient(url=url, token="t", callback_url=None).send(msgs([1]))
    finally:
        sock.close()


def test_parse_retry_after() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("-3") == 0.0


def test_client_selection_follows_settings() -> None:
    sim = Settings(vendor_kind="simulator", vendor_url="", app_url="http://localhost:3000")
    client = get_vendor_client(sim, "sms")
    assert client.url == "http://localhost:3000/vendor/v1/messages" and client.token == "sim"
    assert client.callback_url == "http://localhost:3000/api/v1/receipts"
    assert get_vendor_client(sim, "email").name == "simulator"  # email too, on the simulator
    alone = Settings(vendor_kind="simulator", vendor_url="http://127.0.0.1:3200/")
    assert get_vendor_client(alone, "sms").url == "http://127.0.0.1:3200/v1/messages"
    smtp = Settings(vendor_kind="smtp", smtp_host="mail.local", smtp_port=2525)
    email_client = get_vendor_client(smtp, "email")
    assert isinstance(email_client, SmtpVendorClient) and email_client.port == 2525
    assert get_vendor_client(smtp, "sms").name == "simulator"
    assert simulator_in_use(sim) and simulator_in_use(smtp)
    assert not simulator_in_use(Settings(vendor_kind="webhook", vendor_url="https://v.example"))
    with pytest.raises(ValueError, match="VENDOR_URL"):
        get_vendor_client(Settings(vendor_kind="webhook", vendor_url=""), "sms")

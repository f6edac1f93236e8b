"""The bundled vendor simulator: an ASGI app speaking the vendor API of the delivery contract.

POST /v1/messages accepts up to 1000 messages, answers a vendor id per message
(idempotent per idempotency_key) and later posts signed receipts to callback_url.
Behaviour comes from settings (SIMULATOR_*) and can be changed while running with
POST /v1/config, so tests and demos can stage an outage and a recovery (error_rate, or
`outage_seconds` of 429s or 503s).
GET /v1/stats counts every key received: the proof of "0 lost, 0 sent twice".
GET /v1/log lists the requests it processed, each with when it was received and
answered (wall-clock seconds) and how many keys it accepted for the first time: the
proof of "nothing accepted after the cancel answered".
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
import random
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mini_crm.api.errors import ApiError, install_error_handlers
from mini_crm.core.delivery import signing
from mini_crm.core.redis_conn import get_redis
from mini_crm.settings import Settings, get_settings
from mini_crm.simulator.sender import ReceiptSender, outcome
from mini_crm.simulator.store import REJECTED, MemoryStore, RedisStore, Store

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_PUNCTUATION = re.compile(r"[\s().\-]")


class MessageIn(BaseModel):
    idempotency_key: str = Field(min_length=1, max_length=128)
    channel: Literal["sms", "email", "whatsapp"]
    to: str = Field(default="", max_length=320)
    body: str = Field(default="", max_length=20_000)
    subject: str | None = None


class SendRequest(BaseModel):
    callback_url: str | None = Field(default=None, max_length=2000)
    messages: list[MessageIn] = Field(min_length=1, max_length=1000)


class SimulatorConfig(BaseModel):
    delivered_ratio: float = Field(ge=0.0, le=1.0)
    latency_ms: int = Field(ge=0)
    error_rate: float = Field(ge=0.0, le=1.0)
    rate_limit_per_second: int = Field(ge=0)
    receipt_delay_ms: int = Field(ge=0)


class ReplyIn(BaseModel):
    """A reply to simulate: what a recipient texts or mails back."""

    sender: str = Field(alias="from", min_length=1, max_length=320)
    channel: Literal["sms", "email", "whatsapp"] = "sms"
    body: str = Field(max_length=5000)
    # Where the app takes inbound replies; default APP_URL + /api/v1/inbound.
    inbound_url: str | None = Field(default=None, max_length=2000)


class ConfigPatch(BaseModel):
    """Fields left out keep their value. `outage_seconds` starts an outage now: every send
    is refused with `outage_status` (429 with Retry-After, or 503) for that long."""

    delivered_ratio: float | None = Field(default=None, ge=0.0, le=1.0)
    latency_ms: int | None = Field(default=None, ge=0)
    error_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    rate_limit_per_second: int | None = Field(default=None, ge=0)
    receipt_delay_ms: int | None = Field(default=None, ge=0)
    outage_seconds: float | None = Field(default=None, ge=0.0, le=3600.0)
    outage_status: Literal[429, 503] = 503


def invalid_recipient(message: MessageIn) -> str | None:
    """Why a message is obviously undeliverable (a permanent, per-message rejection)."""
    to = message.to.strip()
    if not to:
        return "empty recipient"
    if not message.body.strip():
        return "empty message body"
    if message.channel == "email":
        return None if _EMAIL.match(to) else f"invalid email address {to!r}"
    digits = _PHONE_PUNCTUATION.sub("", to).removeprefix("+")
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        return f"invalid phone number {to!r}"
    return None


class _Bucket:
    """A token bucket of `rate` messages a second (its capacity is one second's worth)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens = 0.0
        self._at = time.monotonic()
        self._rate = 0

    def take(self, rate: int, n: int) -> float:
        """0 when allowed (and n tokens taken), else seconds until a request may pass."""
        with self._lock:
            now = time.monotonic()
            if rate != self._rate:
                self._rate, self._tokens = rate, float(rate)
            self._tokens = min(float(rate), self._tokens + (now - self._at) * rate)
            self._at = now
            # A request bigger than the bucket needs a full bucket and leaves it in debt.
            needed = min(float(n), float(rate))
            if self._tokens < needed:
                return (needed - self._tokens) / rate
            self._tokens -= n
            return 0.0


class Simulator:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.config = SimulatorConfig(
            delivered_ratio=settings.simulator_delivered_ratio,
            latency_ms=settings.simulator_latency_ms,
            error_rate=settings.simulator_error_rate,
            rate_limit_per_second=settings.simulator_rate_limit_per_second,
            receipt_delay_ms=settings.simulator_receipt_delay_ms)
        self.sender = ReceiptSender(store, settings.receipt_signing_secret,
                                    delay_ms=settings.simulator_receipt_delay_ms,
                                    batch_size=settings.simulator_receipt_batch_size,
                                    timeout=settings.vendor_timeout_seconds)
        self.bucket = _Bucket()
        self.random = random.Random()
        self.token = settings.vendor_secret or "sim"
        self.blocking_store = isinstance(store, RedisStore)
        self.outage_until = 0.0  # time.monotonic() until which sends are refused
        self.outage_status = 503

    def check_auth(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                                 self.token.encode()):
            raise ApiError(401, "missing or wrong bearer token",
                           headers={"WWW-Authenticate": "Bearer"})

    def process(self, req: SendRequest, received_at: float | None = None
                ) -> list[dict[str, Any]]:
        reasons = [invalid_recipient(m) for m in req.messages]
        recorded = self.store.record([(m.idempotency_key, r is not None)
                                      for m, r in zip(req.messages, reasons, strict=True)])
        results: list[dict[str, Any]] = []
        receipts: list[tuple[str, str, str | None]] = []
        for message, reason, (vendor_id, first) in zip(req.messages, reasons, recorded,
                                                       strict=True):
            if vendor_id == REJECTED:
                results.append({"idempotency_key": message.idempotency_key,
                                "vendor_message_id": None, "status": "rejected",
                                "error": reason or "recipient rejected earlier"})
                continue
            results.append({"idempotency_key": message.idempotency_key,
                            "vendor_message_id": vendor_id, "status": "accepted", "error": None})
            if first:
                status, error = outcome(message.idempotency_key, message.channel,
                                        self.config.delivered_ratio)
                receipts.append((vendor_id, status, error))
        if receipts and req.callback_url:
            self.sender.delay_ms = self.config.receipt_delay_ms
            self.sender.add(req.callback_url, receipts)
        # `receipts` holds one entry per key accepted for the first time.
        self.store.log_request(received_at or time.time(), time.time(), len(receipts))
        return results

    def stats(self) -> dict[str, Any]:
        return {**self.store.stats(), "receipts_pending": self.sender.pending(),
                "config": self.config.model_dump()}


def create_app(settings: Settings | None = None, *, store: Store | None = None,
               shared_state: bool = False) -> FastAPI:
    """The simulator app. `shared_state` keeps its memory in Redis (when Redis answers) so
    several app processes behave as one vendor; otherwise it lives in this process."""
    settings = settings or get_settings()
    if store is None:
        client = get_redis() if shared_state else None
        store = (RedisStore(client, settings.simulator_redis_prefix) if client is not None
                 else MemoryStore())
    sim = Simulator(settings, store)
    app = FastAPI(title="Mini CRM vendor simulator", version="1.0.0",
                  description=__doc__, docs_url="/docs", openapi_url="/openapi.json")
    install_error_handlers(app)
    app.state.simulator = sim

    @app.post("/v1/messages", summary="Send messages (1..1000), idempotent per key")
    async def send(req: SendRequest, request: Request) -> JSONResponse:
        received_at = time.time()
        sim.check_auth(request)
        sim.store.incr("requests")
        cfg = sim.config
        outage_left = sim.outage_until - time.monotonic()
        if outage_left > 0:
            sim.store.incr("outage_refused")
            status = sim.outage_status
            raise ApiError(status, f"simulated outage ({status}); nothing was accepted",
                           headers={"Retry-After": str(max(1, math.ceil(min(outage_left, 5))))})
        if cfg.rate_limit_per_second:
            wait = sim.bucket.take(cfg.rate_limit_per_second, len(req.messages))
            if wait:
                sim.store.incr("rate_limited")
                raise ApiError(429, f"over the rate limit of {cfg.rate_limit_per_second} "
                               "messages a second",
                               headers={"Retry-After": str(max(1, math.ceil(wait)))},
                               details={"retry_after_seconds": round(wait, 3)})
        if cfg.latency_ms:
            await asyncio.sleep(cfg.latency_ms / 1000)
        if cfg.error_rate and sim.random.random() < cfg.error_rate:
            sim.store.incr("errors_injected")
            raise ApiError(503, "simulated vendor error; nothing was accepted")
        if sim.blocking_store:
            results = await run_in_threadpool(sim.process, req, received_at)
        else:
            results = sim.process(req, received_at)
        return JSONResponse({"results": results})

    @app.get("/v1/stats", summary="Counters: accepted, duplicates, receipts posted …")
    async def stats(request: Request) -> dict[str, Any]:
        sim.check_auth(request)
        return await run_in_threadpool(sim.stats)

    @app.get("/v1/log", summary="Processed requests: received_at, answered_at, accepted")
    async def request_log(request: Request) -> dict[str, Any]:
        sim.check_auth(request)
        return {"requests": await run_in_threadpool(sim.store.request_log)}

    @app.post("/v1/config", summary="Change behaviour while running (outage, latency …)")
    async def config(patch: ConfigPatch, request: Request) -> dict[str, Any]:
        sim.check_auth(request)
        changes = patch.model_dump(exclude_none=True, exclude={"outage_seconds",
                                                               "outage_status"})
        sim.config = sim.config.model_copy(update=changes)
        if patch.outage_seconds is not None:
            sim.outage_status = patch.outage_status
            sim.outage_until = time.monotonic() + patch.outage_seconds
        return sim.config.model_dump()

    @app.post("/v1/inbound", summary="Simulate a reply (STOP, START, ...) from a recipient",
              description="Posts it to the app's inbound webhook signed like receipts, as "
                          "a real vendor would, and answers with the app's status and body.")
    async def simulate_reply(reply: ReplyIn, request: Request) -> dict[str, Any]:
        sim.check_auth(request)
        url = reply.inbound_url or f"{settings.app_url.rstrip('/')}/api/v1/inbound"
        body = json.dumps({"messages": [{
            "from": reply.sender, "channel": reply.channel, "body": reply.body,
            "at": datetime.now(UTC).isoformat()}]}).encode()
        headers = {**signing.signed_headers(settings.receipt_signing_secret, body),
                   "content-type": "application/json"}
        try:
            async with httpx.AsyncClient(timeout=settings.vendor_timeout_seconds) as client:
                answer = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ApiError(502, f"could not reach the app at {url}: {exc}") from exc
        sim.store.incr("replies_posted")
        try:
            content: Any = answer.json()
        except ValueError:
            content = answer.text[:2000]
        return {"status": answer.status_code, "answer": content}

    @app.post("/v1/reset", summary="Forget every key and counter (benchmarks, demos)")
    async def reset(request: Request) -> dict[str, str]:
        sim.check_auth(request)
        sim.sender.clear()
        await run_in_threadpool(sim.store.reset)
        return {"status": "reset"}

    return app

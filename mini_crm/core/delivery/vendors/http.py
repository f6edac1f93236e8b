"""The contract's vendor HTTP API (POST .../v1/messages, idempotent per key, receipts
posted back later), spoken by the bundled simulator (`simulator.py`) and by any
webhook vendor (`webhook.py`): those two modules only choose URL, token and signing.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from mini_crm.core.delivery import signing
from mini_crm.core.delivery.vendors.base import (
    OutgoingMessage,
    PermanentVendorError,
    SendResult,
    TransientVendorError,
    parse_retry_after,
)

MAX_HTTP_BATCH = 1000  # messages per vendor request (the contract's limit)

_pool_lock = threading.Lock()
_pools: dict[tuple[int, float], httpx.Client] = {}


def http_pool(timeout: float) -> httpx.Client:
    """One pooled client per process (and timeout): connections stay warm across batches."""
    key = (os.getpid(), timeout)  # a forked child must not share its parent's sockets
    with _pool_lock:
        client = _pools.get(key)
        if client is None or client.is_closed:
            client = httpx.Client(timeout=timeout, limits=httpx.Limits(
                max_connections=64, max_keepalive_connections=32))
            _pools[key] = client
        return client


@dataclass
class HttpVendorClient:
    """The contract's vendor API: the simulator, or any webhook vendor speaking it."""

    url: str  # the full POST URL, e.g. http://localhost:3000/vendor/v1/messages
    token: str  # sent as `Authorization: Bearer`
    callback_url: str | None
    signing_secret: str | None = None  # when set, the body is HMAC-signed like receipts
    timeout: float = 10.0
    name: str = "http"
    max_batch: int = MAX_HTTP_BATCH
    client: httpx.Client | None = field(default=None, repr=False)

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        for i in range(0, len(messages), self.max_batch):
            # Safe to redo from the start if a later chunk fails: keys make it idempotent.
            results += self._send_chunk(messages[i:i + self.max_batch])
        return results

    def _payload(self, messages: Sequence[OutgoingMessage]) -> bytes:
        items = []
        for m in messages:
            item = {"idempotency_key": m.idempotency_key, "channel": m.channel, "to": m.to,
                    "body": m.body}
            if m.subject:
                item["subject"] = m.subject
            items.append(item)
        return json.dumps({"callback_url": self.callback_url, "messages": items},
                          separators=(",", ":")).encode()

    def _send_chunk(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        if not messages:
            return []
        body = self._payload(messages)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if self.signing_secret:
            headers.update(signing.signed_headers(self.signing_secret, body))
        client = self.client or http_pool(self.timeout)
        try:
            response = client.post(self.url, content=body, headers=headers,
                                   timeout=self.timeout)
        except httpx.TimeoutException as exc:
            raise TransientVendorError(f"vendor timed out after {self.timeout} s") from exc
        except httpx.HTTPError as exc:
            raise TransientVendorError(f"vendor unreachable: {type(exc).__name__}: {exc}"
                                       ) from exc
        status = response.status_code
        if status in (408, 425, 429) or status >= 500:
            raise TransientVendorError(f"vendor answered HTTP {status}: {response.text[:200]}",
                                       retry_after=parse_retry_after(
                                           response.headers.get("retry-after")))
        if status >= 300:
            raise PermanentVendorError(f"vendor refused the request: HTTP {status}: "
                                       f"{response.text[:300]}")
        return self._results(messages, response)

    @staticmethod
    def _results(messages: Sequence[OutgoingMessage],
                 response: httpx.Response) -> list[SendResult]:
        try:
            raw = response.json()["results"]
            by_key = {str(r["idempotency_key"]): r for r in raw}
        except (ValueError, KeyError, TypeError) as exc:
            # We cannot know what the vendor took: resending is safe (idempotency keys).
            raise TransientVendorError(f"vendor answer is not understood: {exc!r}") from exc
        results = []
        for m in messages:
            r = by_key.get(m.idempotency_key)
            if r is None:
                raise TransientVendorError(f"vendor answer lacks message {m.idempotency_key}")
            if r.get("status") == "accepted" and r.get("vendor_message_id"):
                results.append(SendResult(m.idempotency_key, str(r["vendor_message_id"]),
                                          "accepted"))
            elif r.get("status") == "rejected":
                results.append(SendResult(m.idempotency_key, None, "rejected",
                                          str(r.get("error") or "rejected by the vendor")))
            else:
                raise TransientVendorError(f"vendor answer for {m.idempotency_key} is not "
                                           f"understood: {r!r}")
        return results

"""The simulator's receipts: decide each message's fate and post signed receipt batches.

A daemon thread with a pooled `httpx.Client`, not a task on the event loop: when the
simulator is mounted inside the app it posts to that same app, and a blocking post
from the loop would wait on itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from mini_crm.core.delivery import signing
from mini_crm.simulator.store import Store

log = logging.getLogger(__name__)

FAILURE_REASONS = {
    "sms": ("handset unreachable", "number not in service", "blocked by carrier",
            "message expired before delivery"),
    "whatsapp": ("not a WhatsApp user", "user blocked the business", "message expired"),
    "email": ("mailbox full", "mailbox does not exist", "rejected as spam by the recipient"),
}
_LINGER_SECONDS = 0.2  # wait this long past the first due receipt to fill a batch
_MAX_POST_TRIES = 20


def outcome(idempotency_key: str, channel: str, delivered_ratio: float) -> tuple[str, str | None]:
    """Deterministic per key (reproducible tests): ('delivered', None) or ('failed', why)."""
    digest = hashlib.sha256(idempotency_key.encode()).digest()
    if int.from_bytes(digest[:8], "big") / 2 ** 64 < delivered_ratio:
        return "delivered", None
    reasons = FAILURE_REASONS.get(channel, FAILURE_REASONS["sms"])
    return "failed", reasons[digest[8] % len(reasons)]


@dataclass
class _Pending:
    due: float
    callback_url: str
    receipt: dict


class ReceiptSender:
    def __init__(self, store: Store, secret: str, *, delay_ms: int, batch_size: int,
                 timeout: float = 10.0) -> None:
        self.store = store
        self.secret = secret
        self.delay_ms = delay_ms
        self.batch_size = batch_size
        self.timeout = timeout
        self._pending: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = False

    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def add(self, callback_url: str, items: list[tuple[str, str, str | None]]) -> None:
        """Schedule receipts: items are (vendor_message_id, status, error)."""
        due = time.monotonic() + self.delay_ms / 1000
        with self._cond:
            self._pending.extend(
                _Pending(due, callback_url, {"vendor_message_id": vid, "status": status,
                                             "error": error})
                for vid, status, error in items)
            self._start()
            self._cond.notify()

    def clear(self) -> None:
        with self._cond:
            self._pending.clear()

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="vendor-sim-receipts",
                                            daemon=True)
            self._thread.start()

    def _next_batch(self) -> tuple[str, list[dict]] | None:
        """Block until a batch is due (or stop): the due head plus whatever is also due for
        the same callback, up to batch_size, after lingering briefly to fill it."""
        with self._cond:
            while not self._stop:
                if not self._pending:
                    self._cond.wait()
                    continue
                now = time.monotonic()
                head = self._pending[0]
                if head.due > now:
                    self._cond.wait(head.due - now)
                    continue
                ready = 0
                for item in self._pending:
                    if item.due > now or ready >= self.batch_size:
                        break
                    ready += 1
                if ready < self.batch_size and now < head.due + _LINGER_SECONDS:
                    self._cond.wait(head.due + _LINGER_SECONDS - now)
                    continue
                url = head.callback_url
                batch: list[dict] = []
                while (self._pending and len(batch) < self.batch_size
                       and self._pending[0].due <= now and self._pending[0].callback_url == url):
                    batch.append(self._pending.popleft().receipt)
                return url, batch
            return None

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while True:
                nxt = self._next_batch()
                if nxt is None:
                    return
                self._post(client, *nxt)

    def _post(self, client: httpx.Client, url: str, batch: list[dict]) -> None:
        at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        body = json.dumps({"receipts": [{**r, "at": at} for r in batch]}).encode()
        for attempt in range(_MAX_POST_TRIES):
            if self._stop:
                return
            try:
                # Signed on every try: the timestamp must stay inside the receiver's window.
                response = client.post(url, content=body, headers={
                    "Content-Type": "application/json",
                    **signing.signed_headers(self.secret, body)})
                if response.status_code < 300:
                    self.store.incr("receipts_posted", len(batch))
                    return
                reason = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}"
            self.store.incr("callback_failures")
            wait = min(0.25 * 2 ** attempt, 30.0)
            log.warning("receipt callback %s failed (%s); retry in %.1f s", url, reason, wait)
            time.sleep(wait)
        self.store.incr("receipts_dropped", len(batch))
        log.error("gave up posting %d receipts to %s", len(batch), url)

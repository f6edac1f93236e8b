"""Vendor clients: how a delivery worker hands messages to a vendor.

One protocol, three implementations chosen by settings (`get_vendor_client`):
- the bundled simulator and a generic webhook vendor, both over HTTP per the delivery
  contract (POST .../v1/messages, idempotent per key, receipts posted back later);
- SMTP email (smtplib), which has no receipts: a hand-off the server accepted is
  'accepted' and the worker marks it sent.

`send` returns one SendResult per message ('accepted' with the vendor's id, or
'rejected' = a permanent per-message failure) or raises TransientVendorError (retry
the same messages later, honouring retry_after) or PermanentVendorError (the vendor
refuses the request itself; retrying the same request cannot help).
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import smtplib
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Literal, Protocol

import httpx

from mini_crm.core.delivery import signing
from mini_crm.settings import Settings, get_settings

MAX_HTTP_BATCH = 1000  # messages per vendor request (the contract's limit)


@dataclass(frozen=True)
class OutgoingMessage:
    idempotency_key: str  # communication_log.id as a string
    channel: str  # "sms" | "email" | "whatsapp"
    to: str
    body: str
    subject: str | None = None  # email only; defaults to the body's first line
    # The recipient's one-click unsubscribe link: SMTP sends it as List-Unsubscribe.
    unsubscribe_url: str | None = None
    html: str | None = None  # email only: the HTML alternative of `body`
    sender_name: str | None = None  # email only: shown beside the From address


@dataclass(frozen=True)
class SendResult:
    idempotency_key: str
    vendor_message_id: str | None
    status: Literal["accepted", "rejected"]
    error: str | None = None


class VendorError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientVendorError(VendorError):
    """Try again later (5xx, 429, timeouts, connection errors). `partial` holds results for
    messages the vendor already took before the failure (SMTP hands off one by one); a
    caller that records them avoids re-sending those."""

    def __init__(self, reason: str, retry_after: float | None = None,
                 partial: Sequence[SendResult] = ()) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.partial = list(partial)


class PermanentVendorError(VendorError):
    """The vendor refused the request as such (HTTP 4xx other than 408/425/429)."""


class VendorClient(Protocol):
    name: str
    max_batch: int

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]: ...


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: delay-seconds (fractions tolerated) or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# --- HTTP (simulator, webhook) -------------------------------------------------------------

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


# --- SMTP ----------------------------------------------------------------------------------

@dataclass
class SmtpVendorClient:
    host: str
    port: int
    from_addr: str
    timeout: float = 10.0
    username: str = ""
    password: str = ""
    security: Literal["none", "starttls", "ssl"] = "none"
    id_salt: str = ""  # makes Message-IDs unique to this deployment
    name: str = "smtp"
    max_batch: int = 500

    def message_id(self, idempotency_key: str) -> str:
        """Stable per key: a retried hand-off carries the same Message-ID, which mail
        systems use to drop the duplicate."""
        domain = self.from_addr.rpartition("@")[2] or "mini-crm.local"
        tag = hashlib.sha256(f"{self.id_salt}:{idempotency_key}".encode()).hexdigest()[:12]
        return f"<mc.{idempotency_key}.{tag}@{domain}>"

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if self.username:
            smtp.login(self.username, self.password)
        return smtp

    def _email(self, m: OutgoingMessage) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = (email.utils.formataddr((m.sender_name, self.from_addr))
                       if m.sender_name else self.from_addr)
        msg["To"] = m.to.strip()
        first_line = (m.body.strip().splitlines() or [""])[0]
        msg["Subject"] = (m.subject or first_line[:78] or "(no subject)").replace("\n", " ")
        msg["Message-ID"] = self.message_id(m.idempotency_key)
        msg["Date"] = email.utils.formatdate(localtime=False)
        if m.unsubscribe_url:
            # RFC 2369 + RFC 8058: mail clients show an unsubscribe button that POSTs
            # "List-Unsubscribe=One-Click" to the link, without opening a browser.
            msg["List-Unsubscribe"] = f"<{m.unsubscribe_url}>"
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content(m.body)
        if m.html:
            msg.add_alternative(m.html, subtype="html")
        return msg

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        smtp: smtplib.SMTP | None = None
        try:
            for m in messages:
                if m.channel != "email":
                    results.append(SendResult(m.idempotency_key, None, "rejected",
                                              f"SMTP carries email only, not {m.channel}"))
                    continue
                to = m.to.strip()
                if "@" not in to or any(c.isspace() for c in to):
                    results.append(SendResult(m.idempotency_key, None, "rejected",
                                              f"invalid email address {to!r}"))
                    continue
                if smtp is None:
                    smtp = self._connect_or_raise(results)
                results.append(self._send_one(smtp, m, results))
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
        return results

    def _connect_or_raise(self, done: list[SendResult]) -> smtplib.SMTP:
        try:
            return self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientVendorError(f"SMTP server {self.host}:{self.port} unavailable: "
                                       f"{_smtp_reason(exc)}", partial=done) from exc

    def _send_one(self, smtp: smtplib.SMTP, m: OutgoingMessage,
                  done: list[SendResult]) -> SendResult:
        msg = self._email(m)
        try:
            smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            if 500 <= code < 600:
                return SendResult(m.idempotency_key, None, "rejected",
                                  f"recipient refused: {code} {_text(reason)}")
            raise TransientVendorError(f"recipient deferred: {code} {_text(reason)}",
                                       partial=done) from exc
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            if 500 <= exc.smtp_code < 600 and isinstance(exc, smtplib.SMTPDataError):
                return SendResult(m.idempotency_key, None, "rejected",
                                  f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}")
            raise TransientVendorError(f"SMTP error: {_smtp_reason(exc)}", partial=done
                                       ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # OSError covers timeouts
            raise TransientVendorError(f"SMTP connection failed: {_smtp_reason(exc)}",
                                       partial=done) from exc
        return SendResult(m.idempotency_key, msg["Message-ID"], "accepted")


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _smtp_reason(exc: BaseException) -> str:
    code = getattr(exc, "smtp_code", None)
    error = getattr(exc, "smtp_error", None)
    if code is not None and error is not None:
        return f"{code} {_text(error)}"
    return f"{type(exc).__name__}: {exc}"


# --- choosing a client ----------------------------------------------------------------------

def simulator_in_use(settings: Settings | None = None) -> bool:
    """Whether the bundled simulator serves some channel (so the app mounts it at /vendor):
    the simulator vendor, or SMTP email with no HTTP vendor for SMS/WhatsApp."""
    settings = settings or get_settings()
    return settings.vendor_kind == "simulator" or (
        settings.vendor_kind == "smtp" and not settings.vendor_url)


def get_vendor_client(settings: Settings | None = None, channel: str = "sms") -> VendorClient:
    settings = settings or get_settings()
    callback = f"{settings.app_url.rstrip('/')}/api/v1/receipts"
    if channel == "email" and settings.vendor_kind == "smtp":
        return SmtpVendorClient(
            host=settings.smtp_host, port=settings.smtp_port, from_addr=settings.smtp_from,
            timeout=settings.smtp_timeout_seconds, username=settings.smtp_username,
            password=settings.smtp_password, security=settings.smtp_security,
            id_salt=settings.secret_key)
    if settings.vendor_kind == "webhook":
        if not (settings.vendor_url and settings.vendor_secret):
            raise ValueError("the webhook vendor needs VENDOR_URL and VENDOR_SECRET")
        return HttpVendorClient(url=settings.vendor_url, token=settings.vendor_secret,
                                callback_url=callback, signing_secret=settings.vendor_secret,
                                timeout=settings.vendor_timeout_seconds, name="webhook")
    base = (settings.vendor_url or f"{settings.app_url.rstrip('/')}/vendor").rstrip("/")
    return HttpVendorClient(url=f"{base}/v1/messages", token=settings.vendor_secret or "sim",
                            callback_url=callback,
                            signing_secret=settings.vendor_secret or None,
                            timeout=settings.vendor_timeout_seconds, name="simulator")

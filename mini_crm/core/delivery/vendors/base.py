"""What every vendor client shares: the message handed over, the per-message result,
the two kinds of failure, and the `VendorClient` protocol the delivery job calls.

`send` returns one SendResult per message ('accepted' with the vendor's id, or
'rejected' = a permanent per-message failure) or raises TransientVendorError (retry
the same messages later, honouring retry_after) or PermanentVendorError (the vendor
refuses the request itself; retrying the same request cannot help).
"""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol


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

"""HMAC signatures on vendor traffic: receipts the vendor posts to us, and our webhook calls.

Scheme (the delivery contract): the sender puts the unix time in `X-Mini-CRM-Timestamp`
and `"sha256=" + hex(HMAC-SHA256(secret, f"{timestamp}.".encode() + raw_body))` in
`X-Mini-CRM-Signature`. Binding the timestamp into the MAC and refusing old (or
far-future) timestamps is what stops a captured request from being replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Mini-CRM-Timestamp"
SIGNATURE_HEADER = "X-Mini-CRM-Signature"
_PREFIX = "sha256="


class SignatureError(Exception):
    """Why a signed request was refused; `code` is the API error code to answer with."""

    def __init__(self, reason: str, code: str = "bad_signature") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp` (unix seconds)."""
    if not secret:
        raise ValueError("a signing secret is required")
    mac = hmac.new(secret.encode(), f"{int(timestamp)}.".encode() + body, hashlib.sha256)
    return _PREFIX + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """Both headers for a request carrying `body`, stamped with the current time."""
    timestamp = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify(secret: str, timestamp_header: str | None, signature_header: str | None,
           body: bytes, now: float | None = None, window_seconds: int = 300) -> None:
    """Return if the signature is valid and fresh; raise SignatureError saying why not.

    The window applies in both directions: a timestamp too far in the future is as
    suspicious as an old one (and would otherwise extend a replay's life).
    """
    if not secret:
        raise SignatureError("no receipt signing secret is configured")
    if not timestamp_header:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} header")
    if not signature_header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    try:
        timestamp = int(timestamp_header.strip())
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} must be unix seconds") from None
    if not signature_header.startswith(_PREFIX):
        raise SignatureError(f"{SIGNATURE_HEADER} must start with '{_PREFIX}'")
    expected = sign(secret, timestamp, body)
    # Compare the MAC before the clock: a forged request learns nothing about our window.
    if not hmac.compare_digest(expected.encode(), signature_header.strip().encode()):
        raise SignatureError("signature does not match the body and timestamp")
    now = time.time() if now is None else now
    skew = now - timestamp
    if abs(skew) > window_seconds:
        direction = "old" if skew > 0 else "in the future"
        raise SignatureError(f"timestamp is {abs(int(skew))} s {direction}; the window is "
                             f"{window_seconds} s", code="stale_timestamp")

"""One-click unsubscribe links: signed, per recipient, never expiring.

A link names one recipient of one campaign on one channel:
`{APP_URL}/unsubscribe/{customer_id}.{channel letter}.{campaign_id}.{signature}`,
where the signature is HMAC-SHA256 over those three fields with a key derived from
SECRET_KEY, cut to 128 bits and base64url-encoded (22 characters: the link stays short
enough for an SMS). Changing any field — another customer's id, another channel —
breaks the signature, so a link can only ever opt out the person it was sent to.

Links do not expire: an unsubscribe link in a two-year-old email must still work
(CAN-SPAM and RFC 8058 expect it to). Using one twice is harmless: consent only
changes once. Rotating SECRET_KEY invalidates every link already sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from mini_crm.settings import get_settings

PATH_PREFIX = "/unsubscribe/"
_LETTERS = {"sms": "s", "email": "e", "whatsapp": "w"}
_CHANNELS = {v: k for k, v in _LETTERS.items()}
_TOKEN = re.compile(r"^(\d{1,18})\.([sew])\.(\d{1,18})\.([A-Za-z0-9_-]{22})$")
_PURPOSE = b"mini-crm unsubscribe link v1"


class LinkError(ValueError):
    """A link that is not one we signed (mistyped, cut short, or altered)."""


@dataclass(frozen=True)
class Recipient:
    customer_id: int
    channel: str
    campaign_id: int


def _key() -> bytes:
    # A key of its own, so a signature made here is never valid anywhere else.
    return hmac.new(get_settings().secret_key.encode(), _PURPOSE, hashlib.sha256).digest()


def _signature(payload: str, key: bytes) -> str:
    mac = hmac.new(key, payload.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def token(customer_id: int, channel: str, campaign_id: int, key: bytes | None = None) -> str:
    """The signed token for one recipient; `key` lets a batch derive the key once."""
    payload = f"{int(customer_id)}.{_LETTERS[channel]}.{int(campaign_id)}"
    return f"{payload}.{_signature(payload, key or _key())}"


def url(customer_id: int, channel: str, campaign_id: int, key: bytes | None = None) -> str:
    """The full link, on APP_URL."""
    base = get_settings().app_url.rstrip("/")
    return f"{base}{PATH_PREFIX}{token(customer_id, channel, campaign_id, key)}"


def signing_key() -> bytes:
    """The derived key, for callers signing many links in a row."""
    return _key()


def verify(text: str) -> Recipient:
    """The recipient a token was signed for; LinkError when it was not signed by us."""
    match = _TOKEN.match(text.strip())
    if not match:
        raise LinkError("this unsubscribe link is incomplete or mistyped")
    customer_id, letter, campaign_id, signature = match.groups()
    payload = f"{customer_id}.{letter}.{campaign_id}"
    if not hmac.compare_digest(_signature(payload, _key()), signature):
        raise LinkError("this unsubscribe link has been altered, so it cannot be used")
    return Recipient(int(customer_id), _CHANNELS[letter], int(campaign_id))

"""Inbound replies from the vendor: STOP / UNSUBSCRIBE opt out, START opts back in.

A reply matches when its whole text, trimmed and case-folded, is a keyword (trailing
punctuation such as "Stop." or "START!" is ignored); anything else is an ordinary
reply and changes nothing. The sender is normalised for the channel (E.164 for sms
and whatsapp, lower-cased for email) and every customer holding that address is
changed, so duplicates of one person move together; the address also goes on (or
comes off) the suppression list, even when no customer holds it yet.
"""

from __future__ import annotations

import email.utils
import re
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session

from mini_crm.core import consent
from mini_crm.core.auth import audit
from mini_crm.core.contacts import InvalidContact
from mini_crm.core.ingestion.schemas import InputTimestamp, not_in_future

OPT_OUT = frozenset({"STOP", "UNSUBSCRIBE"})
OPT_IN = frozenset({"START"})
MAX_MESSAGES = 1000


class InboundMessage(BaseModel):
    """One reply as the vendor reports it."""

    sender: str = Field(alias="from", min_length=1, max_length=320)
    channel: Literal["sms", "email", "whatsapp"]
    body: str = Field(default="", max_length=5000)
    at: InputTimestamp | None = None

    @field_validator("at")
    @classmethod
    def _not_ahead(cls, v: datetime | None) -> datetime | None:
        # A reply cannot have been sent in the future: a date in 2099 is a vendor's bug
        # (or a forged order of events), refused rather than kept in the audit trail.
        return None if v is None else not_in_future(v, "at", "a reply's time")


# How vendors write the sender of a phone reply: Twilio "whatsapp:+9198…" / "sms:+91…",
# RFC 3966 "tel:+91…". The scheme says the channel, which the message already names.
_PHONE_SCHEME = re.compile(r"^\s*(?:whatsapp|sms|tel)\s*:\s*", re.IGNORECASE)


def sender_address(channel: str, raw: str) -> str:
    """The address in a reply's `from` as the vendor wrote it, ready for normalising.

    Email: an RFC 5322 mailbox, `Zoe <zoe@example.in>` or `"Rao, Asha" <asha@x.in>`,
    gives its address (email.utils); a bare address passes. Phone channels: a Twilio-style
    `whatsapp:+91…`, `sms:+91…` or `tel:+91…` loses its scheme. Anything else is returned
    as given, so the normaliser's error quotes what the vendor sent.
    """
    if channel == "email":
        if "<" in raw:
            _, address = email.utils.parseaddr(raw)
            if address:
                return address
        return raw
    return _PHONE_SCHEME.sub("", raw, count=1)


def keyword(body: str) -> str | None:
    """"STOP", "UNSUBSCRIBE" or "START" when the reply is one of them, else None."""
    word = body.strip().rstrip(string.punctuation + " ").strip().upper()
    return word if word in OPT_OUT | OPT_IN else None


@dataclass
class InboundResult:
    accepted: int = 0
    opted_out: int = 0  # replies that opted an address out
    opted_in: int = 0
    ignored: int = 0  # ordinary replies, no keyword
    errors: list[dict[str, Any]] = field(default_factory=list)


def apply_replies(session: Session, messages: list[InboundMessage],
                  first_index: int = 0) -> InboundResult:
    """Apply keyword replies in order (a STOP then a START from one number ends opted in).

    An unreadable sender address is an error for that message only.
    """
    result = InboundResult()
    for index, message in enumerate(messages, start=first_index):
        result.accepted += 1
        word = keyword(message.body)
        if word is None:
            result.ignored += 1
            continue
        opting_in = word in OPT_IN
        change = consent.Change(
            source="inbound", actor=audit.Actor(label=f"inbound {message.channel} reply"),
            reason=f"replied {word}",
            details={"at": message.at.isoformat() if message.at else None})
        try:  # the address is read before anything is written
            consent.set_by_address(session, message.channel,
                                   sender_address(message.channel, message.sender),
                                   opting_in, change)
        except InvalidContact as exc:
            result.accepted -= 1
            result.errors.append({"index": index, "field": "from", "message": str(exc)})
            continue
        if opting_in:
            result.opted_in += 1
        else:
            result.opted_out += 1
    return result

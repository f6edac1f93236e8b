"""Which message and subject a recipient's row is sent: its A/B variant's, else the
campaign's own.

Here, beside the rendering, so the send pipeline (`core/delivery/job`) reads a row's
variant without importing `core/campaigns` (which creates the variants and decides the
winner in `campaigns/ab_test`): delivery depends on messages, campaigns on both.
"""

from __future__ import annotations

from typing import Any


def message_for(variants: list[dict[str, Any]] | None, key: str | None,
                message: str, subject: str | None) -> tuple[str, str | None]:
    """(message template, subject template) a row with variant `key` is sent.

    `variants` is the campaign's stored list (`[{"key": "A".."D", "message",
    "subject"?}]`, or None without an A/B test); `message` and `subject` are the
    campaign's own. A variant without a subject of its own uses the campaign's; a row
    with no variant (no A/B test) or a key not in the list gets the campaign's message.
    """
    for v in variants or ():
        if v.get("key") == key:
            return v["message"], v.get("subject") or subject
    return message, subject

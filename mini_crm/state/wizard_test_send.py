"""The campaign wizard's test send and "preview as a customer" (core/campaigns/test_send).
Blocking work for the wizard's background handlers, run off the event loop."""

from __future__ import annotations

from typing import Any

from mini_crm.core import formatting
from mini_crm.core.campaigns import test_send
from mini_crm.core.campaigns.errors import CampaignError
from mini_crm.core.delivery.sending import vendor_client
from mini_crm.db import session_scope
from mini_crm.settings import get_settings


def _customer(db: Any, ref: str) -> Any:
    customer = test_send.find_customer(db, ref)
    if ref.strip() and customer is None:
        raise CampaignError(f"no customer has the id or email “{ref.strip()}”", "preview_as")
    return customer


def preview(message: dict[str, Any], ref: str) -> dict[str, str]:
    """{"who", "text", "subject", "error"}: the message as customer `ref` would get it."""
    try:
        with session_scope() as db:
            customer = _customer(db, ref)
            shown = test_send.preview_for(customer, channel=message["channel"],
                                          template=message["template"],
                                          subject=message["email_subject"],
                                          preheader=message["email_preheader"])
            who = (customer.name or customer.external_id) if customer else "a sample customer"
    except CampaignError as exc:
        return {"who": "", "text": "", "subject": "", "error": formatting.sentence(exc.message)}
    return {"who": who, "text": shown["text"], "subject": shown["subject"] or "", "error": ""}


def send(message: dict[str, Any], to: str, ref: str, user: dict[str, Any] | None
         ) -> dict[str, str]:
    """{"ok", "error"}: one labelled test message through the channel's real vendor."""
    channel = message["channel"]
    try:
        with session_scope() as db:
            allowed = test_send.allowed_recipients(get_settings().test_send_recipients,
                                                   channel, user["email"] if user else None)
            result = test_send.send_test(
                db, vendor_client(channel), channel=channel, template=message["template"],
                to=to, allowed=allowed, customer=_customer(db, ref),
                subject=message["email_subject"], preheader=message["email_preheader"],
                sender_name=message["sender_name"], actor_user_id=user["id"] if user else None)
    except CampaignError as exc:
        message = exc.message
        if exc.field == "test_to" and "test list" in message and user \
                and user.get("role") == "admin":
            # Only an admin can change it: they get the setting's name.
            message += " (the TEST_SEND_RECIPIENTS setting)"
        return {"ok": "", "error": formatting.sentence(message)}
    return {"ok": f"Test sent to {result.to} as {result.as_customer}, labelled [TEST]; it is "
                  "not counted in the campaign.", "error": ""}

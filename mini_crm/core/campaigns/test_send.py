"""Test sends: one campaign message, before launch, to the marketer or an allowed test
list, through the campaign's real channel (the same vendor client as delivery).

A test is labelled as one ("[TEST]" before the SMS text or the email subject), is not a
communication_log row (so it is never counted in the campaign, capped or deduplicated
against), and is on the audit trail. It is personalised as a real customer the marketer
picks (or the first of the audience), so tokens and fallbacks show as they will.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from mini_crm.core import contacts
from mini_crm.core import unsubscribe_links as links
from mini_crm.core.auth import audit
from mini_crm.core.campaigns.errors import CampaignError
from mini_crm.core.delivery.vendors import OutgoingMessage, VendorError
from mini_crm.core.messages.email import render_email
from mini_crm.core.messages.render import render, validate_template
from mini_crm.models import Customer

LABEL = "[TEST] "
# The placeholder a test is rendered for when the audience is empty and none is picked.
SAMPLE = {"name": "Test Customer", "city": "", "email": "", "total_spend": 0,
          "order_count": 0, "last_order_at": None}


@dataclass(frozen=True)
class TestSendResult:
    to: str
    vendor_message_id: str | None
    text: str
    subject: str | None
    as_customer: str


def normalise_address(channel: str, value: str) -> str:
    """An email lower-cased, a phone with only its digits and a leading +."""
    value = (value or "").strip()
    if channel == "email":
        return value.lower()
    return ("+" if value.startswith("+") else "") + "".join(c for c in value if c.isdigit())


def _line_type(phone: str) -> str | None:
    """contacts.phone_type of a typed phone; None when it does not read as one."""
    try:
        return contacts.phone_type(contacts.normalise_phone(phone))
    except contacts.InvalidContact:
        return None


def allowed_recipients(setting: str, channel: str, own_email: str | None) -> set[str]:
    """The addresses a test may go to: the allow-list (a setting) and, for email, the
    marketer's own address."""
    out = {normalise_address(channel, a) for a in (setting or "").split(",") if a.strip()}
    if channel == "email" and own_email:
        out.add(normalise_address("email", own_email))
    return {a for a in out if a}


def find_customer(db: Session, ref: str) -> Customer | None:
    """A customer by external id or email address (what a marketer would type)."""
    ref = (ref or "").strip()
    if not ref:
        return None
    return db.exec(select(Customer).where(
        (Customer.external_id == ref) | (Customer.email == ref.lower()))).first()


def _with_link(customer: Customer | dict[str, Any] | None, channel: str,
               live_link: bool) -> dict[str, Any]:
    """The customer's token values plus `{unsubscribe_url}` for `channel`: the link signed
    for this customer (campaign 0: none yet) when `live_link`, else one of the same
    shape for customer 0, which opens the "no longer on our list" page and changes no
    one's consent (a test message goes to the marketer, not to the customer)."""
    if customer is None:
        values, customer_id = dict(SAMPLE), 0
    else:
        values = dict(customer) if isinstance(customer, dict) else customer.model_dump()
        customer_id = int(values.get("id") or 0)
    values["unsubscribe_url"] = links.url(customer_id if live_link else 0, channel, 0)
    return values


def preview_for(customer: Customer | dict[str, Any] | None, *, channel: str, template: str,
                subject: str | None = None, preheader: str | None = None,
                live_link: bool = True) -> dict[str, Any]:
    """The message as `customer` (None: a sample customer) would get it on `channel`:
    {"text", "subject", "preheader", "html"} (subject, preheader and html None for SMS
    and WhatsApp), with tokens, fallbacks and the subject rendered for that customer.
    `{unsubscribe_url}` is the customer's own link on this channel, or a harmless one of
    the same shape with `live_link=False` (test sends)."""
    who = _with_link(customer, channel, live_link)
    if channel == "email":
        mail = render_email(subject=subject, preheader=preheader, body=template, customer=who)
        return {"text": mail.text, "subject": mail.subject, "preheader": mail.preheader,
                "html": mail.html}
    return {"text": render(template, who), "subject": None, "preheader": None, "html": None}


def send_test(db: Session, client: Any, *, channel: str, template: str, to: str,
              allowed: set[str], customer: Customer | None, subject: str | None = None,
              preheader: str | None = None, sender_name: str | None = None,
              actor_user_id: int | None = None) -> TestSendResult:
    """Send one labelled test message to `to` through `client` (the channel's vendor).

    Raises CampaignError(message, field) for an empty or broken message, an address not
    in `allowed`, or a vendor that refused it.
    """
    problems = validate_template(template or "")
    if problems:
        raise CampaignError("; ".join(problems), "message")
    address = normalise_address(channel, to)
    if not address:
        raise CampaignError("enter the address or phone number to send the test to",
                            "test_to")
    if address not in allowed:
        raise CampaignError(f"“{to.strip()}” is not on your team's test list; ask an admin "
                            "to add it, or send the test to your own email", "test_to")
    kind = _line_type(to) if channel == "sms" else None
    if not contacts.sms_reachable(kind):
        # The launch skips such a phone as no_address (reach.no_address): so does a test.
        words = contacts.PHONE_TYPE_WORDS.get(kind or "", "phone")
        raise CampaignError(f"“{to.strip()}” is a {words} number, where no SMS can "
                            "arrive: test with a mobile number", "test_to")
    shown = preview_for(customer, channel=channel, template=template, subject=subject,
                        preheader=preheader, live_link=False)
    label_subject = LABEL + (shown["subject"] or "") if channel == "email" else None
    body = shown["text"] if channel == "email" else LABEL + shown["text"]
    message = OutgoingMessage(f"test-{uuid.uuid4().hex}", channel, address, body,
                              subject=label_subject, html=shown["html"],
                              sender_name=sender_name if channel == "email" else None)
    try:
        result = client.send([message])[0]
    except VendorError as exc:
        raise CampaignError(f"the {channel} provider did not take the test: {exc.reason}",
                            "test_to") from exc
    if result.status != "accepted":
        raise CampaignError(f"the {channel} provider refused the test: {result.error}",
                            "test_to")
    who = (customer.name or customer.external_id) if customer is not None else "a sample"
    audit.record(db, audit.CAMPAIGN_TEST_SENT, actor_user_id=actor_user_id,
                 target=f"test:{address}", details={"channel": channel, "as": who})
    return TestSendResult(to=address, vendor_message_id=result.vendor_message_id,
                          text=body, subject=label_subject, as_customer=who)

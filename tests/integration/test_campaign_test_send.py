"""Test sends on every database: labelled, only to allowed addresses, personalised as a
chosen customer, through the vendor client, audited, and never a campaign log row."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from mini_crm.core import formatting
from mini_crm.core.auth import audit
from mini_crm.core.campaigns import test_send
from mini_crm.core.campaigns.errors import CampaignError
from mini_crm.models import AuditEvent, CommunicationLog
from tests.integration.campaign_helpers import FakeVendor, add_customers


def test_allowed_recipients_are_the_list_and_my_own_email() -> None:
    allowed = test_send.allowed_recipients(" qa@brand.in, +91 98765 43210 ,", "email",
                                           "Me@Brand.in")
    # As email addresses the phone entry normalises to itself, lower-cased; it matches no
    # email anyway. Mine and the list's are in.
    assert {"qa@brand.in", "me@brand.in"} <= allowed
    phones = test_send.allowed_recipients("+91 98765 43210", "sms", "me@brand.in")
    assert phones == {"+919876543210"}  # my email is no phone


def test_a_test_send_is_labelled_personalised_and_not_counted(session: Session,
                                                              engine: sa.Engine) -> None:
    add_customers(engine, 2)
    customer = test_send.find_customer(session, "c-Pune-1")
    assert customer is not None and customer.name == "Customer 1"
    assert test_send.find_customer(session, "C1@EXAMPLE.IN").external_id == "c-Pune-1"
    sent: list = []
    vendor = FakeVendor(reject=lambda m: sent.append(m))
    result = test_send.send_test(
        session, vendor, channel="sms", template="Hi {first_name|there}, {order_count:order|"
        "orders}", to="+91 98765-43210", allowed={"+919876543210"}, customer=customer,
        actor_user_id=None)
    session.commit()
    assert result.to == "+919876543210" and result.vendor_message_id
    assert sent[0].body == "[TEST] Hi Customer, 2 orders" and sent[0].channel == "sms"
    assert session.exec(select(func.count()).select_from(CommunicationLog)).one() == 0
    actions = session.exec(select(AuditEvent.action)).all()
    assert actions == [audit.CAMPAIGN_TEST_SENT]

    mail = test_send.send_test(
        session, vendor, channel="email", template="Hello {first_name}", to="Me@Brand.in",
        allowed={"me@brand.in"}, customer=None, subject="{first_name|Friend}, news",
        sender_name="Brand Team")
    assert mail.subject == "[TEST] Test, news" and sent[1].html and sent[1].sender_name


def test_refused_test_sends_say_why(session: Session) -> None:
    vendor = FakeVendor(reject=lambda m: "invalid recipient")
    # A landline on the test list: no SMS can arrive there (the launch skips it too).
    with pytest.raises(CampaignError) as landline:
        test_send.send_test(session, vendor, channel="sms", template="Hi",
                            to="+91 22 2345 6789", allowed={"+912223456789"}, customer=None)
    assert landline.value.field == "test_to"
    assert landline.value.message == ("“+91 22 2345 6789” is a landline number, where no "
                                      "SMS can arrive: test with a mobile number")
    with pytest.raises(CampaignError) as stranger:
        test_send.send_test(session, vendor, channel="sms", template="Hi", to="+911234",
                            allowed={"+919876543210"}, customer=None)
    assert stranger.value.field == "test_to"
    assert "not on your team's test list" in stranger.value.message
    with pytest.raises(CampaignError) as typed:
        test_send.send_test(session, vendor, channel="email", template="Hi",
                            to=" stranger@Evil.com ", allowed={"me@brand.in"}, customer=None)
    # What the user typed, as typed (quoted, so the sentence's capital never changes it).
    assert formatting.sentence(typed.value.message).startswith("“stranger@Evil.com” is not on")
    with pytest.raises(CampaignError) as broken:
        test_send.send_test(session, vendor, channel="sms", template="Hi {nmae}",
                            to="+919876543210", allowed={"+919876543210"}, customer=None)
    assert broken.value.field == "message"
    with pytest.raises(CampaignError) as refused:
        test_send.send_test(session, vendor, channel="sms", template="Hi",
                            to="+919876543210", allowed={"+919876543210"}, customer=None)
    assert "refused the test: invalid recipient" in refused.value.message

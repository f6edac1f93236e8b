"""One-click unsubscribe: signed links in messages, the pages, List-Unsubscribe over SMTP."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email import policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.core import jobs, unsubscribe_links
from mini_crm.core.campaigns import service
from mini_crm.core.delivery import sending
from mini_crm.core.delivery.vendors import OutgoingMessage, SmtpVendorClient
from mini_crm.core.messages import render
from mini_crm.db import session_scope
from mini_crm.models import AuditEvent, Customer, Suppression
from mini_crm.settings import get_settings
from tests.integration.campaign_helpers import (
    FakeVendor,
    add_customers,
    campaign_status,
    city_rules,
    wait_for,
)
from tests.servers import free_socket


def test_tokens_verify_only_as_signed(app_settings: sa.Engine) -> None:
    token = unsubscribe_links.token(42, "sms", 7)
    assert unsubscribe_links.verify(token) == unsubscribe_links.Recipient(42, "sms", 7)
    customer, letter, campaign, signature = token.split(".")
    other_recipient = f"43.{letter}.{campaign}.{signature}"
    other_channel = f"{customer}.e.{campaign}.{signature}"
    other_campaign = f"{customer}.{letter}.8.{signature}"
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for altered in (other_recipient, other_channel, other_campaign, flipped):
        with pytest.raises(unsubscribe_links.LinkError, match="altered"):
            unsubscribe_links.verify(altered)
    for broken in ("", "42.s.7", token[:-3], "42.x.7." + signature, token + "/extra"):
        with pytest.raises(unsubscribe_links.LinkError, match="incomplete"):
            unsubscribe_links.verify(broken)
    # Short enough for an SMS: the whole token is under 40 characters.
    assert len(token) < 40
    assert unsubscribe_links.url(42, "sms", 7).startswith(get_settings().app_url)


def _customer(engine: sa.Engine) -> int:
    [cid] = add_customers(engine, 1, city="Pune")
    return cid


def test_get_confirms_post_records_and_replay_is_harmless(api: TestClient,
                                                          app_settings: sa.Engine) -> None:
    cid = _customer(app_settings)
    path = unsubscribe_links.PATH_PREFIX + unsubscribe_links.token(cid, "sms", 99)
    page = api.get(path)
    assert page.status_code == 200 and "Unsubscribe from SMS messages?" in page.text
    assert "<form method=post" in page.text and "•••" in page.text
    with Session(app_settings) as s:  # looking is not unsubscribing
        assert s.get(Customer, cid).consent_sms is True

    done = api.post(path)  # a plain form post: no cookie, no body, no JavaScript
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    with Session(app_settings) as s:
        c = s.get(Customer, cid)
        assert (c.consent_sms, c.consent_email, c.consent_whatsapp) == (False, True, True)
        assert [(r.address, r.channel, r.source) for r in s.exec(select(Suppression))] == [
            (c.phone, "sms", "unsubscribe_link")]
        [event] = s.exec(select(AuditEvent).where(AuditEvent.action == "consent_changed")).all()
        assert event.details["source"] == "unsubscribe_link"
        assert event.details["campaign_id"] == 99

    again = api.post(path)
    assert again.status_code == 200 and "already unsubscribed" in again.text
    assert "You are unsubscribed" in api.get(path).text  # no button any more
    with Session(app_settings) as s:
        assert len(s.exec(select(AuditEvent).where(
            AuditEvent.action == "consent_changed")).all()) == 1


def test_rfc8058_one_click_post(api: TestClient, app_settings: sa.Engine) -> None:
    cid = _customer(app_settings)
    path = unsubscribe_links.PATH_PREFIX + unsubscribe_links.token(cid, "email", 5)
    r = api.post(path, content=b"List-Unsubscribe=One-Click",
                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    with Session(app_settings) as s:
        assert s.get(Customer, cid).consent_email is False


def test_altered_and_other_recipients_links_change_nothing(api: TestClient,
                                                           app_settings: sa.Engine) -> None:
    cid = _customer(app_settings)
    other = add_customers(app_settings, 1, city="Delhi")[0]
    token = unsubscribe_links.token(cid, "sms", 3)
    _, letter, campaign, signature = token.split(".")
    for bad in (f"{other}.{letter}.{campaign}.{signature}",  # the other recipient's id
                f"{cid}.w.{campaign}.{signature}", "12.s.3.short"):
        for method in (api.get, api.post):
            r = method(unsubscribe_links.PATH_PREFIX + bad)
            assert r.status_code == 400 and "does not work" in r.text
    with Session(app_settings) as s:
        assert all(c.consent_sms and c.consent_whatsapp for c in s.exec(select(Customer)))
        assert s.exec(select(Suppression)).all() == []
    # A valid link whose customer was deleted says so.
    gone = unsubscribe_links.PATH_PREFIX + unsubscribe_links.token(10**9, "sms", 3)
    assert "no longer" in api.post(gone).text and api.post(gone).status_code == 400


def test_preview_shows_a_link_of_the_real_shape() -> None:
    text = render.render("Stop: {unsubscribe_url}", {"name": "Asha"})
    link = text.removeprefix("Stop: ")
    assert link.startswith(get_settings().app_url + unsubscribe_links.PATH_PREFIX)
    assert render.validate_template("Bye {unsubscribe_url}") == []


@pytest.fixture
def fake_vendor(app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVendor]:
    monkeypatch.setenv("DELIVERY_BACKOFF_MAX_SECONDS", "0.01")
    get_settings.cache_clear()
    fake = FakeVendor()
    monkeypatch.setattr(sending, "vendor_client", lambda channel: fake)
    yield fake
    jobs.shutdown_local(wait=True)


def test_each_recipient_gets_their_own_link(fake_vendor: FakeVendor, api: TestClient,
                                            app_settings: sa.Engine) -> None:
    ids = add_customers(app_settings, 3, city="Pune")
    with session_scope() as db:
        campaign = service.create_campaign(
            db, name="Bye", rules=city_rules("Pune"), segment_id=None, channel="sms",
            message_template="Hi {first_name}. Opt out: {unsubscribe_url}", schedule_at=None,
            objective=None, created_by=None, tags=[])
    wait_for(lambda: campaign_status(app_settings, campaign.id) == "completed")
    links = [body.split("Opt out: ")[1] for body in fake_vendor.bodies.values()]
    recipients = {unsubscribe_links.verify(link.rsplit("/", 1)[1]) for link in links}
    assert recipients == {unsubscribe_links.Recipient(i, "sms", campaign.id) for i in ids}
    # The first recipient uses theirs: only they are opted out.
    mine = next(link for link in links
                if unsubscribe_links.verify(link.rsplit("/", 1)[1]).customer_id == ids[0])
    assert api.post(mine.removeprefix(get_settings().app_url)).status_code == 200
    with Session(app_settings) as s:
        assert [s.get(Customer, i).consent_sms for i in ids] == [False, True, True]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def test_smtp_messages_carry_list_unsubscribe(smtp_server, app_settings: sa.Engine,
                                              monkeypatch: pytest.MonkeyPatch,
                                              api: TestClient) -> None:
    mailbox, port = smtp_server
    smtp = SmtpVendorClient(host="127.0.0.1", port=port, from_addr="campaigns@shop.example",
                            timeout=5, id_salt="salt")
    # Directly: the header pair is there exactly when the message has a link.
    smtp.send([OutgoingMessage("1", "email", "a@example.in", "Hi", unsubscribe_url=None)])
    assert "List-Unsubscribe" not in mailbox.messages[0]
    # Through a real email campaign: every message carries its recipient's link.
    monkeypatch.setattr(sending, "vendor_client", lambda channel: smtp)
    ids = add_customers(app_settings, 2, city="Goa")
    with session_scope() as db:
        campaign = service.create_campaign(
            db, name="Mail", rules=city_rules("Goa"), segment_id=None, channel="email",
            message_template="Hello {first_name}", schedule_at=None, objective=None,
            created_by=None, tags=[])
    try:
        wait_for(lambda: campaign_status(app_settings, campaign.id) == "completed")
    finally:
        jobs.shutdown_local(wait=True)
    sent = mailbox.messages[1:]
    assert len(sent) == 2
    targets = set()
    for msg in sent:
        header = str(msg["List-Unsubscribe"]).strip()  # a long header may be folded
        assert header.startswith("<" + get_settings().app_url) and header.endswith(">")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        targets.add(unsubscribe_links.verify(header[1:-1].rsplit("/", 1)[1]))
    assert targets == {unsubscribe_links.Recipient(i, "email", campaign.id) for i in ids}
    # What a mail client does with it: POST the one-click body to the URL.
    url = str(sent[0]["List-Unsubscribe"]).strip()[1:-1].removeprefix(get_settings().app_url)
    api.post(url, content=b"List-Unsubscribe=One-Click",
             headers={"content-type": "application/x-www-form-urlencoded"})
    with Session(app_settings) as s:
        assert sorted(s.get(Customer, i).consent_email for i in ids) == [False, True]

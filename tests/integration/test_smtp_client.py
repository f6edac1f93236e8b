"""The SMTP email vendor against a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email import policy

import pytest
from aiosmtpd.controller import Controller

from mini_crm.core.delivery.vendors import (
    OutgoingMessage,
    SmtpVendorClient,
    TransientVendorError,
    get_vendor_client,
)
from mini_crm.settings import Settings
from tests.servers import free_socket


class Mailbox:
    """Accepts mail except: nobody@ (550 unknown user), busy@ (451 try later),
    and bodies containing 'SPAM' (554 at DATA)."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user here"
        if address.startswith("busy@"):
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        if b"SPAM" in envelope.content:
            return "554 5.7.1 Message content rejected"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


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


def mail(key: str, to: str, body: str = "Hello Asha\nYour offer is here.",
         subject: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(key, "email", to, body, subject)


def client(port: int) -> SmtpVendorClient:
    return SmtpVendorClient(host="127.0.0.1", port=port, from_addr="campaigns@shop.example",
                            timeout=5, id_salt="salt")


def test_messages_are_handed_off_with_stable_message_ids(smtp_server) -> None:
    mailbox, port = smtp_server
    results = client(port).send([mail("11", "asha@example.in"),
                                 mail("12", "ravi@example.in", subject="Diwali sale")])
    assert [r.status for r in results] == ["accepted", "accepted"]
    assert len(mailbox.messages) == 2
    first, second = mailbox.messages
    assert first["Message-ID"] == results[0].vendor_message_id
    assert results[0].vendor_message_id.startswith("<mc.11.")
    assert results[0].vendor_message_id.endswith("@shop.example>")
    assert first["Subject"] == "Hello Asha" and second["Subject"] == "Diwali sale"
    assert first["From"] == "campaigns@shop.example" and first["To"] == "asha@example.in"
    assert "Your offer is here." in first.get_content()
    assert mailbox.envelopes[0] == ("campaigns@shop.example", ["asha@example.in"])
    # A retried hand-off carries the same Message-ID (mail systems drop the duplicate).
    assert client(port).message_id("11") == results[0].vendor_message_id
    assert client(port).message_id("12") != results[0].vendor_message_id


def test_permanent_refusals_fail_only_their_message(smtp_server) -> None:
    mailbox, port = smtp_server
    results = client(port).send([mail("1", "nobody@example.in"), mail("2", "asha@example.in"),
                                 mail("3", "ravi@example.in", body="SPAM SPAM"),
                                 mail("4", "not an address"),
                                 OutgoingMessage("5", "sms", "+919820012345", "hi"),
                                 mail("6", "meena@example.in")])
    by_key = {r.idempotency_key: r for r in results}
    assert by_key["1"].status == "rejected" and "550" in by_key["1"].error
    assert by_key["3"].status == "rejected" and "554" in by_key["3"].error
    assert by_key["4"].status == "rejected" and "invalid email" in by_key["4"].error
    assert by_key["5"].status == "rejected" and "email only" in by_key["5"].error
    assert by_key["2"].status == by_key["6"].status == "accepted"
    assert [m["To"] for m in mailbox.messages] == ["asha@example.in", "meena@example.in"]


def test_a_deferred_recipient_is_transient_and_reports_what_was_sent(smtp_server) -> None:
    mailbox, port = smtp_server
    with pytest.raises(TransientVendorError, match="451") as info:
        client(port).send([mail("1", "asha@example.in"), mail("2", "busy@example.in"),
                           mail("3", "ravi@example.in")])
    assert [(r.idempotency_key, r.status) for r in info.value.partial] == [("1", "accepted")]
    assert len(mailbox.messages) == 1


def test_no_server_is_transient() -> None:
    sock = free_socket()  # bound but not listening
    port = sock.getsockname()[1]
    try:
        with pytest.raises(TransientVendorError, match="unavailable"):
            client(port).send([mail("1", "asha@example.in")])
    finally:
        sock.close()


def test_settings_pick_smtp_for_email(smtp_server) -> None:
    mailbox, port = smtp_server
    settings = Settings(vendor_kind="smtp", smtp_host="127.0.0.1", smtp_port=port,
                        smtp_from="news@brand.example")
    results = get_vendor_client(settings, "email").send([mail("9", "asha@example.in")])
    assert results[0].status == "accepted"
    assert mailbox.messages[0]["From"] == "news@brand.example"

"""SMTP email (smtplib). SMTP has no receipts: a hand-off the server accepted is
'accepted' and the worker marks it sent."""

from __future__ import annotations

import email.utils
import hashlib
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

from mini_crm.core.delivery.vendors.base import (
    OutgoingMessage,
    SendResult,
    TransientVendorError,
)
from mini_crm.settings import Settings


@dataclass
class SmtpVendorClient:
    host: str
    port: int
    from_addr: str
    timeout: float = 10.0
    username: str = ""
    password: str = ""
    security: Literal["none", "starttls", "ssl"] = "none"
    id_salt: str = ""  # makes Message-IDs unique to this deployment
    name: str = "smtp"
    max_batch: int = 500

    def message_id(self, idempotency_key: str) -> str:
        """Stable per key: a retried hand-off carries the same Message-ID, which mail
        systems use to drop the duplicate."""
        domain = self.from_addr.rpartition("@")[2] or "mini-crm.local"
        tag = hashlib.sha256(f"{self.id_salt}:{idempotency_key}".encode()).hexdigest()[:12]
        return f"<mc.{idempotency_key}.{tag}@{domain}>"

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if self.username:
            smtp.login(self.username, self.password)
        return smtp

    def _email(self, m: OutgoingMessage) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = (email.utils.formataddr((m.sender_name, self.from_addr))
                       if m.sender_name else self.from_addr)
        msg["To"] = m.to.strip()
        first_line = (m.body.strip().splitlines() or [""])[0]
        msg["Subject"] = (m.subject or first_line[:78] or "(no subject)").replace("\n", " ")
        msg["Message-ID"] = self.message_id(m.idempotency_key)
        msg["Date"] = email.utils.formatdate(localtime=False)
        if m.unsubscribe_url:
            # RFC 2369 + RFC 8058: mail clients show an unsubscribe button that POSTs
            # "List-Unsubscribe=One-Click" to the link, without opening a browser.
            msg["List-Unsubscribe"] = f"<{m.unsubscribe_url}>"
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content(m.body)
        if m.html:
            msg.add_alternative(m.html, subtype="html")
        return msg

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        smtp: smtplib.SMTP | None = None
        try:
            for m in messages:
                if m.channel != "email":
                    results.append(SendResult(m.idempotency_key, None, "rejected",
                                              f"SMTP carries email only, not {m.channel}"))
                    continue
                to = m.to.strip()
                if "@" not in to or any(c.isspace() for c in to):
                    results.append(SendResult(m.idempotency_key, None, "rejected",
                                              f"invalid email address {to!r}"))
                    continue
                if smtp is None:
                    smtp = self._connect_or_raise(results)
                results.append(self._send_one(smtp, m, results))
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
        return results

    def _connect_or_raise(self, done: list[SendResult]) -> smtplib.SMTP:
        try:
            return self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientVendorError(f"SMTP server {self.host}:{self.port} unavailable: "
                                       f"{_smtp_reason(exc)}", partial=done) from exc

    def _send_one(self, smtp: smtplib.SMTP, m: OutgoingMessage,
                  done: list[SendResult]) -> SendResult:
        msg = self._email(m)
        try:
            smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            if 500 <= code < 600:
                return SendResult(m.idempotency_key, None, "rejected",
                                  f"recipient refused: {code} {_text(reason)}")
            raise TransientVendorError(f"recipient deferred: {code} {_text(reason)}",
                                       partial=done) from exc
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            if 500 <= exc.smtp_code < 600 and isinstance(exc, smtplib.SMTPDataError):
                return SendResult(m.idempotency_key, None, "rejected",
                                  f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}")
            raise TransientVendorError(f"SMTP error: {_smtp_reason(exc)}", partial=done
                                       ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # OSError covers timeouts
            raise TransientVendorError(f"SMTP connection failed: {_smtp_reason(exc)}",
                                       partial=done) from exc
        return SendResult(m.idempotency_key, msg["Message-ID"], "accepted")


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _smtp_reason(exc: BaseException) -> str:
    code = getattr(exc, "smtp_code", None)
    error = getattr(exc, "smtp_error", None)
    if code is not None and error is not None:
        return f"{code} {_text(error)}"
    return f"{type(exc).__name__}: {exc}"


def client(settings: Settings) -> SmtpVendorClient:
    """The SMTP client for email from SMTP_* settings (Message-IDs salted with SECRET_KEY)."""
    return SmtpVendorClient(
        host=settings.smtp_host, port=settings.smtp_port, from_addr=settings.smtp_from,
        timeout=settings.smtp_timeout_seconds, username=settings.smtp_username,
        password=settings.smtp_password, security=settings.smtp_security,
        id_salt=settings.secret_key)

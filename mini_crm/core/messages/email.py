"""An email campaign's message for one customer: subject, preheader, plain text, HTML.

The subject line and preheader are templates like the body (tokens, fallbacks and
plural forms: render.py). The body is written as plain text; its HTML version is
built from it (paragraphs at blank lines, line breaks kept, links made clickable,
everything else escaped), with the preheader as the hidden preview text inboxes show
after the subject.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from mini_crm.core import text_checks
from mini_crm.core.messages.render import render, validate_template

MAX_SUBJECT_CHARS = 300
MAX_SENDER_CHARS = 100
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")


@dataclass(frozen=True)
class EmailContent:
    subject: str
    preheader: str
    text: str
    html: str


def validate_email_fields(subject: str | None, preheader: str | None,
                          sender_name: str | None) -> list[tuple[str, str]]:
    """(field, problem) pairs for the email-only fields; empty when they can be sent."""
    problems: list[tuple[str, str]] = []
    for field, label, value in (("email_subject", "subject line", subject),
                                ("email_preheader", "preheader", preheader)):
        if not value:
            continue
        # one line: a header (a line break in one would start another header)
        if problem := text_checks.control_problem(value, f"the {label}"):
            problems.append((field, problem))
            continue
        if len(value) > MAX_SUBJECT_CHARS:
            problems.append((field, f"the {label} is longer than {MAX_SUBJECT_CHARS} "
                                    "characters"))
        problems += [(field, f"{label}: {p}") for p in validate_template(value)]
    if problem := text_checks.control_problem(sender_name, "the sender name"):
        problems.append(("sender_name", problem))
    elif sender_name and (len(sender_name) > MAX_SENDER_CHARS
                        or any(c in sender_name for c in "<>\"\r\n")):
        problems.append(("sender_name", f"a sender name is at most {MAX_SENDER_CHARS} "
                                        "characters, without < > \" or line breaks"))
    return problems


def _one_line(text: str) -> str:
    return " ".join(text.split())


def html_body(text: str, preheader: str = "") -> str:
    """Simple, safe HTML for a plain-text body (every character of it escaped)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]

    def paragraph(p: str) -> str:
        out, at = [], 0
        for m in _URL.finditer(p):
            out.append(html.escape(p[at:m.start()]))
            url = html.escape(m.group(0), quote=True)
            out.append(f'<a href="{url}">{url}</a>')
            at = m.end()
        out.append(html.escape(p[at:]))
        return "<p>" + "".join(out).replace("\n", "<br>\n") + "</p>"

    hidden = ('<div style="display:none;max-height:0;overflow:hidden">'
              f"{html.escape(preheader)}</div>\n") if preheader else ""
    return ("<!doctype html>\n<html><body style=\"font-family:sans-serif;line-height:1.5\">\n"
            + hidden + "\n".join(paragraph(p) for p in paragraphs) + "\n</body></html>\n")


SUBJECT_FROM_BODY_CHARS = 78  # a subject longer than this is cut in most inboxes


def default_subject(body: str) -> str:
    """The subject an email without a subject line gets: the body's first non-blank
    line, cut to SUBJECT_FROM_BODY_CHARS (a template here, rendered per customer)."""
    return (body.strip().splitlines() or [""])[0][:SUBJECT_FROM_BODY_CHARS]


def render_email(*, subject: str | None, preheader: str | None, body: str,
                 customer: Any) -> EmailContent:
    """The email one customer gets. Without a subject line, the body's first line is
    the subject (as before subject lines existed)."""
    text = render(body, customer)
    subject_text = _one_line(render(subject, customer)) if subject else default_subject(text)
    pre = _one_line(render(preheader, customer)) if preheader else ""
    return EmailContent(subject=subject_text or "(no subject)", preheader=pre, text=text,
                        html=html_body(text, pre))

"""One-click unsubscribe pages: GET confirms, POST records (RFC 8058).

Plain HTML from FastAPI, not a Reflex page: the POST must work without cookies,
JavaScript or a session — a mail client's one-click POST (`List-Unsubscribe=One-Click`)
and a browser form land on the same route. The signed token in the path is the only
credential (core.unsubscribe_links); an altered or mistyped one gets an error page
that says so, and using a link twice just shows the same result.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from mini_crm.core import consent
from mini_crm.core import unsubscribe_links as links
from mini_crm.db import session_scope

router = APIRouter(tags=["unsubscribe"], include_in_schema=False)
CHANNEL_NAMES = {"sms": "SMS", "email": "email", "whatsapp": "WhatsApp"}
_STYLE = ("body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;"
          "padding:0 1rem;color:#1c2024;line-height:1.5}h1{font-size:1.4rem}"
          "button{font-size:1rem;padding:.6rem 1.2rem;border-radius:6px;border:0;"
          "background:#1c2024;color:#fff;cursor:pointer}.muted{color:#60646c}")


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<meta name=robots content=noindex><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>")
    return HTMLResponse(html, status_code=status)


def _masked(address: str | None) -> str:
    """Enough of the address for the person to recognise it, not enough to harvest it."""
    if not address:
        return ""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"
    return f"•••{address[-4:]}"


def _bad_link(reason: str) -> HTMLResponse:
    return _page("This unsubscribe link does not work",
                 f"<p>{escape(reason)}.</p><p class=muted>Open the link from the message "
                 "exactly as it arrived, or reply STOP to an SMS or WhatsApp message.</p>",
                 status=400)


def _status(recipient: links.Recipient) -> tuple[bool, str | None] | None:
    with session_scope() as session:
        return consent.recipient_status(session, recipient.customer_id, recipient.channel)


def _opt_out(recipient: links.Recipient) -> consent.LinkResult:
    with session_scope() as session:
        return consent.unsubscribe_by_link(session, recipient.customer_id, recipient.channel,
                                           recipient.campaign_id)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
async def confirm(token: str) -> HTMLResponse:
    """The confirmation page: nothing changes until the button is pressed (a link
    scanner following the URL must not unsubscribe anyone)."""
    try:
        recipient = links.verify(token)
    except links.LinkError as exc:
        return _bad_link(str(exc))
    status = await run_in_threadpool(_status, recipient)
    if status is None:
        return _bad_link("The person this link was sent to is no longer on our list")
    subscribed, address = status
    channel = CHANNEL_NAMES[recipient.channel]
    shown = f" to {escape(_masked(address))}" if address else ""
    if not subscribed:
        return _page("You are unsubscribed",
                     f"<p>We no longer send {channel} messages{shown}.</p>")
    return _page(f"Unsubscribe from {channel} messages?",
                 f"<p>You will stop getting our {channel} messages{shown}.</p>"
                 f"<form method=post action='{escape(links.PATH_PREFIX + token)}'>"
                 "<button type=submit>Unsubscribe</button></form>")


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe(token: str) -> HTMLResponse:
    """Record the opt-out. Accepts the RFC 8058 one-click body or an empty form post;
    the body is not needed, the signed token says who and which channel."""
    try:
        recipient = links.verify(token)
    except links.LinkError as exc:
        return _bad_link(str(exc))
    try:
        result = await run_in_threadpool(_opt_out, recipient)
    except LookupError as exc:
        return _bad_link(str(exc).capitalize())
    channel = CHANNEL_NAMES[result.channel]
    note = "" if result.changed else "<p class=muted>You had already unsubscribed.</p>"
    return _page("You are unsubscribed",
                 f"<p>We will not send you {channel} messages any more.</p>{note}")

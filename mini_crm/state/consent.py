"""The customer page's consent panel and the Data page's suppression list (thin: core/)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from mini_crm.core import consent, formatting, suppression
from mini_crm.core.auth import audit
from mini_crm.db import session_scope
from mini_crm.state.base import AppState
from mini_crm.state.customers import CustomerDetailState
from mini_crm.state.pager import Pager

CHANNEL_LABELS = formatting.CHANNEL_LABELS  # one spelling: core/formatting.channel_label
SOURCE_LABELS = {"api": "the API", "ui": "the customer page", "import": "a CSV import",
                 "unsubscribe_link": "an unsubscribe link", "inbound": "a reply",
                 "seed": "demo data"}
# Where a suppression came from, as the list shows it ("ui": a person in the app, on the
# customer page or the Data page).
LIST_SOURCES = {**SOURCE_LABELS, "ui": "the app"}
EDITORS = ("admin", "marketer")


UNREACHABLE = {consent.NO_PHONE: "No phone number", consent.NO_EMAIL: "No email address",
               consent.LANDLINE: "Landline: cannot take an SMS"}


def _change_text(event: Any, subscribed: bool) -> str:
    if event is None:
        return "Subscribed; no change recorded" if subscribed else "Opted out"
    details = event.details or {}
    verb = "Opted in" if subscribed else "Opted out"
    who = event.actor_label or "system"
    how = SOURCE_LABELS.get(details.get("source", ""), details.get("source") or "")
    text = f"{verb} {formatting.date_time(event.at)} by {who}"
    return text + (f" via {how}" if how and how not in who else "")


def _panel(external_id: str) -> list[dict[str, str]] | None:
    with session_scope() as session:
        rows = consent.panel(session, external_id)
    if rows is None:
        return None
    return [{
        "channel": r.channel, "label": CHANNEL_LABELS[r.channel],
        "subscribed": "yes" if r.subscribed else "no",
        "address": formatting.address(r.channel, r.address),
        "suppressed": "yes" if r.suppressed else "no",
        # Consent is kept without an address, but nothing can reach the customer there:
        # the row says so instead of a reassuring "Subscribed".
        "unreachable": UNREACHABLE.get(r.unreachable or "", ""),
        "change": _change_text(r.last_change, r.subscribed),
        "reason": ((r.last_change.details or {}).get("reason") or "") if r.last_change else "",
    } for r in rows]


def _set(external_id: str, channel: str, value: bool, reason: str,
         actor: audit.Actor) -> None:
    change = consent.Change(source="ui", actor=actor, reason=reason.strip() or None)
    with session_scope() as session:
        consent.set_channels(session, external_id, [channel], value, change)


def _suppression_page(channel: str | None, query: str, page: int
                      ) -> tuple[list[dict[str, str]], int, int, int]:
    with session_scope() as session:
        got = suppression.list_page(session, channel=channel, query=query, page=page,
                                    page_size=20)
        rows = [{"id": str(r.id), "address": formatting.address(r.channel, r.address),
                 "channel": CHANNEL_LABELS.get(r.channel, r.channel),
                 "reason": r.reason or "—", "source": LIST_SOURCES.get(r.source, r.source),
                 "added": formatting.date_time(r.created_at)} for r in got.rows]
        return rows, got.total, got.page, got.pages


class ConsentState(AppState):
    rows: list[dict[str, str]] = []
    reason: str = ""
    saving: str = ""  # the channel being changed
    # Bumped when the server clears or replaces typed text (components/text_field.py).
    form_rev: int = 0
    error: str = ""

    @rx.var
    def can_edit(self) -> bool:
        return self.user_role in EDITORS

    def _external_id(self) -> str:
        return str(self.router.page.params.get("external_id", ""))

    @rx.event(background=True)
    async def load(self):
        async with self:
            if not self.ensure_signed_in():
                return
            external_id = self._external_id()
            self.error = ""
        rows = await rx.run_in_thread(lambda: _panel(external_id))
        async with self:
            self.rows = rows or []

    @rx.event
    def set_reason(self, value: str):
        self.reason = value[:500]

    @rx.event(background=True)
    async def toggle(self, channel: str, subscribed: bool):
        """Record the marketer's change (source "ui"), then show the panel again."""
        async with self:
            if not self.ensure_role(*EDITORS):
                self.error = "Only admins and marketers can change consent."
                return
            user = self._current_user() or {}
            actor = audit.Actor(user_id=user.get("id"), label=user.get("email"))
            external_id, reason = self._external_id(), self.reason
            self.saving, self.error = channel, ""
        try:
            await rx.run_in_thread(lambda: _set(external_id, channel, bool(subscribed),
                                                reason, actor))
            rows = await rx.run_in_thread(lambda: _panel(external_id))
        except (LookupError, ValueError) as exc:
            async with self:
                self.saving, self.error = "", str(exc)
            return
        async with self:
            self.rows, self.saving, self.reason = rows or [], "", ""
            self.form_rev += 1
        yield CustomerDetailState.load  # the header's consent badge


class SuppressionState(Pager, AppState):
    """One page of the suppression list, with add/remove for admins."""

    rows: list[dict[str, str]] = []
    total: int = 0
    channel_filter: str = "all"
    query: str = ""
    loading: bool = False
    new_address: str = ""
    new_channel: str = "sms"
    new_reason: str = ""
    error: str = ""
    # Bumped when the server clears or replaces typed text (components/text_field.py).
    form_rev: int = 0
    notice: str = ""

    @rx.var
    def is_admin(self) -> bool:
        return self.user_role == "admin"

    @rx.var
    def count_text(self) -> str:
        return f"{formatting.count(self.total)} address{'' if self.total == 1 else 'es'}"

    def _reload(self):
        return SuppressionState.load

    @rx.event(background=True)
    async def load(self):
        async with self:
            if not self.ensure_signed_in():
                return
            self.loading = True
            channel = None if self.channel_filter == "all" else self.channel_filter
            query, page = self.query, self.page
        rows, total, got_page, pages = await rx.run_in_thread(
            lambda: _suppression_page(channel, query, page))
        async with self:
            current = None if self.channel_filter == "all" else self.channel_filter
            if (channel, query, page) != (current, self.query, self.page):
                return  # a newer search or page is loading: only the latest one shows
            self.rows, self.total, self.page, self.pages = rows, total, got_page, pages
            self.loading = False

    @rx.event
    def set_channel_filter(self, value: str):
        self.channel_filter = value
        return self._first_page()

    @rx.event
    def search(self, value: str):
        """A key in the find box: the rows follow once typing pauses (Pager)."""
        self.query = value
        return self._search_changed()

    @rx.event
    def set_new_address(self, value: str):
        self.new_address, self.error = value, ""
        # The channel follows the kind of address typed (still changeable by hand).
        if "@" in value:
            self.new_channel = "email"
        elif self.new_channel == "email" and any(ch.isdigit() for ch in value):
            self.new_channel = "sms"

    @rx.event
    def set_new_channel(self, value: str):
        self.new_channel = value

    @rx.event
    def set_new_reason(self, value: str):
        self.new_reason = value[:500]

    def _admin_actor(self) -> audit.Actor | None:
        if not self.ensure_role("admin"):
            self.error = "Only admins can change the suppression list."
            return None
        user = self._current_user() or {}
        return audit.Actor(user_id=user.get("id"), label=user.get("email"))

    @rx.event(background=True)
    async def add(self):
        async with self:
            actor = self._admin_actor()
            if actor is None:
                return
            address, channel, reason = self.new_address, self.new_channel, self.new_reason
            self.error = self.notice = ""

        def write() -> tuple[str, bool]:
            with session_scope() as session:
                row, created = suppression.add(session, address, channel, reason=reason,
                                               source="ui", actor=actor)
                return row.address, created

        try:
            shown, created = await rx.run_in_thread(write)
        except suppression.SuppressionError as exc:
            async with self:
                self.error = str(exc)
            return
        async with self:
            self.notice = (f"{shown} is suppressed on {CHANNEL_LABELS[channel]}." if created
                           else f"{shown} was already on the list for "
                                f"{CHANNEL_LABELS[channel]}.")
            self.new_address = self.new_reason = ""
            self.form_rev += 1
            self.page = 1
        yield SuppressionState.load

    @rx.event(background=True)
    async def remove(self, suppression_id: str):
        async with self:
            actor = self._admin_actor()
            if actor is None:
                return
            self.error = self.notice = ""

        def write() -> str | None:
            with session_scope() as session:
                row = suppression.remove(session, int(suppression_id), actor=actor)
                return None if row is None else row.address

        removed = await rx.run_in_thread(write)
        async with self:
            self.notice = (f"{removed} can be messaged again (customers who opted out stay "
                           "opted out)." if removed else "That row was already removed.")
        yield SuppressionState.load

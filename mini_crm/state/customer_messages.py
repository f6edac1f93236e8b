"""The customer page's "Messages" list: what this customer was sent, by which campaign,
with its delivery status (core/campaigns/reports.customer_messages)."""

from __future__ import annotations

import reflex as rx

from mini_crm.core.campaigns import reports
from mini_crm.db import session_scope
from mini_crm.state.base import AppState
from mini_crm.state.campaign_common import local_text

LIMIT = 20


def _messages(external_id: str) -> list[dict[str, str]]:
    with session_scope() as db:
        rows = reports.customer_messages(db, external_id, limit=LIMIT)
    return [{"campaign_id": str(r["campaign_id"]), "campaign": r["campaign"] or "(untitled)",
             "channel": r["channel"], "status": r["status"], "at": local_text(r["at"]),
             "error": r["error"] or ""} for r in rows]


class CustomerMessagesState(AppState):
    messages: list[dict[str, str]] = []
    messages_loading: bool = True

    @rx.event(background=True)
    async def load(self) -> None:
        async with self:
            if not self.ensure_signed_in():
                return
            self.messages_loading = True
            external_id = str(self.router.page.params.get("external_id", ""))
        rows = await rx.run_in_thread(lambda: _messages(external_id))
        async with self:
            self.messages, self.messages_loading = rows, False

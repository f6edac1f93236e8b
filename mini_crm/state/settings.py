"""Settings page state: API keys (created once-visible, revoked, listed with last use)."""

from __future__ import annotations

import reflex as rx

from mini_crm.core import apikeys, formatting
from mini_crm.db import session_scope
from mini_crm.state.base import AppState


def _key_rows() -> list[dict[str, str]]:
    with session_scope() as session:
        return [{
            "id": str(k.id), "name": k.name, "prefix": k.prefix + "…",
            "scopes": ", ".join(k.scopes), "created": formatting.date(k.created_at),
            "last_used": formatting.date_time(k.last_used_at) if k.last_used_at else "never",
            "status": "revoked" if k.revoked_at else "active",
        } for k in apikeys.list_keys(session)]


class SettingsState(AppState):
    keys: list[dict[str, str]] = []
    new_name: str = ""
    new_scopes: list[str] = ["ingest", "read"]
    new_secret: str = ""
    error: str = ""
    loading: bool = True

    @rx.event(background=True)
    async def load(self) -> None:
        await self.fetch_into(_key_rows, lambda rows: setattr(self, "keys", rows))

    @rx.event
    def set_new_name(self, name: str) -> None:
        self.new_name = name
        self.error = ""

    @rx.event
    def toggle_scope(self, scope: str) -> None:
        chosen = set(self.new_scopes) ^ {scope}
        self.new_scopes = [s for s in apikeys.SCOPES if s in chosen]

    @rx.event
    def create_key(self):
        if not self.ensure_signed_in():
            return
        try:
            with session_scope() as session:
                key = apikeys.create_key(session, self.new_name, self.new_scopes)
        except ValueError as exc:
            self.error = str(exc)
            return
        self.new_secret, self.new_name, self.error = key.secret, "", ""
        return SettingsState.load

    @rx.event
    def dismiss_secret(self) -> None:
        self.new_secret = ""

    @rx.event
    def revoke(self, key_id: str):
        if not self.ensure_signed_in():
            return
        with session_scope() as session:
            apikeys.revoke_key(session, int(key_id))
        return SettingsState.load

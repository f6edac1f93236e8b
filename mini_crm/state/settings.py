"""Settings page state: API keys (created once-visible, revoked, listed with last use).

Only admins create or revoke keys: checked here on the server in each handler (the
page also disables the controls for others). Core records both in the audit trail.
"""

from __future__ import annotations

import reflex as rx

from mini_crm.core import apikeys, formatting
from mini_crm.core.auth import users
from mini_crm.db import session_scope
from mini_crm.state.base import AppState

ADMINS_ONLY = "Only admins can create or revoke API keys."


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
    # Bumped when the server clears or replaces typed text (components/text_field.py).
    form_rev: int = 0
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

    def _refuse(self) -> bool:
        """True (with the refusal shown) unless the session belongs to an admin."""
        if self.ensure_role("admin"):
            return False
        self.error = ADMINS_ONLY if self.signed_in else ""
        return True

    @rx.event
    def create_key(self):
        if self._refuse():
            return
        try:
            with session_scope() as session:
                actor = users.actor(session, self.user_email)
                key = apikeys.create_key(session, self.new_name, self.new_scopes,
                                         created_by=actor.user_id, actor=actor)
        except ValueError as exc:
            self.error = str(exc)
            return
        self.new_secret, self.new_name, self.error = key.secret, "", ""
        self.form_rev += 1
        return SettingsState.load

    @rx.event
    def dismiss_secret(self) -> None:
        self.new_secret = ""

    @rx.event
    def revoke(self, key_id: str):
        if self._refuse():
            return
        with session_scope() as session:
            apikeys.revoke_key(session, int(key_id), actor=users.actor(session, self.user_email))
        return SettingsState.load

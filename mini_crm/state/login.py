"""Login page state: where to go after sign-in, and whether the provider is the local one."""

from __future__ import annotations

import json
from urllib.parse import quote

import reflex as rx

from mini_crm.core.auth import sessions
from mini_crm.settings import get_settings


class LoginState(rx.State):
    next_path: str = "/"
    dev_provider: bool = False
    provider_url: str = ""

    @rx.event
    def open(self) -> None:
        self.next_path = sessions.safe_next(str(self.router.page.params.get("next", "/")))
        settings = get_settings()
        self.dev_provider = settings.uses_local_oidc
        self.provider_url = settings.oidc_settings[0]

    @rx.event
    def start(self):
        # A full-page load (not client-side routing, which would not reach the server
        # route): the websocket must reconnect afterwards with the new session cookie.
        # Read `next` from the URL again: a click can beat the on_load that stores it.
        wanted = self.router.page.params.get("next") or self.next_path
        url = "/auth/login?next=" + quote(sessions.safe_next(str(wanted)), safe="/")
        return rx.call_script(f"window.location.assign({json.dumps(url)})")

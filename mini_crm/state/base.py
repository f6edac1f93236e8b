"""The base of every page state: who is signed in, checked on the server.

The session cookie is HttpOnly, so the browser's JavaScript never sees it; the
backend reads it from the websocket's request headers (captured when the socket
connects — sign-in and sign-out are full-page loads, so it reconnects with the
new cookie). Every page's on_load runs `guard`, and every handler that reads or
writes data calls `ensure_signed_in` (or `ensure_role`) first.
"""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any, TypeVar
from urllib.parse import quote

import reflex as rx

from mini_crm.core.auth import sessions
from mini_crm.db import session_scope

T = TypeVar("T")


def _cookie(header: str, name: str) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(header or "")
    except Exception:  # a malformed Cookie header means no session, not a crash
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


class AppState(rx.State):
    """Shared by all pages: the signed-in user's identity and role."""

    signed_in: bool = False
    user_email: str = ""
    user_name: str = ""
    user_role: str = ""

    def _current_user(self) -> dict[str, Any] | None:
        token = _cookie(self.router.headers.cookie, sessions.COOKIE_NAME)
        if not token:
            return None
        with session_scope() as db:
            user = sessions.current_user(db, token)
            return None if user is None else {"email": user.email, "name": user.name or "",
                                              "role": user.role, "id": user.id}

    def ensure_signed_in(self) -> bool:
        user = self._current_user()
        self.signed_in = user is not None
        self.user_email = user["email"] if user else ""
        self.user_name = user["name"] if user else ""
        self.user_role = user["role"] if user else ""
        return self.signed_in

    def client_connected(self) -> bool:
        """Whether this state's tab still holds its websocket to this app process.

        Background pollers ask, so a tab closed mid-campaign stops its poller instead of
        querying the database every second until the campaign ends. Outside a running
        app (state tests) there is no socket server, and the answer is yes.
        """
        from mini_crm import mini_crm as main  # the app module imports this one

        namespace = main.app.event_namespace
        return namespace is None or self.router.session.client_token in namespace.token_to_sid

    def ensure_role(self, *roles: str) -> bool:
        return self.ensure_signed_in() and self.user_role in roles

    @rx.event
    def guard(self):
        """on_load of every protected page: anonymous visitors go to the login page."""
        if not self.ensure_signed_in():
            path = (self.router.page.raw_path or "/").rstrip("/") or "/"
            return rx.redirect(f"/login?next={quote(path, safe='/')}", replace=True)

    async def fetch_into(self, fetch: Callable[[], T], apply: Callable[[T], Any]) -> None:
        """For background handlers: check the session, run the blocking `fetch` off the
        event loop, then `apply` its result; the state's `loading` flag brackets it."""
        async with self:
            if not self.ensure_signed_in():
                return
            self.loading = True
        result = await rx.run_in_thread(fetch)
        async with self:
            apply(result)
            self.loading = False

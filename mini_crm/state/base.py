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
F = TypeVar("F", bound=Callable[..., Any])

# The running app, registered by the app module as it is built (`use_app`): this module
# cannot import the app module, which imports every state.
_app: rx.App | None = None


def use_app(app: rx.App) -> None:
    """Register the app whose websocket namespace `AppState.client_connected` reads.

    mini_crm/mini_crm.py calls it once, right after building the app, in every process
    that serves it. Until then (state tests that never import the app module) there is
    no socket server, and every tab counts as connected.
    """
    global _app
    _app = app


def helper(fn: F) -> F:
    """Mark a public AppState method as a plain helper, not an event handler.

    Reflex 0.10 turns every public method of a state into an event handler, and a
    handler inherited from a parent state runs ON that parent's instance (its
    StateProxy rebinds it there). A helper that sets a field declared by a page
    state, like `loading`, then writes it onto AppState and the page state's own
    field never changes (the Segments and API-keys pages spun forever). Marked
    methods stay ordinary methods bound to the page state; Reflex's own BaseState
    helpers (get_state, reset...) carry the same mark for the same reason.
    """
    fn.__override_base_method__ = True  # type: ignore[attr-defined]
    return fn


def own_handler(state: Any, name: str) -> Any:
    """The event handler `name` of the page state `state` belongs to, for a handler
    written in a state mixin (`rx.State, mixin=True`): Reflex copies a mixin's handlers
    onto each state that lists it, so the mixin cannot name that state's class itself.
    Inside a background handler `state` is a StateProxy, which reports the wrapped
    state's class."""
    return getattr(state.__class__, name)


def _cookie(header: str, name: str) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(header or "")
    except Exception:  # a malformed Cookie header means no session, not a crash
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def is_busy_flag(name: str) -> bool:
    """Whether a state field is a progress flag (a spinner or progress bar shows while it
    is true). The names follow one convention so a failed handler's flags can be found."""
    return name in BUSY_FLAGS or name.endswith(("_loading", "_busy"))


BUSY_FLAGS = frozenset({"loading", "busy", "previewing", "launching", "tagging",
                        "suggesting", "saving", "sending_test"})


def _page_states(cls: type[rx.State]) -> list[type[rx.State]]:
    out: list[type[rx.State]] = []
    for sub in cls.get_substates():
        out += [sub, *_page_states(sub)]
    return out


class AppState(rx.State):
    """Shared by all pages: the signed-in user's identity and role."""

    signed_in: bool = False
    user_email: str = ""
    user_name: str = ""
    user_role: str = ""
    # A handler that failed unexpectedly, in the marketer's words (see state/errors.py);
    # shown at the top of every page until dismissed or the next page opens.
    page_error: str = ""

    @rx.event
    async def handler_failed(self, message: str) -> None:
        """What the app's backend exception handler sends back: show `message` on the
        page and stop every spinner, since the failed handler never got to clear its own
        progress flag. What the marketer typed stays in the state, untouched."""
        self.page_error = message
        for cls in _page_states(AppState):
            state = await self.get_state(cls)
            for name in cls.base_vars:  # its own fields; inherited ones live on a parent
                if is_busy_flag(name) and getattr(state, name, False) is True:
                    setattr(state, name, False)

    @rx.event
    def dismiss_page_error(self) -> None:
        self.page_error = ""

    def _current_user(self) -> dict[str, Any] | None:
        token = _cookie(self.router.headers.cookie, sessions.COOKIE_NAME)
        if not token:
            return None
        with session_scope() as db:
            user = sessions.current_user(db, token)
            return None if user is None else {"email": user.email, "name": user.name or "",
                                              "role": user.role, "id": user.id}

    @helper
    def ensure_signed_in(self) -> bool:
        user = self._current_user()
        self.signed_in = user is not None
        self.user_email = user["email"] if user else ""
        self.user_name = user["name"] if user else ""
        self.user_role = user["role"] if user else ""
        return self.signed_in

    @helper
    def client_connected(self) -> bool:
        """Whether this state's tab still holds its websocket to this app process.

        Background pollers ask, so a tab closed mid-campaign stops its poller instead of
        querying the database every second until the campaign ends. Outside a running
        app (state tests) there is no socket server, and the answer is yes.
        """
        namespace = _app.event_namespace if _app is not None else None
        return namespace is None or self.router.session.client_token in namespace.token_to_sid

    @helper
    def reopened_after_reconnect(self, last_visit: list[str]) -> tuple[bool, list[str]]:
        """Whether this on_load is the page this state last opened, re-run by a new
        websocket connection (a reconnect after a network blip or a backend restart, or
        a refresh), rather than a navigation inside the tab; and the visit to remember.

        Reflex re-runs a page's on_load on every (re)connect (`hydrate_and_load`); a
        navigation keeps the connection, so its session id tells the two apart. A page
        that resets its form in on_load keeps the marketer's unsaved input on a
        reconnect by skipping the reset when this is true.
        """
        visit = [str(self.router.page.full_raw_path), str(self.router.session.session_id)]
        same_page_new_socket = (len(last_visit) == 2 and last_visit[0] == visit[0]
                                and last_visit[1] != visit[1])
        return same_page_new_socket, visit

    @helper
    def ensure_role(self, *roles: str) -> bool:
        return self.ensure_signed_in() and self.user_role in roles

    @rx.event
    def guard(self):
        """on_load of every protected page: anonymous visitors go to the login page."""
        self.page_error = ""
        if not self.ensure_signed_in():
            path = (self.router.page.raw_path or "/").rstrip("/") or "/"
            return rx.redirect(f"/login?next={quote(path, safe='/')}", replace=True)

    @helper
    async def fetch_into(self, fetch: Callable[[], T], apply: Callable[[T], Any]) -> None:
        """For background handlers: check the session, run the blocking `fetch` off the
        event loop, then `apply` its result; the state's `loading` flag brackets it."""
        async with self:
            if not self.ensure_signed_in():
                return
            self.loading = True
        try:
            result = await rx.run_in_thread(fetch)
        except Exception:
            async with self:
                self.loading = False
            raise  # the app's backend exception handler puts the message on the page
        async with self:
            apply(result)
            self.loading = False

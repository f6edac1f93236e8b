"""Paging for the list pages: one page of rows in state, the next or previous one on a
click, back to the first page when a filter or the search changes.

`Pager` is a Reflex state *mixin* (`mixin=True`), not a parent state, on purpose. In
Reflex 0.10 a field or event handler inherited from a parent *state* lives on, and runs
on, that parent's instance (see `state.base.helper`: the Segments and API-keys pages
once spun forever because an inherited handler wrote `loading` onto AppState). A mixin's
fields and handlers are copied onto each page state that lists it, so `page` and `pages`
belong to the Campaigns page, the suppression list, the Customers page and the audit
trail separately, and `next_page` runs on the state it was clicked on.

A page state lists the mixin before its parent, `class CustomersState(Pager, AppState)`,
sets `pages` when its rows arrive, and names the handler that reloads its rows in
`_reload` (e.g. `return CustomersState.load`).

The search boxes (Campaigns, Customers, the suppression list) are `components/text_field`
boxes: the browser owns the text and sends every key (a debounced controlled box lost keys
typed while a search answer was in flight, issue 14). So the search is debounced here, on
the server, with `state/debounce.settled` like the wizard's live preview: each key bumps
`_search_generation` and `_search_changed` returns `search_after_pause`, which reloads
only if no key came in the `SEARCH_DEBOUNCE_SECONDS` after it. A handler that replaces
the search text itself (a clear button, `?q=` in the address) bumps `search_rev`, the
box's React key, so the box mounts afresh with the server's text.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from mini_crm.state.base import own_handler
from mini_crm.state.debounce import settled

# A pause this long after a key runs the search: the old client-side debounce's 300 ms.
SEARCH_DEBOUNCE_SECONDS = 0.3


class Pager(rx.State, mixin=True):
    """`page` of `pages` (both 1-based; `pages` is at least 1), with next/previous."""

    page: int = 1
    pages: int = 1
    # The search box's React key: bumped when the server replaces the search text.
    search_rev: int = 0
    _search_generation: int = 0

    def _reload(self) -> Any:
        """The event that loads the current page's rows; each page state names its own."""
        raise NotImplementedError

    def _first_page(self) -> Any:
        """A filter or the search changed: show its first page (returns the reload)."""
        self.page = 1
        return self._reload()

    def _search_changed(self) -> Any:
        """A key in the search box (the state has stored the new text): back to page 1,
        and the reload once typing pauses (returns the event that waits for it)."""
        self.page = 1
        self._search_generation += 1
        return own_handler(self, "search_after_pause")

    def _search_replaced(self) -> Any:
        """The server set the search text itself: the box shows it, the rows reload now."""
        self.search_rev += 1
        self._search_generation += 1  # a pause still pending for older text reloads nothing
        return self._first_page()

    @rx.event(background=True)
    async def search_after_pause(self):
        """Reload for the search text once no key came for `SEARCH_DEBOUNCE_SECONDS`."""
        if await settled(self, "_search_generation", SEARCH_DEBOUNCE_SECONDS) is None:
            return  # a later key waits for its own pause
        async with self:
            reload = self._reload()
        yield reload

    @rx.event
    def next_page(self):
        """The next page, if there is one."""
        if self.page < self.pages:
            self.page += 1
            return self._reload()

    @rx.event
    def prev_page(self):
        """The previous page, if there is one."""
        if self.page > 1:
            self.page -= 1
            return self._reload()

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
"""

from __future__ import annotations

from typing import Any

import reflex as rx


class Pager(rx.State, mixin=True):
    """`page` of `pages` (both 1-based; `pages` is at least 1), with next/previous."""

    page: int = 1
    pages: int = 1

    def _reload(self) -> Any:
        """The event that loads the current page's rows; each page state names its own."""
        raise NotImplementedError

    def _first_page(self) -> Any:
        """A filter or the search changed: show its first page (returns the reload)."""
        self.page = 1
        return self._reload()

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

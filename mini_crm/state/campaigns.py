"""Campaign history: one page of campaigns, filtered in SQL, live while any is sending."""

from __future__ import annotations

from typing import Any

import reflex as rx

from mini_crm.core import formatting
from mini_crm.core.campaigns import reports
from mini_crm.db import session_scope
from mini_crm.models import CampaignStatus
from mini_crm.state.base import AppState
from mini_crm.state.campaign_common import poll_while, stats_view, watch_pace
from mini_crm.state.pager import Pager

PAGE_SIZE = 15
STATUS_FILTERS = ["all", *CampaignStatus.ALL]


def _list(search: str, status: str, tag: str, page: int) -> dict[str, Any]:
    with session_scope() as db:
        rows, total = reports.list_campaigns(
            db, search=search.strip(), status="" if status == "all" else status, tag=tag,
            limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        tags = reports.known_tags(db)
    return {"rows": [stats_view(s) for s in rows], "total": total, "tags": tags,
            "pages": max(1, -(-total // PAGE_SIZE))}


class CampaignListState(Pager, AppState):
    search: str = ""
    status: str = "all"
    tag: str = ""
    total: int = 0
    rows: list[dict[str, Any]] = []
    tags: list[str] = []
    loading: bool = True
    error: str = ""
    ever_loaded: bool = False
    _polling: bool = False

    @rx.var
    def showing(self) -> str:
        if not self.total:
            return "No campaigns"
        first = (self.page - 1) * PAGE_SIZE + 1
        last = first + len(self.rows) - 1
        return f"{first}–{last} of {formatting.count(self.total)}"

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search.strip() or self.tag or self.status != "all")

    @rx.var
    def any_active(self) -> bool:
        return any(r["active"] for r in self.rows)

    def _reload(self):
        return CampaignListState.load

    def _key(self) -> tuple[str, str, str, int]:
        return (self.search, self.status, self.tag, self.page)

    @rx.event(background=True)
    async def load(self):
        async with self:
            if not self.ensure_signed_in():
                return
            self.loading = True
            key = self._key()
        try:
            result = await rx.run_in_thread(lambda: _list(*key))
        except Exception as exc:  # shown on the page instead of an endless spinner
            async with self:
                self.error, self.loading = f"Could not load campaigns: {exc}", False
            return
        async with self:
            if key != self._key():  # a newer filter won
                return
            self.rows, self.total, self.tags = result["rows"], result["total"], result["tags"]
            self.pages = result["pages"]
            self.loading, self.error, self.ever_loaded = False, "", True
            start = not self._polling
        if start:
            yield CampaignListState.watch

    @rx.event(background=True)
    async def watch(self):
        """Refresh the visible page while the history is open: every second while one of
        its campaigns sends or awaits receipts, else every 10 s (so a campaign launched
        in another tab or over the API shows up); stops when the user leaves the page
        or the tab closes."""
        async with self:
            if self._polling or not self.ensure_signed_in():
                return
            self._polling = True
            route = self.router.page.path

        async def pace() -> str:
            async with self:
                if self.router.page.path != route:
                    return ""
                return watch_pace(self, route, self.rows) or "slow"

        async def step() -> None:
            async with self:
                key = self._key()
            try:
                result = await rx.run_in_thread(lambda: _list(*key))
            except Exception:  # a transient DB error: try again on the next tick
                return
            async with self:
                if key == self._key():
                    self.rows, self.total = result["rows"], result["total"]
                    self.tags, self.pages = result["tags"], result["pages"]

        try:
            await poll_while(pace, step)
        finally:
            async with self:
                self._polling = False

    @rx.event
    def set_search(self, text: str):
        """A key in the search box: the rows follow once typing pauses (Pager)."""
        self.search = text
        return self._search_changed()

    @rx.event
    def set_status_filter(self, status: str):
        self.status = status if status in STATUS_FILTERS else "all"
        return self._first_page()

    @rx.event
    def set_tag_filter(self, tag: str):
        self.tag = "" if tag == "__all__" else tag
        return self._first_page()

    @rx.event
    def clear_filters(self):
        self.search, self.status, self.tag = "", "all", ""
        return self._search_replaced()  # the emptied box shows

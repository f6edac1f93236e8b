"""Customers list and detail states: one page of rows at a time, queried in SQL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import reflex as rx

from mini_crm.core import consent, contacts, customers, formatting
from mini_crm.db import session_scope
from mini_crm.models import Customer, Order, utcnow
from mini_crm.state.base import AppState
from mini_crm.state.pager import Pager

PAGE_SIZE = 25


def _customer_row(c: Customer) -> dict[str, str]:
    return {
        "external_id": c.external_id,
        # Ids are any printable text ("gid://shop/Customer/7001", "a b?c"): one path
        # segment only when percent-encoded, slashes included.
        "href": formatting.customer_path(c.external_id),
        "name": c.name or "(no name)",
        "initials": formatting.initials(c.name),
        "email": c.email or "—",
        "city": c.city or "—",
        "spend": formatting.rupees(c.total_spend),
        "orders": str(c.order_count),
        "last_order": formatting.days_ago(c.last_order_at, utcnow()),
        # A phone shows the name column only: the rest in two short lines under it.
        "phone_line": " · ".join([*([c.city] if c.city else []),
                                  formatting.rupees(c.total_spend)]),
        "phone_orders": " · ".join([
            formatting.plural(c.order_count, "order"),
            *([f"last {formatting.days_ago(c.last_order_at, utcnow())}"]
              if c.last_order_at else [])]),
    }


def _order_row(o: Order) -> dict[str, str]:
    return {
        "external_id": o.external_id,
        "amount": formatting.rupees(o.amount, paise=True),
        "status": o.status,
        "ordered_at": formatting.date_time(o.ordered_at),
        "items": ", ".join(f"{i.get('qty', 1)}× {i.get('name', i.get('sku', '?'))}"
                           for i in (o.items or []))[:120] or "—",
    }


def _list(query: str, sort: str, descending: bool, page: int) -> dict[str, Any]:
    with session_scope() as session:
        result = customers.list_customers(session, query=query, sort=sort,
                                          descending=descending, page=page,
                                          page_size=PAGE_SIZE)
        first = (result.page - 1) * result.page_size + 1 if result.total else 0
        return {"rows": [_customer_row(c) for c in result.rows], "total": result.total,
                "pages": result.pages, "page": result.page,
                "first": first, "last": first + len(result.rows) - 1 if result.rows else 0}


class CustomersState(Pager, AppState):
    query: str = ""
    sort: str = "recent"
    descending: bool = True
    total: int = 0
    first: int = 0
    last: int = 0
    rows: list[dict[str, str]] = []
    loading: bool = True

    @rx.var
    def showing(self) -> str:
        if not self.total:
            return "No customers"
        return (f"{formatting.count(self.first)}–{formatting.count(self.last)} of "
                f"{formatting.count(self.total)}")

    def _reload(self):
        return CustomersState.load

    @rx.event
    def open(self):
        """on_load: a `?q=` in the address (the top bar search) becomes the search."""
        q = self.router.url.query_parameters.get("q")
        if q is not None:
            self.query = q.strip()
            return self._search_replaced()  # the box shows the top bar's search
        return CustomersState.load

    @rx.event(background=True)
    async def load(self) -> None:
        async with self:
            if not self.ensure_signed_in():
                return
            self.loading = True
            key = (self.query, self.sort, self.descending, self.page)
        result = await rx.run_in_thread(lambda: _list(*key))
        async with self:
            # A newer search may have started meanwhile; only the latest one wins.
            if key == (self.query, self.sort, self.descending, self.page):
                for name in ("rows", "total", "pages", "page", "first", "last"):
                    setattr(self, name, result[name])
                self.loading = False

    @rx.event
    def search(self, text: str):
        """A key in the search box: the rows follow once typing pauses (Pager)."""
        self.query = text
        return self._search_changed()

    @rx.event
    def clear_search(self):
        """The box's clear button: empty box, every customer at once."""
        self.query = ""
        return self._search_replaced()

    @rx.event
    def search_from_anywhere(self, form: dict[str, Any]):
        return rx.redirect("/customers?" + urlencode({"q": str(form.get("q", "")).strip()}))

    @rx.event
    def set_sort_order(self, sort: str):
        """Pick from the menu ("spend:desc") or a column (its usual direction first)."""
        column, _, direction = sort.partition(":")
        if column in customers.SORTS:
            descending = (direction == "desc" if direction in ("asc", "desc")
                          else customers.default_descending(column))
            self.sort, self.descending = column, descending
            return self._first_page()

    @rx.var
    def sort_choice(self) -> str:
        """The menu's value: the column and its direction, so menu and header agree."""
        return f"{self.sort}:{'desc' if self.descending else 'asc'}"

    @rx.event
    def sort_by(self, sort: str):
        """Click a column header: the same column again flips the direction."""
        if sort == self.sort:
            self.descending = not self.descending
            return self._first_page()
        return CustomersState.set_sort_order(sort)



def _attr(value: Any, key: str = "") -> str:
    """An attribute value in words; a month attribute (key ending "month", 1-12) as its name."""
    if (month := formatting.month_attribute(key, value)) is not None:
        return month
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(formatting.code_label(key, v) if isinstance(v, str) else str(v)
                         for v in value)
    if isinstance(value, str):
        return formatting.code_label(key, value)  # "google_ads" shown as Google Ads
    return str(value)


def _reach_badge(session: Any, c: Any) -> tuple[str, str]:
    """The header badge: what is true per channel (consent.reach_badge), not consent
    alone: a customer with no phone is not "subscribed" to SMS in any useful sense."""
    suppressed = consent.suppressed_channels(session, [c])[int(c.id)]
    return consent.reach_badge(consent.channel_blocks(c, suppressed))


def _detail(external_id: str, page: int) -> dict[str, Any] | None:
    now = utcnow()
    with session_scope() as session:
        c = customers.get_customer(session, external_id)
        if c is None:
            return None
        orders = customers.customer_orders(session, c.id, page=page)
        aov = c.total_spend / c.order_count if c.order_count else None
        status, tone = _reach_badge(session, c)
        return {
            "customer": {
                **_customer_row(c),
                "phone": contacts.phone_label(c.phone, c.phone_type),
                "since": formatting.date(c.created_at),
                "first_order": formatting.date(c.first_order_at),
                "last_order_date": formatting.date(c.last_order_at),
                "aov": formatting.rupees(aov),
                "status": status, "status_tone": tone,
                "last_order": formatting.days_ago(c.last_order_at, now),
            },
            "attributes": [{"key": k.replace("_", " ").capitalize(), "value": _attr(v, k)}
                           for k, v in sorted((c.attributes or {}).items())],
            "orders": [_order_row(o) for o in orders.rows],
            "order_total": orders.total,
            "order_pages": orders.pages,
            "order_page": orders.page,
        }


class CustomerDetailState(AppState):
    customer: dict[str, str] = {}
    attributes: list[dict[str, str]] = []
    orders: list[dict[str, str]] = []
    order_total: int = 0
    order_pages: int = 1
    order_page: int = 1
    found: bool = True
    loading: bool = True

    @rx.event(background=True)
    async def load(self) -> None:
        async with self:
            if not self.ensure_signed_in():
                return
            self.loading = True
            external_id = str(self.router.page.params.get("external_id", ""))
            page = self.order_page
        result = await rx.run_in_thread(lambda: _detail(external_id, page))
        async with self:
            self.found = result is not None
            if result is not None:
                for key, value in result.items():
                    setattr(self, key, value)
            self.loading = False

    @rx.event
    def open(self):
        self.order_page = 1
        self.customer, self.attributes, self.orders = {}, [], []
        self.found, self.loading = True, True
        return CustomerDetailState.load

    @rx.event
    def next_orders(self):
        if self.order_page < self.order_pages:
            self.order_page += 1
            return CustomerDetailState.load

    @rx.event
    def prev_orders(self):
        if self.order_page > 1:
            self.order_page -= 1
            return CustomerDetailState.load

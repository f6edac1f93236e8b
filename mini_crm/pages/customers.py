"""Customers: searchable, sortable, paginated list and a detail view with orders."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.consent_ui import consent_panel
from mini_crm.components.customer_messages import customer_messages
from mini_crm.components.layout import page_shell
from mini_crm.components.text_field import text_field
from mini_crm.components.ui import (
    PHONE_ONLY,
    WIDE_ONLY,
    empty_state,
    loading_bar,
    pager,
    responsive_table,
    section,
    sort_header,
    stat_card,
    status_badge,
)
from mini_crm.state.customers import CustomerDetailState as D
from mini_crm.state.customers import CustomersState as S

# Every column in both directions, so the menu always names the order a header click
# left (clicking "Total spend" again reads "Lowest spend first", not "Top spenders").
SORT_LABELS = [("recent:desc", "Newest first"), ("recent:asc", "Oldest first"),
               ("spend:desc", "Top spenders"), ("spend:asc", "Lowest spend first"),
               ("orders:desc", "Most orders"), ("orders:asc", "Fewest orders"),
               ("last_order:desc", "Recently ordered"),
               ("last_order:asc", "Longest since last order"),
               ("name:asc", "Name A–Z"), ("name:desc", "Name Z–A")]



def _toolbar() -> rx.Component:
    return rx.flex(
        # Every key goes to the server, which searches once typing pauses (state/pager).
        text_field(
            S.query, S.search,
            rx.input.slot(rx.icon("search", size=16)),
            rx.cond(S.query != "", rx.input.slot(rx.icon_button(
                rx.icon("x", size=14), variant="ghost", color_scheme="gray", size="1",
                on_click=S.clear_search, aria_label="Clear search"))),
            rev=S.search_rev,
            placeholder="Name, email, phone, city or ID",
            size="3",
            width="100%",
            aria_label="Search customers",
            data_testid="customer-search",
        ),
        rx.select.root(
            rx.select.trigger(aria_label="Sort customers", min_width="180px"),
            rx.select.content(*(rx.select.item(label, value=value)
                                for value, label in SORT_LABELS)),
            value=S.sort_choice,
            on_change=S.set_sort_order,
            size="3",
        ),
        direction=rx.breakpoints(initial="column", sm="row"),
        width="100%",
        spacing="3",
    )


def _row(c: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.hstack(
                rx.avatar(fallback=c["initials"], size="2", radius="full", variant="soft"),
                rx.vstack(
                    rx.link(c["name"], href=c["href"], weight="medium",
                            high_contrast=True, data_testid="customer-link"),
                    rx.text(c["email"], size="1", color_scheme="gray", word_break="break-all"),
                    # On a phone the columns a marketer scans for ride under the name: the
                    # table showed the name alone, the rest behind a sideways swipe.
                    rx.text(c["phone_line"], size="1", color_scheme="gray",
                            display=PHONE_ONLY, data_testid="customer-phone-line"),
                    rx.text(c["phone_orders"], size="1", color_scheme="gray",
                            display=PHONE_ONLY),
                    spacing="0",
                ),
                align="center",
                spacing="3",
            ),
        ),
        rx.table.cell(c["city"], display=WIDE_ONLY),
        rx.table.cell(c["spend"], justify="end", display=WIDE_ONLY),
        rx.table.cell(c["orders"], justify="end", display=WIDE_ONLY),
        rx.table.cell(c["last_order"], display=WIDE_ONLY),
        align="center",
    )


def _table() -> rx.Component:
    return rx.card(
        rx.box(
            responsive_table(
                rx.table.header(rx.table.row(
                    sort_header("Name", "name", S.sort, S.descending, S.sort_by),
                    rx.table.column_header_cell("City", display=WIDE_ONLY),
                    sort_header("Total spend", "spend", S.sort, S.descending, S.sort_by,
                                justify="end", display=WIDE_ONLY),
                    sort_header("Orders", "orders", S.sort, S.descending, S.sort_by,
                                justify="end", display=WIDE_ONLY),
                    sort_header("Last order", "last_order", S.sort, S.descending, S.sort_by,
                                display=WIDE_ONLY),
                )),
                rx.table.body(rx.foreach(S.rows, _row)),
                width="100%",
                variant="ghost",
                data_testid="customer-table",
                opacity=rx.cond(S.loading, "0.6", "1"),
                min_width=["0", "0", "640px"],
            ),
            overflow_x="auto",
            width="100%",
        ),
        pager(S.page, S.pages, S.total, S.prev_page, S.next_page, noun="customers",
              summary=S.showing),
        width="100%",
    )


def customers_page() -> rx.Component:
    return page_shell(
        "Customers",
        _toolbar(),
        loading_bar(S.loading),
        rx.cond(
            (S.total == 0) & ~S.loading,
            rx.card(empty_state(
                "user-search",
                rx.cond(S.query != "", "No customers match", "No customers yet"),
                rx.cond(S.query != "", "Try a shorter or different search.",
                        "Customers arrive through the REST API or a CSV import on the Data "
                        "page."),
            ), width="100%"),
            _table(),
        ),
        subtitle="Everyone your brand knows, with their spend and order history.",
    )


def _fact(label: rx.Var | str, value: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray"),
        rx.spacer(),
        rx.text(value, size="2", weight="medium", text_align="right"),
        width="100%",
        align="start",
        spacing="4",
        padding_y="6px",
        border_bottom=f"1px solid {rx.color('gray', 3)}",
    )


def _profile_header() -> rx.Component:
    c = D.customer
    return rx.hstack(
        rx.avatar(fallback=c["initials"].to(str), size=rx.breakpoints(initial="4", sm="5"),
                  radius="full", variant="solid"),
        rx.vstack(
            rx.hstack(
                rx.heading(c["name"], size="6", weight="bold"),
                # What is true per channel (consent.reach_badge): green when every
                # channel reaches them, amber when some do, gray when none does.
                rx.badge(c["status"], radius="full", data_testid="customer-reach-badge",
                         color_scheme=rx.match(c["status_tone"].to(str), ("all", "green"),
                                               ("some", "amber"), "gray")),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            rx.hstack(
                rx.hstack(rx.icon("mail", size=14), rx.text(c["email"]), align="center",
                          spacing="1"),
                rx.hstack(rx.icon("phone", size=14), rx.text(c["phone"]), align="center",
                          spacing="1"),
                rx.hstack(rx.icon("map-pin", size=14), rx.text(c["city"]), align="center",
                          spacing="1"),
                color=rx.color("gray", 11),
                spacing="4",
                wrap="wrap",
                font_size="14px",
            ),
            spacing="2",
        ),
        align="center",
        spacing="4",
    )


def _details() -> rx.Component:
    c = D.customer
    return section(
        "Profile",
        rx.vstack(
            _fact("Customer id", c["external_id"]),
            _fact("Customer since", c["since"]),
            _fact("First order", c["first_order"]),
            _fact("Last order", c["last_order_date"]),
            rx.foreach(D.attributes, lambda a: _fact(a["key"], a["value"])),
            spacing="0",
            width="100%",
        ),
    )


def _orders() -> rx.Component:
    return section(
        "Orders",
        rx.cond(
            D.order_total == 0,
            empty_state("shopping-bag", "No orders yet", "This customer has not ordered."),
            rx.box(
                rx.box(
                    responsive_table(
                        rx.table.header(rx.table.row(
                            rx.table.column_header_cell("Order"),
                            rx.table.column_header_cell("Date"),
                            rx.table.column_header_cell("Items"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell("Amount", justify="end"),
                        )),
                        rx.table.body(rx.foreach(D.orders, lambda o: rx.table.row(
                            rx.table.cell(rx.text(o["external_id"], size="2",
                                                  color_scheme="gray"), white_space="nowrap"),
                            rx.table.cell(o["ordered_at"], white_space="nowrap"),
                            rx.table.cell(o["items"]),
                            rx.table.cell(status_badge(o["status"])),
                            rx.table.cell(o["amount"], justify="end", white_space="nowrap"),
                        ))),
                        width="100%",
                        variant="ghost",
                        size="2",
                        data_testid="order-table",
                        min_width="600px",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                pager(D.order_page, D.order_pages, D.order_total, D.prev_orders,
                      D.next_orders, noun="orders"),
                width="100%",
            ),
        ),
        subtitle="Newest first",
    )


def _detail_body() -> rx.Component:
    c = D.customer
    return rx.vstack(
        rx.grid(
            stat_card("Total spend", c["spend"], "indian-rupee",
                      "cancelled and refunded excluded"),
            stat_card("Orders", c["orders"], "shopping-bag", "counted orders"),
            stat_card("Average order", c["aov"], "receipt", "spend ÷ orders"),
            stat_card("Last ordered", c["last_order"], "clock", c["last_order_date"]),
            columns=rx.breakpoints(initial="2", lg="4"),
            spacing="4",
            width="100%",
        ),
        customer_messages(),
        rx.grid(
            _orders(),
            rx.vstack(consent_panel(), _details(), spacing="4", width="100%"),
            columns=rx.breakpoints(initial="1", lg="minmax(0, 2fr) minmax(0, 1fr)"),
            spacing="4",
            width="100%",
            align_items="start",
        ),
        spacing="5",
        width="100%",
    )


def customer_detail_page() -> rx.Component:
    return page_shell(
        "Customer",
        loading_bar(D.loading),
        rx.cond(
            D.found,
            rx.cond(
                D.customer.contains("external_id"),
                _detail_body(),
                rx.vstack(rx.skeleton(height="64px", width="100%"),
                          rx.skeleton(height="120px", width="100%"),
                          rx.skeleton(height="320px", width="100%"),
                          spacing="4", width="100%"),
            ),
            rx.card(empty_state(
                "user-x", "Customer not found",
                "No customer has this id. It may have been mistyped, or the customer was "
                "never imported.",
                rx.link(rx.button("Back to customers", variant="soft"), href="/customers"),
            ), width="100%"),
        ),
        actions=rx.link(rx.button(rx.icon("arrow-left", size=16), "All customers",
                                  variant="soft", color_scheme="gray"), href="/customers"),
        header=rx.cond(D.found & D.customer.contains("external_id"), _profile_header(),
                       rx.heading("Customer", size="7", weight="bold")),
    )

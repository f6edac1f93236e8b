"""Campaign history: newest first, with live delivery progress while campaigns send."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.campaign_ui import channel_icon, progress_bar, tag_chips
from mini_crm.components.layout import page_shell
from mini_crm.components.text_field import text_field
from mini_crm.components.ui import (
    PHONE_ONLY,
    WIDE_ONLY,
    empty_state,
    loading_bar,
    pager,
    responsive_table,
    status_badge,
)
from mini_crm.state.campaigns import STATUS_FILTERS
from mini_crm.state.campaigns import CampaignListState as S


def _new_button(size: str = "3") -> rx.Component:
    return rx.link(rx.button(rx.icon("plus", size=16), "New campaign", size=size,
                             data_testid="new-campaign"),
                   href="/campaigns/new")


def _toolbar() -> rx.Component:
    return rx.flex(
        # Every key goes to the server, which searches once typing pauses (state/pager).
        text_field(
            S.search, S.set_search,
            rx.input.slot(rx.icon("search", size=16)),
            rev=S.search_rev,
            placeholder="Search campaigns by name",
            size="3",
            width="100%",
            aria_label="Search campaigns",
            data_testid="campaign-search",
        ),
        rx.select.root(
            rx.select.trigger(aria_label="Filter by status", min_width="160px"),
            rx.select.content(*(rx.select.item("All statuses" if s == "all" else s.capitalize(),
                                               value=s) for s in STATUS_FILTERS)),
            value=S.status,
            on_change=S.set_status_filter,
            size="3",
        ),
        rx.select.root(
            rx.select.trigger(placeholder="All tags", aria_label="Filter by tag",
                              min_width="160px"),
            rx.select.content(
                rx.select.item("All tags", value="__all__"),
                rx.foreach(S.tags, lambda t: rx.select.item(t, value=t)),
            ),
            value=rx.cond(S.tag == "", "__all__", S.tag),
            on_change=S.set_tag_filter,
            size="3",
        ),
        direction=rx.breakpoints(initial="column", md="row"),
        width="100%",
        spacing="3",
    )


def _figures(r: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(r["sent"], " sent", size="1", color_scheme="gray",
                    data_testid="row-sent"),
            rx.text("·", size="1", color_scheme="gray"),
            rx.text(r["delivered"], " delivered", size="1", color=rx.color("grass", 11),
                    data_testid="row-delivered"),
            rx.text("· ", r["failed"], " failed", size="1",
                    color=rx.cond(r["failed"] != "0", rx.color("red", 11), rx.color("gray", 10)),
                    data_testid="row-failed"),
            rx.cond(r["has_cancelled"].to(bool),
                    rx.text("· ", r["cancelled"], " cancelled", size="1",
                            color=rx.color("gray", 10), data_testid="row-cancelled")),
            rx.cond(r["has_waiting"].to(bool),
                    rx.text("· ", r["waiting"], " wait for the A/B winner", size="1",
                            color=rx.color("violet", 11), data_testid="row-waiting")),
            spacing="1",
            wrap="wrap",
        ),
        progress_bar(r["progress"].to(int), r["sending"].to(bool), test_id="row-progress"),
        spacing="1",
        width="100%",
        min_width=["110px", "110px", "170px"],
    )


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.link(rx.cond(r["name"].to(str) != "", r["name"], "Untitled draft"),
                        href=r["href"].to(str), weight="medium",
                        high_contrast=True, data_testid="campaign-link"),
                rx.hstack(
                    rx.hstack(channel_icon(r["channel"], 12), rx.text(r["channel"], size="1"),
                              spacing="1", align="center", color=rx.color("gray", 10)),
                    rx.cond(r["is_ab"].to(bool),
                            rx.badge("A/B", size="1", variant="surface",
                                     color_scheme="indigo", data_testid="ab-badge")),
                    tag_chips(r["tags"].to(list[str])),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                # On a phone the status rides under the name: its own column was off
                # the screen to the right, past a long name kept on one line.
                rx.box(status_badge(r["status_label"].to(str)), display=PHONE_ONLY,
                       data_testid="row-status-phone"),
                spacing="1",
                # A long name wraps on a phone rather than pushing every figure off
                # screen.
                white_space="normal",
                min_width=["150px", "150px", "0"],
                max_width=["200px", "200px", "none"],
            ),
        ),
        rx.table.cell(status_badge(r["status_label"].to(str)), data_testid="row-status",
                      display=WIDE_ONLY),
        rx.table.cell(r["audience"], justify="end", data_testid="row-audience",
                      display=WIDE_ONLY),
        rx.table.cell(_figures(r)),
        rx.table.cell(rx.text(r["rate"], weight="medium"), justify="end",
                      data_testid="row-rate", display=WIDE_ONLY),
        rx.table.cell(rx.vstack(rx.text(r["revenue"], weight="medium",
                                        data_testid="row-revenue"),
                                rx.text(r["conversions"], " conversions · ", r["rpm"], "/msg",
                                        size="1", color_scheme="gray"),
                                spacing="0", align="end"), justify="end"),
        rx.table.cell(rx.vstack(rx.text(r["created"], size="2"),
                                rx.text(r["creator"], size="1", color_scheme="gray"),
                                spacing="0"), display=WIDE_ONLY),
        align="center",
        data_testid="campaign-row",
    )


def _table() -> rx.Component:
    return rx.card(
        rx.box(
            responsive_table(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Campaign"),
                    rx.table.column_header_cell("Status", display=WIDE_ONLY),
                    rx.table.column_header_cell("Audience", justify="end",
                                                display=WIDE_ONLY),
                    rx.table.column_header_cell("Delivery"),
                    rx.table.column_header_cell("Delivery rate", justify="end",
                                                display=WIDE_ONLY),
                    rx.table.column_header_cell("Revenue", justify="end"),
                    rx.table.column_header_cell("Created", display=WIDE_ONLY),
                )),
                rx.table.body(rx.foreach(S.rows, _row)),
                width="100%",
                variant="ghost",
                min_width=["0", "0", "760px"],
                opacity=rx.cond(S.loading, "0.6", "1"),
                data_testid="campaign-table",
            ),
            overflow_x="auto",
            width="100%",
        ),
        pager(S.page, S.pages, S.total, S.prev_page, S.next_page, noun="campaigns",
              summary=S.showing),
        width="100%",
    )


def campaigns_page() -> rx.Component:
    return page_shell(
        "Campaigns",
        rx.cond(S.ever_loaded & ((S.total > 0) | S.filtered), _toolbar()),
        loading_bar(S.loading),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          width="100%")),
        rx.cond(
            (S.total == 0) & S.ever_loaded,
            rx.card(rx.cond(
                S.filtered,
                empty_state("search-x", "No campaigns match",
                            "Try another search, status or tag.",
                            rx.button("Clear filters", variant="soft",
                                      on_click=S.clear_filters)),
                empty_state("megaphone", "No campaigns yet",
                            "Pick an audience, write a personalised message and send it by "
                            "SMS, email or WhatsApp. Delivery updates here live.",
                            _new_button("2")),
            ), width="100%"),
            rx.cond(S.ever_loaded, _table()),
        ),
        subtitle="Every campaign, newest first, with delivery as it happens.",
        actions=_new_button(),
    )

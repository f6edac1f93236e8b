"""The customer page's messages section (state/customer_messages.py)."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.campaign_ui import channel_icon
from mini_crm.components.ui import responsive_table, section, status_badge
from mini_crm.state.customer_messages import LIMIT
from mini_crm.state.customer_messages import CustomerMessagesState as M


def customer_messages() -> rx.Component:
    return section(
        "Messages",
        rx.cond(
            M.messages.length() == 0,
            rx.text(rx.cond(M.messages_loading, "Loading…",
                            "No campaign has sent this customer a message yet."),
                    size="2", color_scheme="gray"),
            responsive_table(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Campaign"),
                    rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell("When"),
                )),
                rx.table.body(rx.foreach(M.messages, lambda m: rx.table.row(
                    rx.table.cell(rx.hstack(
                        channel_icon(m["channel"], 12),
                        rx.link(m["campaign"], href="/campaigns/" + m["campaign_id"]),
                        spacing="2", align="center")),
                    rx.table.cell(rx.tooltip(rx.box(status_badge(m["status"])),
                                             content=rx.cond(m["error"] != "", m["error"],
                                                             m["status"]))),
                    rx.table.cell(m["at"], white_space="nowrap"),
                    data_testid="customer-message",
                ))),
                width="100%", size="1", variant="ghost",
            ),
        ),
        subtitle=f"The latest {LIMIT} campaign messages, newest first",
        data_testid="customer-messages",
    )

"""Consent toggles for the customer page and the suppression list for the Data page."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.text_field import text_field
from mini_crm.components.ui import empty_state, pager, responsive_table, section
from mini_crm.state.consent import ConsentState as C
from mini_crm.state.consent import SuppressionState as S

CHANNEL_ICONS = {"sms": "message-square", "email": "mail", "whatsapp": "message-circle"}


def _channel_row(row: rx.Var) -> rx.Component:
    subscribed = row["subscribed"] == "yes"
    return rx.vstack(
        rx.hstack(
            rx.match(row["channel"], *((c, rx.icon(i, size=16)) for c, i in CHANNEL_ICONS.items()),
                     rx.icon("send", size=16)),
            rx.text(row["label"], weight="medium", size="2"),
            rx.cond(row["suppressed"] == "yes",
                    rx.tooltip(rx.badge("address suppressed", color_scheme="red", size="1"),
                               content="This address is on the suppression list: nothing is "
                                       "sent to it on this channel, whoever holds it.")),
            rx.spacer(),
            rx.cond(
                row["unreachable"] != "",
                rx.tooltip(
                    rx.text(row["unreachable"], size="1", color_scheme="amber",
                            data_testid="consent-unreachable-" + row["channel"]),
                    content=rx.cond(subscribed,
                                    "Consent is kept, but nothing can be sent on this "
                                    "channel until the customer has an address it can "
                                    "reach.",
                                    "Opted out, and no address this channel can reach.")),
                rx.text(rx.cond(subscribed, "Subscribed", "Opted out"), size="1",
                        color_scheme=rx.cond(subscribed, "green", "gray"))),
            rx.switch(checked=subscribed, disabled=~C.can_edit | (C.saving != ""),
                      on_change=lambda value: C.toggle(row["channel"], value),
                      aria_label="Consent for " + row["label"],
                      data_testid="consent-" + row["channel"]),
            align="center", spacing="2", width="100%",
        ),
        rx.text(row["change"], rx.cond(row["reason"] != "", " — “" + row["reason"] + "”", ""),
                size="1", color_scheme="gray", data_testid="consent-note-" + row["channel"]),
        spacing="1", width="100%", padding_y="8px",
        border_bottom=f"1px solid {rx.color('gray', 3)}",
    )


def consent_panel() -> rx.Component:
    """Per-channel consent of the customer on the page, who changed it, when and why."""
    return section(
        "Consent",
        rx.vstack(
            rx.foreach(C.rows, _channel_row),
            rx.cond(C.can_edit, text_field(
                C.reason, C.set_reason, rev=C.form_rev,
                placeholder="Reason for a change (optional)", size="2", width="100%",
                max_length=500,
                aria_label="Reason for the consent change")),
            rx.cond(C.error != "", rx.callout(C.error, icon="circle-alert", color_scheme="red",
                                              size="1", role="alert")),
            spacing="2", width="100%",
        ),
        subtitle="Opting out also suppresses the address on that channel.",
    )


def _add_form() -> rx.Component:
    return rx.flex(
        text_field(S.new_address, S.set_new_address, rev=S.form_rev,
                   placeholder="Email or phone", aria_label="Address to suppress",
                 flex="2", min_width="180px", data_testid="suppress-address"),
        rx.select(["sms", "email", "whatsapp"], value=S.new_channel,
                  on_change=S.set_new_channel, aria_label="Channel"),
        text_field(S.new_reason, S.set_new_reason, rev=S.form_rev,
                   placeholder="Reason (optional)", max_length=500, aria_label="Reason",
                   flex="2", min_width="160px"),
        rx.button(rx.icon("ban", size=16), "Suppress", on_click=S.add,
                  disabled=S.new_address.strip() == "", data_testid="suppress-add"),
        spacing="2", width="100%", wrap="wrap", align="center",
    )


def _table() -> rx.Component:
    return rx.box(
        responsive_table(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Address"),
                rx.table.column_header_cell("Channel"),
                rx.table.column_header_cell("Reason"),
                rx.table.column_header_cell("From"),
                rx.table.column_header_cell("Added"),
                rx.cond(S.is_admin, rx.table.column_header_cell("")),
            )),
            rx.table.body(rx.foreach(S.rows, lambda r: rx.table.row(
                rx.table.cell(r["address"], white_space="nowrap"),
                rx.table.cell(r["channel"]),
                rx.table.cell(r["reason"]),
                rx.table.cell(r["source"]),
                rx.table.cell(r["added"], white_space="nowrap"),
                rx.cond(S.is_admin, rx.table.cell(rx.button(
                    "Remove", size="1", variant="soft", color_scheme="gray",
                    on_click=S.remove(r["id"]), aria_label="Remove " + r["address"]))),
                align="center",
            ))),
            width="100%", size="1", variant="ghost", min_width="560px",
            data_testid="suppression-table", opacity=rx.cond(S.loading, "0.6", "1"),
        ),
        overflow_x="auto", width="100%",
    )


def suppression_section() -> rx.Component:
    """The suppression list: filter, one page of rows, add/remove for admins."""
    filtered = (S.query != "") | (S.channel_filter != "all")
    return section(
        "Suppression list",
        rx.vstack(
            rx.flex(
                # Every key goes to the server, which searches once typing pauses.
                text_field(S.query, S.search, rx.input.slot(rx.icon("search", size=16)),
                           rev=S.search_rev, placeholder="Find an address",
                           aria_label="Find an address", width="100%",
                           data_testid="suppression-search"),
                rx.select.root(
                    rx.select.trigger(aria_label="Channel filter", min_width="140px"),
                    rx.select.content(rx.select.item("All channels", value="all"),
                                      rx.select.item("SMS", value="sms"),
                                      rx.select.item("Email", value="email"),
                                      rx.select.item("WhatsApp", value="whatsapp")),
                    value=S.channel_filter, on_change=S.set_channel_filter),
                spacing="2", width="100%", direction=rx.breakpoints(initial="column",
                                                                    sm="row"),
            ),
            rx.cond(S.is_admin, _add_form()),
            rx.cond(S.error != "", rx.callout(S.error, icon="circle-alert", color_scheme="red",
                                              size="1", role="alert")),
            rx.cond(S.notice != "", rx.text(S.notice, size="2", color_scheme="green",
                                            data_testid="suppress-notice")),
            rx.cond(
                (S.total == 0) & ~S.loading,
                empty_state("shield-check",
                            rx.cond(filtered, "No suppressed address matches",
                                    "Nobody is suppressed yet"),
                            rx.cond(filtered, "Try another address or channel.",
                                    "Addresses land here when someone opts out (a link, a "
                                    "STOP reply, the customer page, the API) or when an admin "
                                    "adds one. Nothing is ever sent to them on that channel.")),
                rx.vstack(_table(), pager(S.page, S.pages, S.total, S.prev_page, S.next_page,
                                          summary=S.count_text), width="100%"),
            ),
            spacing="3", width="100%",
        ),
        subtitle="Addresses never messaged on a channel, whichever customer holds them.",
    )

"""One campaign: live counters, funnel, timeline chart, the delivery log and insights."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.ab_ui import ab_section
from mini_crm.components.campaign_actions import campaign_actions
from mini_crm.components.campaign_charts import funnel, timeline
from mini_crm.components.campaign_ui import (
    channel_icon,
    engine_badge,
    kv_row,
    tag_chips,
)
from mini_crm.components.layout import page_shell
from mini_crm.components.outcome_ui import outcome_section
from mini_crm.components.ui import (
    confirm_dialog,
    empty_state,
    loading_bar,
    pager,
    responsive_table,
    section,
    stat_card,
    status_badge,
)
from mini_crm.state.campaign_detail import LOG_FILTERS
from mini_crm.state.campaign_detail import CampaignDetailState as S

C = S.c

def _cancel_button() -> rx.Component:
    def button(disabled: bool) -> rx.Component:
        return rx.button(rx.icon("circle-stop", size=16), "Cancel campaign", color_scheme="red",
                         variant="soft", size="3", disabled=disabled,
                         data_testid="cancel-campaign")

    # The dialog trigger needs the button itself as its only child (no cond between).
    scheduled = C["status"].to(str) == "scheduled"
    confirm = confirm_dialog(
        button(False),
        title="Cancel this campaign?",
        # A scheduled campaign has sent nothing yet: no talk of messages in flight.
        body=rx.cond(scheduled,
                     "It has not started: nothing has been sent, and nothing will be. "
                     "This cannot be undone.",
                     "Messages already handed to the vendor still arrive; the ones still "
                     "queued are not sent. This cannot be undone."),
        cancel=rx.cond(scheduled, "Keep scheduled", "Keep sending"),
        confirm="Cancel campaign", on_confirm=S.cancel, danger=True,
        confirm_test_id="confirm-cancel", cancel_test_id="keep-campaign")
    return rx.cond(
        S.cancellable,
        rx.cond(S.can_launch, confirm,
                rx.tooltip(rx.box(button(True), tab_index=0),
                           content="Viewers cannot cancel campaigns.")),
    )


def _header() -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("All campaigns"),
                          align="center", spacing="1"), href="/campaigns", size="2"),
        rx.hstack(
            rx.heading(C["name"].to(str), size="7", weight="bold", data_testid="campaign-name"),
            rx.box(status_badge(C["status_label"].to(str)), data_testid="campaign-status"),
            rx.cond(C["status"].to(str) == "scheduled",
                    rx.badge(rx.icon("calendar-clock", size=12), "Starts ",
                             C["scheduled"].to(str), color_scheme="amber", variant="outline",
                             radius="full"),
                    rx.cond(S.active, rx.hstack(rx.spinner(size="1"),
                                                rx.text("live", size="1", color_scheme="gray"),
                                                spacing="1", align="center"))),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.hstack(
            rx.hstack(channel_icon(C["channel"].to(str)), rx.text(C["channel_label"].to(str)),
                      spacing="1", align="center"),
            rx.cond(C["creator"].to(str) != "—",
                    rx.hstack(rx.text("·"), rx.text("by ", C["creator"].to(str)),
                              spacing="2")),
            rx.text("·"),
            rx.text(C["when_text"].to(str), data_testid="campaign-when"),
            tag_chips(C["tags"].to(list[str])),
            spacing="2",
            align="center",
            wrap="wrap",
            color=rx.color("gray", 11),
            font_size="14px",
        ),
        spacing="2",
        align="start",
    )


def _audience_note() -> rx.Component:
    """Under the audience figure: when it is counted, that it never was (cancelled
    before it started), or the recipients, skips and where the audience came from."""
    return rx.cond(
        C["status"].to(str) == "scheduled", "Counted when it starts",
        rx.cond(C["never_started"].to(bool), "Cancelled before it started",
                rx.vstack(
                    rx.text(C["recipients"].to(str), " recipients · ",
                            rx.cond(C["skipped"].to(str) != "",
                                    "skipped: " + C["skipped"].to(str), "nobody skipped"),
                            data_testid="stat-skipped"),
                    rx.cond(C["segment"].to(str) != "",
                            rx.text("Segment: ", C["segment"].to(str)),
                            rx.text("Rules snapshot at launch")),
                    spacing="0")))


def _figures() -> rx.Component:
    return rx.grid(
        stat_card("Audience", C["audience"].to(str), "users", _audience_note(),
                  test_id="stat-audience"),
        stat_card("Sent", C["sent"].to(str), "send",
                  rx.text(C["pending_text"].to(str), " · ", C["awaiting"].to(str),
                          " awaiting a receipt"), test_id="stat-sent"),
        stat_card("Delivered", C["delivered"].to(str), "circle-check",
                  rx.text("Delivery rate ", C["rate"].to(str), data_testid="stat-rate"),
                  test_id="stat-delivered"),
        stat_card("Failed", C["failed"].to(str), "circle-x",
                  rx.vstack(
                      rx.text(C["undelivered"].to(str), " undelivered by the network"),
                      rx.cond(C["has_cancelled"].to(bool),
                              rx.text(C["cancelled"].to(str),
                                      " cancelled (not sent, not failures)",
                                      data_testid="stat-cancelled")),
                      spacing="0"),
                  test_id="stat-failed"),
        columns=rx.breakpoints(initial="2", lg="4"),
        spacing="4",
        width="100%",
    )


def _message() -> rx.Component:
    return section(
        "Message",
        rx.box(
            rx.text(C["message"].to(str), size="2", white_space="pre-wrap",
                    font_family="ui-monospace, SFMono-Regular, Menlo, monospace"),
            padding="12px",
            border_radius="8px",
            background_color=rx.color("gray", 2),
            border=f"1px solid {rx.color('gray', 4)}",
            width="100%",
        ),
        rx.vstack(
            rx.cond(C["objective"].to(str) != "", kv_row("Objective", C["objective"].to(str))),
            kv_row("Audience", rx.cond(C["sentence"].to(str) != "", C["sentence"].to(str),
                                       "—")),
            kv_row("Scheduled for", C["scheduled"].to(str)),
            kv_row("Started", C["started"].to(str)),
            kv_row(C["completed_label"].to(str), C["completed"].to(str)),
            spacing="0",
            width="100%",
        ),
    )


def _log_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.link(r["customer"], href=r["href"], weight="medium",
                    size="2"),
            rx.text(r["external_id"], size="1", color_scheme="gray"),
            spacing="0")),
        rx.table.cell(status_badge(r["status"])),
        rx.table.cell(rx.text(r["sent_at"], size="2")),
        rx.table.cell(rx.text(r["delivered_at"], size="2")),
        rx.table.cell(rx.cond(r["error"] != "",
                              rx.text(r["error"], size="1", color=rx.color("red", 11)),
                              rx.text(r["message"], size="1", color_scheme="gray",
                                      max_width="360px", overflow="hidden",
                                      text_overflow="ellipsis", white_space="nowrap")),
                      max_width="360px"),
        align="center",
        data_testid="log-row",
    )


def _log() -> rx.Component:
    return section(
        "Delivery log",
        rx.segmented_control.root(
            *(rx.segmented_control.item(s.capitalize(), value=s) for s in LOG_FILTERS),
            value=S.log_status,
            on_change=S.set_log_status,
            size="1",
            aria_label="Filter the log by status",
        ),
        rx.cond(
            S.log_total == 0,
            empty_state("inbox", "No messages here",
                        rx.cond(S.log_status == "all",
                                rx.cond(C["nobody_note"].to(str) != "",
                                        C["nobody_note"].to(str),
                                        "This campaign has no recipients yet."),
                                "No message has this status.")),
            rx.box(
                responsive_table(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Customer"),
                        rx.table.column_header_cell("Status"),
                        rx.table.column_header_cell("Sent"),
                        rx.table.column_header_cell("Receipt"),
                        rx.table.column_header_cell("Message / error"),
                    )),
                    rx.table.body(rx.foreach(S.log_rows, _log_row)),
                    width="100%",
                    size="1",
                    variant="ghost",
                    min_width="720px",
                    opacity=rx.cond(S.log_loading, "0.6", "1"),
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
        pager(S.log_page, S.log_pages, S.log_total, S.prev_log_page, S.next_log_page,
              noun="messages", summary=S.log_showing),
        actions=rx.button(rx.icon("download", size=14), "Export CSV", variant="soft", size="2",
                          on_click=S.export_csv, data_testid="export-csv"),
        data_testid="delivery-log",
    )


def _insight_table(t: rx.Var) -> rx.Component:
    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.hstack(
                rx.text(r["label"], size="2"),
                rx.match(r["mark"],
                         ("up", rx.icon("trending-up", size=14, color=rx.color("grass", 10))),
                         ("down", rx.icon("trending-down", size=14, color=rx.color("red", 10))),
                         rx.fragment()),
                spacing="1", align="center")),
            rx.table.cell(r["messages"], justify="end"),
            rx.table.cell(rx.text(r["rate"], weight="medium"), justify="end"),
            rx.table.cell(rx.text(r["rest"], color_scheme="gray"), justify="end"),
        )

    return rx.vstack(
        rx.text(t["title"].to(str), size="2", weight="bold"),
        responsive_table(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Group"),
                rx.table.column_header_cell(t["count_header"].to(str), justify="end"),
                rx.table.column_header_cell(t["rate_header"].to(str), justify="end"),
                rx.table.column_header_cell("Others", justify="end",
                                            title=t["rest_help"].to(str)),
            )),
            rx.table.body(rx.foreach(t["rows"].to(list[dict[str, str]]), row)),
            size="1",
            variant="ghost",
            width="100%",
        ),
        width="100%",
        spacing="2",
        overflow_x="auto",
    )


def _insights() -> rx.Component:
    i = S.insights
    body = rx.cond(
        S.insights_loading,
        rx.hstack(rx.spinner(size="2"), rx.text("Reading the results…", size="2"),
                  align="center"),
        rx.cond(
            S.insights_error != "",
            rx.callout(S.insights_error, icon="triangle-alert", color_scheme="amber", size="1"),
            rx.cond(
                i.contains("summary"),
                rx.vstack(
                    rx.text(i["summary"].to(str), size="3", data_testid="insights-summary"),
                    rx.vstack(rx.foreach(i["highlights"].to(list[str]), lambda h: rx.hstack(
                        rx.icon("sparkle", size=14, color=rx.color("accent", 9),
                                flex_shrink="0", margin_top="3px"),
                        rx.text(h, size="2"), align="start", spacing="2")),
                        spacing="2", width="100%"),
                    rx.cond(i["comparison"].to(list[dict[str, str]]).length() > 0,
                            rx.grid(rx.foreach(i["comparison"].to(list[dict[str, str]]),
                                               lambda kv: rx.card(rx.vstack(
                                                   rx.text(kv["label"], size="1",
                                                           color_scheme="gray"),
                                                   rx.text(kv["value"], size="4",
                                                           weight="bold"), spacing="1"),
                                                   size="1")),
                                    columns=rx.breakpoints(initial="2", md="4"), spacing="3",
                                    width="100%")),
                    rx.grid(rx.foreach(i["tables"].to(list[dict]), _insight_table),
                            columns=rx.breakpoints(initial="1", lg="3"), spacing="4",
                            width="100%"),
                    rx.cond(i["errors"].to(list[dict[str, str]]).length() > 0, rx.callout(
                        rx.vstack(
                            rx.text("Most common failures", weight="bold"),
                            rx.foreach(i["errors"].to(list[dict[str, str]]), lambda e: rx.text(
                                "“", e["error"], "” · ", e["count"])),
                            spacing="1"),
                        icon="circle-x", color_scheme="red", size="1", width="100%")),
                    rx.cond(i["note"].to(str) != "",
                            rx.text(i["note"].to(str), size="1", color_scheme="gray")),
                    spacing="4",
                    width="100%",
                ),
                rx.text("Insights appear once the campaign has finished.", size="2",
                        color_scheme="gray"),
            ),
        ),
    )
    return section("Insights", body, subtitle="What worked, and for whom",
                actions=rx.hstack(
                    engine_badge(rx.cond(i.contains("engine"), i["engine"].to(str), "")),
                    rx.cond(S.finished, rx.icon_button(
                        rx.icon("refresh-cw", size=14), variant="ghost", size="1",
                        on_click=S.load_insights, aria_label="Refresh insights")),
                    spacing="2", align="center"),
                data_testid="insights")


def _body() -> rx.Component:
    return rx.vstack(
        rx.cond(S.notice != "", rx.callout(S.notice, icon="info", size="1", width="100%")),
        _figures(),
        rx.grid(
            funnel(),
            timeline(),
            columns=rx.breakpoints(initial="1", lg="minmax(0, 2fr) minmax(0, 3fr)"),
            spacing="4",
            width="100%",
        ),
        # Before the send there is nothing earned and no buyers to model on: one empty
        # state instead of zero figures and a lookalike of nobody.
        rx.cond(C["has_started"].to(bool),
                outcome_section(C, S.revenue_series, actions=rx.link(
                    rx.button(rx.icon("users", size=14), "Find customers like its buyers",
                              variant="soft", size="2"),
                    href=f"/segments/new?like_buyers_of={S.campaign_id}",
                    title="A lookalike audience modelled on the customers this campaign "
                          "converted",
                    data_testid="buyers-lookalike")),
                rx.callout("What it earned: figures appear once the campaign is sent.",
                           icon="info", size="1", color_scheme="gray", width="100%",
                           data_testid="outcome-not-started")),
        ab_section(C),
        _insights(),
        rx.grid(
            _log(),
            _message(),
            columns=rx.breakpoints(initial="1", xl="minmax(0, 2fr) minmax(0, 1fr)"),
            spacing="4",
            width="100%",
            align_items="start",
        ),
        spacing="5",
        width="100%",
    )


def campaign_detail_page() -> rx.Component:
    return page_shell(
        "Campaign",
        loading_bar(S.loading),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          width="100%", role="alert")),
        rx.cond(
            ~S.found,
            rx.card(empty_state("search-x", "Campaign not found",
                                "It may have been removed, or the link is wrong.",
                                rx.link(rx.button("All campaigns"), href="/campaigns")),
                    width="100%"),
            rx.cond(C.contains("id"), _body()),
        ),
        header=rx.cond(C.contains("id"), _header(),
                       rx.heading("Campaign", size="7", weight="bold")),
        actions=campaign_actions(_cancel_button()),
    )

"""The campaign page's delivery charts: the funnel and the timeline."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.campaign_ui import funnel_bar, progress_bar
from mini_crm.components.chart_format import COMPACT_TICKS
from mini_crm.components.ui import section
from mini_crm.state.campaign_detail import CampaignDetailState as S

C = S.c


def funnel() -> rx.Component:
    """The delivery funnel (shares of the recipients), or why there is none yet."""
    return section(
        "Funnel",
        rx.cond(C["nobody_note"].to(str) != "",
                rx.text(C["nobody_note"].to(str), size="2", color_scheme="gray",
                        data_testid="funnel-note"),
                _funnel_stages()),
        subtitle="Share of the recipients at each stage (skipped customers are left out "
                 "before sending)",
    )


def _funnel_stages() -> rx.Component:
    return rx.fragment(
        rx.vstack(
            funnel_bar("Recipients", C["recipients"].to(str), rx.Var.create(100), "indigo"),
            funnel_bar("Sent to the vendor", C["sent"].to(str), C["sent_pct"].to(int), "blue",
                       test_id="funnel-sent"),
            funnel_bar("Delivered", C["delivered"].to(str), C["delivered_pct"].to(int), "grass",
                       test_id="funnel-delivered"),
            funnel_bar("Failed (not sent)", C["failed"].to(str), C["failed_only_pct"].to(int),
                       "red", test_id="funnel-failed"),
            rx.cond(C["has_cancelled"].to(bool),
                    funnel_bar("Cancelled (not sent)", C["cancelled"].to(str),
                               C["cancelled_pct"].to(int), "gray",
                               test_id="funnel-cancelled")),
            funnel_bar("Undelivered", C["undelivered"].to(str), C["undelivered_pct"].to(int),
                       "orange"),
            funnel_bar("Converted (bought within the window)", C["converters"].to(str),
                       C["converted_pct"].to(int), "jade", test_id="funnel-converted"),
            spacing="4",
            width="100%",
        ),
        rx.vstack(
            rx.hstack(rx.text(C["progress_label"].to(str), size="1", color_scheme="gray"),
                      rx.spacer(),
                      rx.text(C["progress"].to(int).to_string() + "%", size="1",
                              color_scheme="gray", data_testid="campaign-progress-text"),
                      width="100%"),
            progress_bar(C["progress"].to(int), S.active, test_id="campaign-progress"),
            spacing="1",
            width="100%",
        ),
    )


def timeline() -> rx.Component:
    """Sends and their outcomes per time slice, or why there is nothing to draw."""
    def bar(key: str, name: str, color: str, stack: str) -> rx.Component:
        return rx.recharts.bar(data_key=key, name=name, fill=rx.color(color, 9),
                               stack_id=stack, is_animation_active=False, max_bar_size=28)

    return section(
        "Timeline",
        rx.cond(
            S.timeline.length() == 0,
            rx.center(rx.text(rx.cond(C["nobody_note"].to(str) != "",
                                      C["nobody_note"].to(str), "Nothing sent yet."),
                              color_scheme="gray", size="2", text_align="center",
                              data_testid="timeline-note"),
                      height="260px"),
            rx.recharts.bar_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False,
                                           stroke=rx.color("gray", 5)),
                # Sends in one column, their outcomes (receipts, failures) stacked beside.
                bar("sent", "Sent", "blue", "sent"),
                bar("delivered", "Delivered", "grass", "outcome"),
                bar("undelivered", "Undelivered", "orange", "outcome"),
                bar("failed", "Failed", "red", "outcome"),
                bar("cancelled", "Cancelled (not sent)", "gray", "outcome"),
                rx.recharts.x_axis(data_key="label", font_size=11, tick_line=False,
                                   min_tick_gap=24, stroke=rx.color("gray", 8)),
                # Compact ticks ("20K", "1.5L"): a full count ("20000") was cut to
                # "0000" by the axis's width.
                rx.recharts.y_axis(font_size=11, width=44, tick_line=False, axis_line=False,
                                   allow_decimals=False, stroke=rx.color("gray", 8),
                                   tick_formatter=COMPACT_TICKS),
                rx.recharts.graphing_tooltip(
                    cursor={"fill": rx.color("gray", 3)},
                    content_style={"borderRadius": "8px", "fontSize": "13px",
                                   "border": f"1px solid {rx.color('gray', 5)}"}),
                rx.recharts.legend(icon_type="circle", icon_size=8,
                                   wrapper_style={"fontSize": "12px"}),
                data=S.timeline,
                width="100%",
                height=260,
                bar_gap=1,
                margin={"top": 8, "right": 8, "left": 0, "bottom": 0},
            ),
        ),
        subtitle="Messages sent and their outcomes over the campaign's run",
        data_testid="campaign-timeline",
    )

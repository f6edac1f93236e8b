"""What a campaign earned, as the campaign page shows it: revenue and conversions, the
holdout and the uplift with its interval, and revenue over time since the send.

`c` is the campaign view (state/campaign_common.stats_view, outcome keys from
state/outcome_view.py); `series` the revenue-since-send points."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.chart_format import MONEY_AXIS_WIDTH, MONEY_TICKS, MONEY_TOOLTIP
from mini_crm.components.ui import section


def _figure(label: str, value: rx.Var, hint: rx.Var | str, test_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray", weight="medium"),
        rx.text(value, size="5", weight="bold", data_testid=test_id),
        rx.text(hint, size="1", color_scheme="gray"),
        spacing="1", align="start", min_width="0")


def _uplift(c: rx.Var) -> rx.Component:
    return rx.cond(
        c["has_holdout"].to(bool),
        rx.cond(
            c["uplift_ready"].to(bool),
            rx.vstack(
                rx.hstack(rx.text("Uplift vs holdout", size="2", weight="medium"),
                          rx.badge(c["uplift"].to(str), size="2", data_testid="uplift"),
                          align="center", wrap="wrap"),
                rx.text(c["uplift_ci"].to(str), size="2", data_testid="uplift-ci"),
                rx.text(c["uplift_verdict"].to(str), size="2", weight="medium"),
                rx.text(c["incremental"].to(str), size="2", color_scheme="gray"),
                spacing="1", align="start"),
            rx.callout(c["uplift_wait"].to(str), icon="hourglass", size="1",
                       data_testid="uplift-wait")),
        rx.text("No holdout: this campaign cannot tell which orders would have happened "
                "anyway.", size="2", color_scheme="gray"),
    )


def _revenue_chart(series: rx.Var, note: rx.Var) -> rx.Component:
    """Revenue per period since the send; `note` (why there are no recipients, or "")
    is said instead of empty axes."""
    return rx.cond(
        series.length() == 0,
        rx.center(rx.text(rx.cond(note != "", note, "Not launched yet."),
                          color_scheme="gray", size="2", text_align="center"),
                  height="200px"),
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False,
                                       stroke=rx.color("gray", 5)),
            rx.recharts.bar(data_key="revenue", name="Recipients (₹)",
                            fill=rx.color("grass", 9), is_animation_active=False,
                            max_bar_size=24),
            rx.recharts.bar(data_key="holdout_revenue", name="Holdout (₹)",
                            fill=rx.color("gray", 8), is_animation_active=False,
                            max_bar_size=24),
            rx.recharts.x_axis(data_key="label", font_size=11, tick_line=False,
                               min_tick_gap=20, stroke=rx.color("gray", 8)),
            # Compact rupees ("₹20K", "₹1.5L"): a full figure was clipped by the axis.
            rx.recharts.y_axis(font_size=11, width=MONEY_AXIS_WIDTH, tick_line=False,
                               axis_line=False, stroke=rx.color("gray", 8),
                               tick_formatter=MONEY_TICKS),
            rx.recharts.graphing_tooltip(cursor={"fill": rx.color("gray", 3)},
                                         custom_attrs={"formatter": MONEY_TOOLTIP}),
            rx.recharts.legend(icon_type="circle", icon_size=8,
                               wrapper_style={"fontSize": "12px"}),
            data=series, width="100%", height=200,
            margin={"top": 8, "right": 8, "left": 0, "bottom": 0}),
    )


def outcome_section(c: rx.Var, series: rx.Var, actions: rx.Component | None = None
                    ) -> rx.Component:
    return section(
        "What it earned",
        rx.grid(
            _figure("Attributed revenue", c["revenue"].to(str),
                    rx.text(c["rpm"].to(str), " per message"), "outcome-revenue"),
            _figure("Conversions", c["conversions"].to(str),
                    rx.text(c["converters"].to(str), " buyers · ", c["conv_rate"].to(str)),
                    "outcome-conversions"),
            _figure("Holdout", rx.cond(c["has_holdout"].to(bool), c["holdout_size"].to(str),
                                       "none"),
                    rx.cond(c["has_holdout"].to(bool),
                            rx.text(c["holdout_conversions"].to(str), " · ",
                                    c["holdout_rate"].to(str), " bought · ",
                                    c["holdout_revenue"].to(str)), ""),
                    "outcome-holdout"),
            columns=rx.breakpoints(initial="1", sm="3"), spacing="4", width="100%"),
        _uplift(c),
        rx.text("Revenue since the send", size="2", weight="medium"),
        _revenue_chart(series, c["nobody_note"].to(str)),
        subtitle="Orders placed within the channel's conversion window after a message "
                 "(last touch): when several campaigns reached a customer, the latest "
                 "one gets the order. The holdout was never messaged, so uplift is how much "
                 "more the messaged customers bought than the holdout did.",
        actions=actions,
        data_testid="campaign-outcome",
    )

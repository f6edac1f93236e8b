"""Dashboard: headline figures, revenue over time, top cities and the latest orders."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.chart_format import MONEY_AXIS_WIDTH, MONEY_TICKS
from mini_crm.components.layout import page_shell
from mini_crm.components.ui import (
    WIDE_ONLY,
    empty_state,
    loading_bar,
    responsive_table,
    section,
    stat_card,
    status_badge,
)
from mini_crm.state.dashboard import DashboardState as S

# Recharts' tooltip shows the raw rupee value by default; show the rupee figure and
# the order count the state already formatted instead.
_TOOLTIP_FORMATTER = rx.Var(
    "((value, name, item) => name === 'Attributed to campaigns'"
    " ? [item.payload.attributed, name]"
    " : [item.payload.revenue + ' · ' + item.payload.orders + ' orders', 'Revenue'])"
)


def _chart_tooltip() -> rx.Component:
    return rx.recharts.graphing_tooltip(
        content_style={"borderRadius": "8px", "border": f"1px solid {rx.color('gray', 5)}",
                       "fontSize": "13px"},
        cursor={"stroke": rx.color("accent", 7)},
        custom_attrs={"formatter": _TOOLTIP_FORMATTER},
    )


def _revenue_chart() -> rx.Component:
    return section(
        "Revenue",
        rx.recharts.area_chart(
            rx.el.svg.defs(
                rx.el.svg.linear_gradient(
                    rx.el.svg.stop(offset="5%", stop_color=rx.color("accent", 9),
                                   stop_opacity=0.35),
                    rx.el.svg.stop(offset="95%", stop_color=rx.color("accent", 9),
                                   stop_opacity=0.02),
                    id="revenueFill", x1=0, y1=0, x2=0, y2=1,
                ),
            ),
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False,
                                       stroke=rx.color("gray", 5)),
            rx.recharts.area(data_key="amount", stroke=rx.color("accent", 9), stroke_width=2,
                             fill="url(#revenueFill)", type_="monotone",
                             name="Revenue", is_animation_active=False,
                             active_dot={"r": 4}),
            # The running period, dashed: it is not over yet. Reflex's Area has no
            # stroke_dasharray prop (a keyword there became CSS and drew nothing dashed),
            # so the Recharts prop is passed as-is.
            rx.recharts.area(data_key="partial", stroke=rx.color("accent", 9), stroke_width=2,
                             fill="none", type_="monotone", name="So far",
                             is_animation_active=False, active_dot={"r": 4},
                             custom_attrs={"strokeDasharray": "5 4"}),
            # Weekly view only: the part campaigns earned (core/outcomes attribution).
            rx.recharts.area(data_key="attributed_amount", stroke=rx.color("grass", 9),
                             stroke_width=2, fill=rx.color("grass", 4), type_="monotone",
                             name="Attributed to campaigns", is_animation_active=False),
            rx.recharts.x_axis(data_key="label", font_size=12, tick_line=False,
                               min_tick_gap=16, stroke=rx.color("gray", 8)),
            # The campaign page's compact rupees ("₹20K", "₹1.5L"), not lakhs with a unit.
            rx.recharts.y_axis(font_size=12, width=MONEY_AXIS_WIDTH, tick_line=False,
                               axis_line=False, stroke=rx.color("gray", 8),
                               tick_formatter=MONEY_TICKS),
            _chart_tooltip(),
            data=S.chart,
            width="100%",
            height=300,
            margin={"top": 8, "right": 8, "left": 0, "bottom": 0},
        ),
        rx.text("K = thousand, L = lakh (₹1,00,000) · cancelled and refunded orders "
                "excluded · "
                "weeks (Monday to Sunday) and months on the ", S.timezone, " calendar",
                rx.cond(S.granularity == "week",
                        " · green: revenue attributed to campaigns (last touch within the "
                        "conversion window)", ""),
                size="1", color_scheme="gray"),
        rx.text(rx.cond(S.granularity == "week", "This week", "This month"),
                " is still in progress: its revenue so far is dashed.", size="1",
                color_scheme="gray", data_testid="partial-note"),
        subtitle=rx.cond(S.granularity == "week", "Last 26 weeks", "Last 24 months"),
        actions=rx.segmented_control.root(
            rx.segmented_control.item("Monthly", value="month"),
            rx.segmented_control.item("Weekly", value="week"),
            value=S.granularity,
            on_change=S.set_granularity,
            size="1",
            aria_label="Chart granularity",
        ),
        data_testid="revenue-chart",
    )


def _cities() -> rx.Component:
    return section(
        "Top cities",
        responsive_table(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("City"),
                rx.table.column_header_cell("Customers", justify="end"),
                rx.table.column_header_cell("Spend", justify="end"),
            )),
            rx.table.body(rx.foreach(S.cities, lambda c: rx.table.row(
                rx.table.cell(rx.hstack(rx.icon("map-pin", size=14, color=rx.color("gray", 9)),
                                        c["city"], align="center", spacing="2")),
                rx.table.cell(c["customers"], justify="end"),
                rx.table.cell(c["spend"], justify="end"),
            ))),
            width="100%",
            size="1",
            variant="ghost",
        ),
        subtitle="By lifetime spend",
    )




def _recent_orders() -> rx.Component:
    return section(
        "Latest orders",
        responsive_table(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Customer"),
                rx.table.column_header_cell("Order", display=WIDE_ONLY),
                rx.table.column_header_cell("Status"),
                rx.table.column_header_cell("When"),
                rx.table.column_header_cell("Amount", justify="end"),
            )),
            rx.table.body(rx.foreach(S.recent, lambda o: rx.table.row(
                rx.table.cell(rx.link(o["customer"], href=o["customer_href"],
                                      weight="medium")),
                rx.table.cell(rx.text(o["external_id"], color_scheme="gray"), display=WIDE_ONLY),
                rx.table.cell(status_badge(o["status"])),
                rx.table.cell(o["when"]),
                rx.table.cell(o["amount"], justify="end"),
            ))),
            width="100%",
            size="1",
            variant="ghost",
        ),
        actions=rx.link(rx.hstack(rx.text("All customers"), rx.icon("arrow-right", size=14),
                                  align="center", spacing="1"),
                        href="/customers", size="2"),
        overflow_x="auto",
    )


def _figures() -> rx.Component:
    return rx.grid(
        stat_card("Customers", S.customers, "users",
                  rx.text(S.active, " ordered in the last 90 days"),
                  test_id="stat-customers", loading=S.loading),
        stat_card("Orders", S.orders, "shopping-bag", "excluding cancelled and refunded",
                  test_id="stat-orders", loading=S.loading),
        stat_card("Revenue", S.revenue, "indian-rupee",
                  rx.text("Average order ", S.aov, data_testid="stat-aov"),
                  test_id="stat-revenue", loading=S.loading),
        stat_card("Campaigns launched", S.campaigns, "megaphone",
                  "all time; drafts and scheduled not counted",
                  test_id="stat-campaigns", loading=S.loading),
        columns=rx.breakpoints(initial="2", lg="4"),
        spacing="4",
        width="100%",
    )


def dashboard_page() -> rx.Component:
    return page_shell(
        "Dashboard",
        loading_bar(S.loading),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          width="100%")),
        rx.cond(
            S.empty & ~S.loading,
            rx.card(empty_state(
                "database", "No customers yet",
                "Push customers and orders through the REST API (see the API reference), "
                "import a CSV on the Data page, or run `mini-crm seed` for demo data.",
                rx.link(rx.button("Import data", rx.icon("arrow-right", size=14)),
                        href="/data"),
            ), width="100%"),
            rx.vstack(
                _figures(),
                rx.grid(
                    _revenue_chart(),
                    _cities(),
                    columns=rx.breakpoints(initial="1", lg="minmax(0, 5fr) minmax(0, 3fr)"),
                    spacing="4",
                    width="100%",
                ),
                _recent_orders(),
                spacing="4",
                width="100%",
            ),
        ),
        subtitle="How the business is doing, from your customer and order data.",
    )

"""The campaign wizard's schedule step: now or later, and the send-time advice
(a weekday x hour heatmap of the audience's orders and the best windows)."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.campaign_ui import engine_badge
from mini_crm.components.ui import section
from mini_crm.components.wizard_fields import field_error, field_label, step_title
from mini_crm.state.campaign_wizard import CampaignWizardState as W


def _heatmap() -> rx.Component:
    def cell(c: rx.Var) -> rx.Component:
        return rx.box(width="100%", height="14px", border_radius="3px",
                      background_color=rx.match(
                          c["level"], ("0", rx.color("gray", 3)), ("1", rx.color("accent", 4)),
                          ("2", rx.color("accent", 6)), ("3", rx.color("accent", 8)),
                          rx.color("accent", 10)),
                      title=c["hour"] + ":00 · " + c["count"])

    return rx.vstack(
        rx.text("When this audience has ordered (brand time)", size="1", color_scheme="gray"),
        rx.foreach(W.heat, lambda row: rx.hstack(
            rx.text(row["day"].to(str), size="1", width="32px", color_scheme="gray"),
            rx.grid(rx.foreach(row["cells"].to(list[dict[str, str]]), cell),
                    columns="24", gap="2px", width="100%"),
            width="100%", align="center", spacing="2")),
        rx.hstack(rx.text("", width="32px"), rx.text("00", size="1", color_scheme="gray"),
                  rx.spacer(), rx.text("12", size="1", color_scheme="gray"), rx.spacer(),
                  rx.text("23", size="1", color_scheme="gray"), width="100%"),
        spacing="1",
        width="100%",
    )


def _send_time_advice() -> rx.Component:
    return section(
            "Suggested send times",
            rx.cond(
                W.windows_loading,
                rx.hstack(rx.spinner(size="2"), rx.text("Reading order history…", size="2")),
                rx.vstack(
                    field_error(W.windows_error),
                    rx.grid(rx.foreach(W.windows, lambda w: rx.card(rx.vstack(
                        rx.hstack(rx.icon("clock", size=14), rx.text(w["label"], weight="bold"),
                                  rx.spacer(), rx.badge(w["score"], variant="soft"),
                                  align="center", width="100%"),
                        rx.text(w["reason"], size="1", color_scheme="gray"),
                        rx.text("Next: ", w["when"], size="1"),
                        rx.button("Schedule at this time", size="1", variant="soft",
                                  on_click=W.use_window(w["value"]),
                                  data_testid="use-window"),
                        spacing="2", width="100%"), size="1")),
                        columns=rx.breakpoints(initial="1", md="3"), spacing="3",
                        width="100%"),
                    rx.cond(W.heat.length() > 0, _heatmap()),
                    rx.cond(W.windows_note != "", rx.text(W.windows_note, size="1",
                                                          color_scheme="gray")),
                    spacing="4", width="100%"),
            ),
            actions=engine_badge(W.windows_engine),
            subtitle="From when this audience has ordered before",
        )


def schedule_step() -> rx.Component:
    return rx.vstack(
        step_title("When should it go out?",
                    rx.fragment("Times are in the brand's time zone, ", W.timezone, ".")),
        rx.radio_cards.root(
            rx.radio_cards.item(rx.hstack(rx.icon("send", size=18), rx.vstack(
                rx.text("Send now", weight="bold", size="2"),
                rx.text("Delivery starts as soon as you launch.", size="1",
                        color_scheme="gray"), spacing="0", align="start"), align="center",
                spacing="3"), value="now", data_testid="schedule-now"),
            rx.radio_cards.item(rx.hstack(rx.icon("calendar-clock", size=18), rx.vstack(
                rx.text("Schedule for later", weight="bold", size="2"),
                rx.text("It starts by itself at the chosen time.", size="1",
                        color_scheme="gray"), spacing="0", align="start"), align="center",
                spacing="3"), value="later", data_testid="schedule-later"),
            value=W.schedule_mode,
            on_value_change=W.set_schedule_mode,
            columns=rx.breakpoints(initial="1", sm="2"),
            gap="3",
            width="100%",
            aria_label="When to send",
        ),
        rx.cond(W.schedule_mode == "later", rx.vstack(
            field_label("Date and time", "campaign-schedule"),
            rx.hstack(
                rx.input(id="campaign-schedule", type="datetime-local",
                         value=W.schedule_local, on_change=W.set_schedule_local,
                         min=W.min_local, size="3", data_testid="schedule-input"),
                rx.badge(W.timezone, variant="soft", color_scheme="gray"),
                align="center", spacing="2"),
            field_error(W.schedule_error),
            spacing="2")),
        _send_time_advice(),
        spacing="4",
        width="100%",
    )

"""UI pieces for campaigns: delivery progress, funnel bars, wizard steps, tag chips.

States hand over numbers already formatted (Indian grouping) plus raw percentages;
these functions only lay them out.
"""

from __future__ import annotations

from typing import Any

import reflex as rx


def progress_bar(percent: rx.Var, active: rx.Var, test_id: str = "") -> rx.Component:
    """A slim bar that fills as a campaign's log rows leave `queued`; it pulses while
    the campaign is still sending so a slow start does not look frozen."""
    return rx.box(
        rx.box(
            height="100%",
            width=percent.to_string() + "%",
            background_color=rx.cond(active, rx.color("accent", 9), rx.color("grass", 9)),
            border_radius="999px",
            transition="width 0.6s ease",
            class_name=rx.cond(active, "mc-pulse", ""),
        ),
        rx.el.style("@keyframes mcpulse{0%{opacity:1}50%{opacity:.55}100%{opacity:1}}"
                    ".mc-pulse{animation:mcpulse 1.4s ease-in-out infinite}"),
        height="6px",
        width="100%",
        min_width="80px",
        background_color=rx.color("gray", 4),
        border_radius="999px",
        overflow="hidden",
        role="progressbar",
        aria_valuenow=percent,
        aria_valuemin=0,
        aria_valuemax=100,
        data_testid=test_id or None,
    )


def funnel_bar(label: str, value: rx.Var, percent: rx.Var, color: str, hint: Any = "",
               test_id: str = "") -> rx.Component:
    """One stage of the delivery funnel: label, count, and a bar as wide as its share."""
    return rx.vstack(
        rx.hstack(
            rx.text(label, size="2", weight="medium"),
            rx.spacer(),
            rx.text(value, size="3", weight="bold", data_testid=test_id or None),
            rx.text(percent.to_string() + "%", size="1", color_scheme="gray", min_width="44px",
                    text_align="right"),
            align="baseline",
            width="100%",
            spacing="2",
        ),
        rx.box(
            rx.box(height="100%", width=percent.to_string() + "%",
                   background_color=rx.color(color, 9), border_radius="6px",
                   transition="width 0.6s ease", min_width="2px"),
            height="12px",
            width="100%",
            background_color=rx.color(color, 3),
            border_radius="6px",
            overflow="hidden",
        ),
        *([rx.text(hint, size="1", color_scheme="gray")] if hint != "" else []),
        spacing="1",
        width="100%",
    )


# Below this width the step bar shows each step's number icon and only the current step's
# name: the four names with their icons need about 580 px, and wrapped onto two
# lines at 390 px (issue 14).
_STEP_NAMES_MIN_WIDTH = "720px"


def step_indicator(steps: list[tuple[str, str]], current: rx.Var, reached: rx.Var,
                   on_select: Any) -> rx.Component:
    """Numbered steps across the top of a wizard, on one line at any width; done and
    current steps are buttons (keyboard reachable) that jump back to them, later steps are
    inert. On a narrow screen only the current step shows its name; every button keeps
    it as its accessible name."""
    items: list[rx.Component] = []
    for index, (title, icon) in enumerate(steps):
        done = current > index
        here = current == index
        items.append(rx.button(
            rx.center(
                rx.cond(done, rx.icon("check", size=14), rx.icon(icon, size=14)),
                width="26px", height="26px", border_radius="50%", flex_shrink="0",
                # Explicit indigo: inside a gray button "accent" would resolve to gray.
                background_color=rx.cond(here | done, rx.color("indigo", 9),
                                         rx.color("gray", 4)),
                color=rx.cond(here | done, "white", rx.color("gray", 10)),
            ),
            rx.text(f"{index + 1}. {title}", size="2", white_space="nowrap",
                    weight=rx.cond(here, "bold", "medium"), class_name="step-name"),
            variant="ghost",
            color_scheme=rx.cond(here, "indigo", "gray"),
            high_contrast=here,
            on_click=on_select(index),
            disabled=reached < index,
            aria_current=rx.cond(here, "step", "false"),
            aria_label=f"{index + 1}. {title}",
            data_testid=f"wizard-step-{index}",
            size="2",
            padding_x=rx.breakpoints(initial="4px", sm="8px"),
            flex_shrink="0",
        ))
        if index < len(steps) - 1:
            items.append(rx.box(height="2px", flex="1", min_width="8px",
                                background_color=rx.cond(done, rx.color("indigo", 8),
                                                         rx.color("gray", 5)),
                                border_radius="2px"))
    return rx.hstack(
        *items, align="center", width="100%", spacing=rx.breakpoints(initial="1", sm="2"),
        wrap="nowrap", role="list", aria_label="Campaign steps", data_testid="step-bar",
        style={f"@media (max-width: {_STEP_NAMES_MIN_WIDTH})": {
            "& [aria-current='false'] .step-name": {"display": "none"}}})


def tag_chips(tags: rx.Var, on_remove: Any = None) -> rx.Component:
    """Tags as soft badges; with `on_remove` each gets an × button."""
    def chip(tag: rx.Var) -> rx.Component:
        if on_remove is None:
            return rx.badge(tag, variant="surface", color_scheme="gray", radius="full",
                            size="1", data_testid="tag-chip")
        return rx.badge(tag, rx.icon_button(rx.icon("x", size=10), size="1", variant="ghost",
                                            color_scheme="gray", on_click=on_remove(tag),
                                            aria_label="Remove tag", height="14px",
                                            width="14px"),
                        variant="surface", radius="full", size="2", data_testid="tag-chip")
    return rx.hstack(rx.foreach(tags, chip), spacing="1", wrap="wrap")


def channel_icon(channel: rx.Var, size: int = 14) -> rx.Component:
    return rx.match(
        channel,
        ("email", rx.icon("mail", size=size)),
        ("whatsapp", rx.icon("message-circle", size=size)),
        rx.icon("smartphone", size=size),
    )


def engine_badge(engine: rx.Var) -> rx.Component:
    """Which AI engine answered: the product promises this is always visible."""
    return rx.cond(
        engine != "",
        rx.badge(rx.icon("sparkles", size=11),
                 rx.cond(engine == "llm", "LLM", "Offline engine"),
                 color_scheme=rx.cond(engine == "llm", "violet", "gray"), variant="soft",
                 size="1", radius="full"),
    )


def kv_row(label: Any, value: Any) -> rx.Component:
    """A label on the left, its value on the right, with a faint rule underneath."""
    return rx.hstack(
        # A narrower label column on a phone: the value (the review's holdout picker and
        # its notes) had a third of the width and wrapped every two words.
        rx.text(label, size="2", color_scheme="gray",
                min_width=rx.breakpoints(initial="80px", sm="120px")),
        # The value takes the rest of the row (right-aligned), not its own shrunk width.
        rx.box(value, text_align="right", font_size="14px", font_weight="500", flex="1",
               min_width="0"),
        width="100%",
        align="start",
        spacing="4",
        padding_y="8px",
        border_bottom=f"1px solid {rx.color('gray', 3)}",
    )

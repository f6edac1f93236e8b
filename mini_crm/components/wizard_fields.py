"""Pieces every step of the campaign wizard uses: an inline field error, a label
with an optional hint, and the step's focusable title."""

from __future__ import annotations

import reflex as rx


def field_error(text: rx.Var) -> rx.Component:
    return rx.cond(text != "", rx.text(rx.icon("circle-alert", size=12), " ", text, size="1",
                                       color_scheme="red", role="alert"))


def field_label(text: str, html_for: str = "", hint: str = "") -> rx.Component:
    return rx.hstack(
        rx.el.label(text, html_for=html_for or None, font_size="14px", font_weight="500"),
        *([rx.text(hint, size="1", color_scheme="gray")] if hint else []),
        align="baseline",
        spacing="2",
    )


def step_title(title: str, subtitle: str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="5", weight="bold", id="wizard-step-title", tab_index=-1,
                   outline="none"),
        rx.text(subtitle, size="2", color_scheme="gray"),
        spacing="1",
    )

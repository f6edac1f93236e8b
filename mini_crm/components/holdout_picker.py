"""The wizard's holdout row: pick a share to keep back, see the suggested size and the
smallest uplift the choice can detect (state/campaign_holdout.py)."""

from __future__ import annotations

import reflex as rx

from mini_crm.state.campaign_holdout import CHOICES, HoldoutState


def holdout_picker() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            # The share and its unit never part: on a phone "0 ▾" sat alone on a line
            # and "% held out (never / messaged)" wrapped under it (issue 14).
            rx.hstack(
                # root/trigger spelled out: the one-line rx.select puts aria-label and the
                # test id on the root, which renders no element, so neither reached the page.
                rx.select.root(
                    rx.select.trigger(aria_label="Holdout percent",
                                      data_testid="holdout-percent"),
                    rx.select.content(*(rx.select.item(c, value=c) for c in CHOICES)),
                    value=HoldoutState.percent, on_change=HoldoutState.set_percent,
                    size="2"),
                rx.text("% held out", size="2", white_space="nowrap",
                        data_testid="holdout-unit"),
                align="center", spacing="2", flex_shrink="0"),
            rx.text("(never messaged)", size="2", white_space="nowrap"),
            rx.cond(HoldoutState.loading, rx.spinner(size="1")),
            rx.cond((HoldoutState.suggested != "0")
                    & (HoldoutState.suggested != HoldoutState.percent),
                    rx.button("Use suggested " + HoldoutState.suggested + "%", size="1",
                              variant="soft", on_click=HoldoutState.use_suggestion,
                              data_testid="holdout-suggest")),
            # spacing 1: "% held out (never messaged)" reads as one phrase on a wide screen
            align="center", spacing="1", wrap="wrap", justify="end"),
        rx.cond(HoldoutState.nobody_text != "",
                rx.text(HoldoutState.nobody_text, size="2", color_scheme="red",
                        weight="medium", text_align="end", max_width="420px",
                        role="alert", data_testid="holdout-nobody")),
        # Plain words first (what the chosen share can show, then what is suggested and
        # why it matters to the marketer); the statistics behind both come after, quieter.
        rx.text(HoldoutState.mde_text, size="1", text_align="end",
                max_width="420px", data_testid="holdout-mde"),
        rx.cond(HoldoutState.reason != "",
                rx.text(HoldoutState.reason, size="1", text_align="end",
                        max_width="420px", data_testid="holdout-reason")),
        rx.cond(HoldoutState.mde_stats_text != "",
                rx.text(HoldoutState.mde_stats_text, size="1", color_scheme="gray",
                        text_align="end", max_width="420px", data_testid="holdout-mde-stats")),
        rx.cond(HoldoutState.reason_stats != "",
                rx.text(HoldoutState.reason_stats, size="1", color_scheme="gray",
                        text_align="end", max_width="420px",
                        data_testid="holdout-reason-stats")),
        spacing="1", align="end")

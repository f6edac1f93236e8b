"""The campaign wizard's review step: audience and reach, message (and variants),
schedule, holdout, and the launch button."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.campaign_ui import kv_row, tag_chips
from mini_crm.components.holdout_picker import holdout_picker
from mini_crm.components.variant_editor import (
    variants_summary,
)
from mini_crm.components.wizard_fields import step_title
from mini_crm.pages.wizard_message import message_preview
from mini_crm.state.campaign_holdout import HoldoutState
from mini_crm.state.campaign_wizard import CampaignWizardState as W
from mini_crm.state.segments import SegmentEditorState as E
from mini_crm.state.wizard_variants import VariantsState as V


def launch_button() -> rx.Component:
    button = rx.button(
        rx.cond(W.launching, rx.spinner(size="2"),
                rx.icon(rx.cond(W.schedule_mode == "later", "calendar-check", "rocket"),
                        size=16)),
        W.launch_label,
        size="3",
        on_click=W.launch,
        disabled=W.launching | ~W.can_launch | (W.eligible_size == 0),
        data_testid="launch-campaign",
    )
    return rx.cond(W.can_launch, button,
                   rx.tooltip(rx.box(button, tab_index=0),
                              content="Viewers cannot launch campaigns. Ask an admin for the "
                                      "marketer role."))


def _message_box(text: rx.Var) -> rx.Component:
    return rx.box(rx.text(text, size="2", white_space="pre-wrap",
                          font_family="ui-monospace, SFMono-Regular, Menlo, monospace"),
                  padding="10px", border_radius="8px", width="100%",
                  background_color=rx.color("gray", 2))


def _review_variant(v: rx.Var) -> rx.Component:
    """Variant B-D on the review: its message, and its subject when it has its own."""
    return rx.vstack(
        rx.text("Variant ", v["key"], weight="bold", size="2"),
        rx.cond(v["subject"] != "", rx.text("Subject: ", v["subject"], size="2")),
        _message_box(v["message"]),
        spacing="1", width="100%", data_testid="review-variant")


def review_step() -> rx.Component:
    audience = rx.cond(
        W.audience_mode == "segment",
        rx.vstack(rx.text(W.selected_segment["name"].to(str), weight="bold"),
                  rx.text(W.selected_segment["sentence"].to(str), size="1",
                          color_scheme="gray"), spacing="0", align="end"),
        rx.vstack(rx.text(rx.cond(W.save_segment, "New segment “" + W.segment_name + "”",
                                  "New rules (not saved as a segment)"), weight="bold"),
                  rx.text(E.sentence, size="1", color_scheme="gray"), spacing="0",
                  align="end"),
    )
    reach = rx.vstack(
        rx.hstack(rx.cond(W.reach_loading, rx.spinner(size="1")),
                  rx.text(rx.cond(HoldoutState.receive_text != "", HoldoutState.receive_text,
                                  rx.cond(W.eligible_text != "", W.eligible_text,
                                          W.audience_text)),
                          size="5", weight="bold", data_testid="review-size"),
                  rx.text("will receive", size="2"), align="baseline", spacing="2"),
        rx.cond(W.reach_summary != "",
                rx.text(W.reach_summary, size="1", color_scheme="gray", text_align="end",
                        max_width="360px", data_testid="review-breakdown"),
                rx.text("matching now; the unsubscribed, suppressed, unreachable, duplicate "
                        "addresses and those at the frequency cap are left out at launch",
                        size="1", color_scheme="gray", max_width="320px")),
        spacing="0", align="end")
    return rx.grid(
        rx.vstack(
            step_title("Review and launch", "Check everything once more; launching sends "
                                             "real messages."),
            rx.card(rx.vstack(
                kv_row("Audience", audience),
                kv_row("Recipients", reach),
                kv_row("Holdout", holdout_picker()),
                kv_row("A/B test", variants_summary()),
                kv_row("Name", rx.text(W.name, data_testid="review-name")),
                kv_row("Channel", rx.text(rx.match(W.channel, ("email", "Email"),
                                                    ("whatsapp", "WhatsApp"),
                                                    W.channel.upper()))),
                kv_row("Schedule", rx.text(W.schedule_text, data_testid="review-schedule")),
                rx.cond(W.tags.length() > 0, kv_row("Tags", tag_chips(W.tags))),
                rx.cond(W.objective != "", kv_row("Objective", W.objective)),
                spacing="0", width="100%"), width="100%"),
            # Said before the button: an empty subject is allowed, but the marketer
            # should see which line will stand in for it.
            rx.cond(W.subject_review["warning"] != "", rx.callout(
                W.subject_review["warning"], icon="triangle-alert", color_scheme="amber",
                size="1", width="100%", data_testid="review-subject-warning")),
            rx.cond(W.eligible_size == 0, rx.callout(
                "Nobody would receive this campaign: every matching customer is skipped ("
                + W.skipped_summary + "). Widen the audience or pick another channel.",
                icon="triangle-alert", color_scheme="amber", size="1", width="100%",
                data_testid="nobody-to-send")),
            # Said, never refused: a duplicate launched again reaches the same people.
            rx.cond(W.recent_warning != "", rx.callout(
                W.recent_warning, icon="repeat", color_scheme="amber", size="1",
                width="100%", data_testid="review-recently-messaged")),
            rx.cond(V.test_warning != "", rx.callout(
                V.test_warning, icon="triangle-alert", color_scheme="amber", size="1",
                width="100%", data_testid="ab-test-too-small")),
            rx.cond(~W.can_launch, rx.callout(
                "You can prepare a campaign, but only marketers and admins can launch it.",
                icon="lock", color_scheme="gray", size="1", width="100%")),
            # Warnings sit above the button: read before launching, not after.
            rx.hstack(launch_button(),
                      rx.text(rx.cond(W.schedule_mode == "later",
                                      "The campaign is saved now and starts by itself at the "
                                      "scheduled time.",
                                      "Launching creates the campaign and starts delivery."),
                              size="1", color_scheme="gray"),
                      align="center", spacing="3", wrap="wrap"),
            spacing="4",
            width="100%",
        ),
        rx.vstack(
            rx.card(rx.vstack(
                rx.text(rx.cond(V.enabled, "Message (variant A)", "Message"), weight="bold",
                        size="2"),
                rx.cond(W.subject_review["text"] != "",
                        rx.text("Subject (for ", W.subject_review["who"], "): ",
                                W.subject_review["text"], size="2",
                                data_testid="review-subject")),
                _message_box(W.template),
                rx.foreach(V.review_rows, _review_variant),
                spacing="2", width="100%"), width="100%"),
            message_preview(),
            spacing="4",
            width="100%",
        ),
        columns=rx.breakpoints(initial="1", lg="3fr 2fr"),
        spacing="5",
        width="100%",
        align_items="start",
    )

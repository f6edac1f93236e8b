"""The campaign wizard's audience step: a saved segment (cards with their size and
sentence) or new rules in the segment builder, with the live size and an option to
save the rules as a segment."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.rule_builder import rule_builder
from mini_crm.components.text_field import text_field
from mini_crm.components.wizard_fields import field_error, step_title
from mini_crm.core.segments import service as segment_limits
from mini_crm.state.campaign_wizard import CampaignWizardState as W
from mini_crm.state.segments import SegmentEditorState as E


def _segment_card(s: rx.Var) -> rx.Component:
    return rx.radio_cards.item(
        rx.vstack(
            rx.hstack(rx.text(s["name"], weight="bold", size="2"), rx.spacer(),
                      rx.badge(rx.icon("users", size=11), s["size"], variant="soft",
                               radius="full"), width="100%", align="center"),
            rx.text(s["sentence"], size="1", color_scheme="gray", text_align="left",
                    line_clamp=2),
            spacing="1",
            width="100%",
            align="start",
        ),
        value=s["id"],
        data_testid="segment-choice",
        width="100%",
    )


def _saved_segments() -> rx.Component:
    return rx.cond(
        W.segments_loading,
        rx.center(rx.spinner(size="3"), padding="40px", width="100%"),
        rx.cond(
            W.segments.length() == 0,
            rx.callout("No saved segments yet: build new rules instead.", icon="info",
                       size="1"),
            rx.radio_cards.root(
                rx.foreach(W.segments, _segment_card),
                value=W.segment_id,
                on_value_change=W.choose_segment,
                columns=rx.breakpoints(initial="1", md="2"),
                gap="3",
                width="100%",
                aria_label="Saved segments",
            ),
        ),
    )


def _rules_preview() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text("Audience size", size="2", color_scheme="gray"), rx.spacer(),
                      rx.cond(E.previewing, rx.spinner(size="1")), width="100%"),
            rx.cond(E.blank,
                    rx.heading(E.size_text, size="5", color_scheme="gray",
                               data_testid="wizard-rules-size"),
                    rx.heading(E.size_text, size="8", data_testid="wizard-rules-size")),
            rx.cond(E.error != "",
                    rx.callout(E.error, icon="circle-alert", color_scheme="red", size="1"),
                    rx.text(E.preview_sentence, size="2")),
            rx.separator(),
            rx.text("Sample", size="2", weight="medium"),
            rx.vstack(rx.foreach(E.preview_sample[:5], lambda c: rx.hstack(
                rx.text(c["name"], size="2"), rx.spacer(),
                rx.text(c["city"], size="1", color_scheme="gray"),
                rx.text(c["spend"], size="2", weight="medium"), width="100%", spacing="2")),
                width="100%", spacing="2"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def audience_step() -> rx.Component:
    return rx.vstack(
        step_title("Who should get it?", "Pick a saved segment, or build the audience here."),
        rx.segmented_control.root(
            rx.segmented_control.item(rx.hstack(rx.icon("bookmark", size=14), "Saved segment",
                                                align="center", spacing="2"),
                                      value="segment"),
            rx.segmented_control.item(rx.hstack(rx.icon("filter", size=14), "New rules",
                                                align="center", spacing="2"),
                                      value="rules"),
            value=W.audience_mode,
            on_change=W.set_audience_mode,
            aria_label="Audience source",
            data_testid="audience-mode",
            width="100%", max_width="360px",
        ),
        rx.cond(
            W.audience_mode == "segment",
            _saved_segments(),
            rx.grid(
                rx.vstack(
                    rx.card(rule_builder(), width="100%"),
                    rx.card(rx.vstack(
                        rx.checkbox("Save this audience as a segment when I launch",
                                    checked=W.save_segment, on_change=W.set_save_segment,
                                    data_testid="save-as-segment", size="2"),
                        rx.cond(W.save_segment, text_field(
                            W.segment_name, W.set_segment_name, rev=W.form_rev,
                            placeholder="Segment name", aria_label="New segment name",
                            max_length=segment_limits.MAX_NAME,
                            width="100%", data_testid="new-segment-name")),
                        spacing="3", width="100%"), width="100%"),
                    spacing="3",
                    width="100%",
                ),
                _rules_preview(),
                columns=rx.breakpoints(initial="1", lg="2fr 1fr"),
                spacing="4",
                width="100%",
                align_items="start",
            ),
        ),
        field_error(W.audience_error),
        spacing="4",
        width="100%",
    )

"""New campaign: a four-step wizard (audience, message, schedule, review) that launches."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.campaign_ui import engine_badge, kv_row, step_indicator, tag_chips
from mini_crm.components.holdout_picker import holdout_picker
from mini_crm.components.layout import page_shell
from mini_crm.components.rule_builder import rule_builder
from mini_crm.components.text_field import text_field
from mini_crm.components.ui import section
from mini_crm.components.variant_editor import (
    use_as_variant_button,
    variant_editor,
    variants_summary,
)
from mini_crm.components.wizard_url import wizard_url
from mini_crm.core.campaigns import service as campaign_limits
from mini_crm.core.segments import service as segment_limits
from mini_crm.state.campaign_holdout import HoldoutState
from mini_crm.state.campaign_wizard import CHANNELS, STEPS, TONES
from mini_crm.state.campaign_wizard import CampaignWizardState as W
from mini_crm.state.segments import SegmentEditorState as E
from mini_crm.state.wizard_variants import VariantsState as V


def _error(text: rx.Var) -> rx.Component:
    return rx.cond(text != "", rx.text(rx.icon("circle-alert", size=12), " ", text, size="1",
                                       color_scheme="red", role="alert"))


def _label(text: str, html_for: str = "", hint: str = "") -> rx.Component:
    return rx.hstack(
        rx.el.label(text, html_for=html_for or None, font_size="14px", font_weight="500"),
        *([rx.text(hint, size="1", color_scheme="gray")] if hint else []),
        align="baseline",
        spacing="2",
    )


def _step_title(title: str, subtitle: str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="5", weight="bold", id="wizard-step-title", tab_index=-1,
                   outline="none"),
        rx.text(subtitle, size="2", color_scheme="gray"),
        spacing="1",
    )


# ---- step 1: audience ----------------------------------------------------------------

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
            rx.heading(E.size_text, size="8", data_testid="wizard-rules-size"),
            rx.cond(E.error != "",
                    rx.callout(E.error, icon="circle-alert", color_scheme="red", size="1"),
                    rx.text(E.sentence, size="2")),
            rx.separator(),
            rx.text("Sample", size="2", weight="medium"),
            rx.vstack(rx.foreach(E.sample[:5], lambda c: rx.hstack(
                rx.text(c["name"], size="2"), rx.spacer(),
                rx.text(c["city"], size="1", color_scheme="gray"),
                rx.text(c["spend"], size="2", weight="medium"), width="100%", spacing="2")),
                width="100%", spacing="2"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _audience_step() -> rx.Component:
    return rx.vstack(
        _step_title("Who should get it?", "Pick a saved segment, or build the audience here."),
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
        _error(W.audience_error),
        spacing="4",
        width="100%",
    )


# ---- step 2: message -----------------------------------------------------------------

def _channel_picker() -> rx.Component:
    return rx.radio_cards.root(
        *(rx.radio_cards.item(rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"),
                                        align="center", spacing="2"),
                              value=value, data_testid=f"channel-{value}")
          for value, label, icon in CHANNELS),
        value=W.channel,
        on_value_change=W.set_channel,
        # One per row on a phone: three side by side overflow a 390px card.
        columns=rx.breakpoints(initial="1", xs="3"),
        gap="2",
        size="1",
        aria_label="Channel",
        width="100%",
    )


def _token_chips() -> rx.Component:
    return rx.hstack(
        rx.text("Insert:", size="1", color_scheme="gray"),
        rx.foreach(W.tokens, lambda t: rx.tooltip(
            rx.button(t["token"], size="1", variant="soft", radius="full",
                      on_click=W.insert_token(t["token"]), data_testid="token-chip",
                      font_family="ui-monospace, SFMono-Regular, Menlo, monospace"),
            content=t["hint"])),
        spacing="1",
        wrap="wrap",
        align="center",
    )


def _ai_messages() -> rx.Component:
    return rx.card(rx.vstack(
            rx.hstack(rx.icon("sparkles", size=16, color=rx.color("violet", 9)),
                      rx.text("Suggest messages", weight="bold", size="2"),
                      rx.spacer(), engine_badge(W.suggest_engine), align="center",
                      width="100%"),
            rx.hstack(
                rx.select.root(
                    rx.select.trigger(aria_label="Tone"),
                    rx.select.content(*(rx.select.item(t.capitalize(), value=t) for t in TONES)),
                    value=W.tone, on_change=W.set_tone, size="2"),
                rx.button(rx.cond(W.suggesting, rx.spinner(size="1"),
                                  rx.icon("wand-sparkles", size=14)),
                          "Suggest", on_click=W.suggest_messages, disabled=W.suggesting,
                          variant="soft", color_scheme="violet", data_testid="suggest-messages"),
                spacing="2", align="center"),
            _error(W.suggest_error),
            rx.cond(W.suggest_note != "", rx.text(W.suggest_note, size="1",
                                                  color_scheme="gray")),
            rx.foreach(W.suggestions, lambda v: rx.box(
                rx.vstack(
                    rx.text(v["text"], size="2", data_testid="suggestion-text"),
                    rx.hstack(rx.cond(v["intent"] != "", rx.badge(v["intent"], size="1",
                                                                   color_scheme="violet",
                                                                   variant="outline")),
                              rx.text(v["rationale"], size="1", color_scheme="gray",
                                      flex="1 1 220px"),
                              rx.hstack(use_as_variant_button(v["text"]),
                                        rx.button("Use this", size="1", variant="outline",
                                                  on_click=W.use_suggestion(v["text"]),
                                                  data_testid="use-suggestion"),
                                        spacing="2", margin_left="auto"),
                              align="center", width="100%", spacing="2", wrap="wrap"),
                    spacing="2", width="100%"),
                padding="10px", border_radius="8px", width="100%",
                border=f"1px solid {rx.color('violet', 5)}",
                background_color=rx.color("violet", 2))),
            spacing="3", width="100%"), width="100%",
            background_color=rx.color("violet", 1))


def _tags_field() -> rx.Component:
    return rx.vstack(
        _label("Tags", "campaign-tag-input", "to find and compare campaigns later"),
        rx.hstack(
            tag_chips(W.tags, on_remove=W.remove_tag),
            text_field(W.tag_input, W.set_tag_input, rev=W.form_rev, id="campaign-tag-input",
                     on_key_down=W.tag_key, placeholder="Add a tag and press Enter",
                     max_length=campaign_limits.MAX_TAG,
                     size="2", min_width="200px", flex="1", aria_label="Add a tag"),
            spacing="2", wrap="wrap", align="center", width="100%"),
        _error(W.tag_error),
        rx.hstack(
                rx.button(rx.cond(W.tagging, rx.spinner(size="1"),
                                  rx.icon("sparkles", size=12)),
                          "Suggest tags", size="1", variant="ghost", color_scheme="violet",
                          on_click=W.suggest_tags, disabled=W.tagging,
                          data_testid="suggest-tags"),
                rx.foreach(W.suggested_tags, lambda t: rx.button(
                    rx.icon("plus", size=11), t, size="1", variant="outline",
                    color_scheme="violet", radius="full", on_click=W.add_tag(t),
                    data_testid="suggested-tag")),
                engine_badge(W.tags_engine),
                spacing="2", wrap="wrap", align="center"),
        spacing="2",
        width="100%",
    )


def _sample_bubble(s: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.avatar(fallback=s["name"].to(str)[:1], size="1", radius="full"),
                  rx.text(s["name"], size="1", weight="medium"),
                  rx.text(s["city"], size="1", color_scheme="gray"), spacing="2",
                  align="center"),
        rx.box(
            rx.text(s["text"], size="2", white_space="pre-wrap", word_break="break-word"),
            padding="10px 12px",
            border_radius="4px 14px 14px 14px",
            background_color=rx.match(W.channel, ("whatsapp", rx.color("grass", 3)),
                                      ("email", rx.color("gray", 2)), rx.color("accent", 3)),
            border=f"1px solid {rx.color('gray', 4)}",
            width="100%",
        ),
        rx.text(s["chars"], " characters", rx.cond(W.channel == "sms", s["sms"], ""),
                size="1", color_scheme="gray", align_self="end", data_testid="sample-length"),
        spacing="1",
        width="100%",
        data_testid="message-preview",
    )


def _message_preview() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text("Live preview", weight="bold", size="2"), rx.spacer(),
                      rx.cond(W.samples_loading, rx.spinner(size="1")), width="100%"),
            rx.text("As three customers of this audience will read it.", size="1",
                    color_scheme="gray"),
            rx.cond(
                W.template.strip() == "",
                rx.text("Start typing the message to see it here.", size="2",
                        color_scheme="gray", padding_y="16px"),
                rx.vstack(rx.foreach(W.samples, _sample_bubble), spacing="4", width="100%"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _email_fields() -> rx.Component:
    """Subject line, preheader (both take tokens) and sender name: email only."""
    return rx.vstack(
        _label("Subject line", "email-subject", "tokens work here too"),
        text_field(W.email_subject, W.set_email_subject, rev=W.form_rev, id="email-subject",
                 placeholder="{first_name|Hi there}, your 10% off is inside", size="3",
                 width="100%", data_testid="email-subject",
                 max_length=campaign_limits.MAX_SUBJECT),
        _label("Preheader", "email-preheader", "the preview text after the subject"),
        text_field(W.email_preheader, W.set_email_preheader, rev=W.form_rev,
                   id="email-preheader", size="2", width="100%",
                 placeholder="Only this weekend, in {city|your city}",
                 data_testid="email-preheader", max_length=campaign_limits.MAX_SUBJECT),
        _label("Sender name", "sender-name", "shown beside the From address"),
        text_field(W.sender_name, W.set_sender_name, rev=W.form_rev, id="sender-name",
                 placeholder="e.g. Asha from Brand", size="2", width="100%",
                 data_testid="sender-name", max_length=campaign_limits.MAX_SENDER_NAME),
        _error(W.email_error),
        spacing="2", width="100%",
    )


def _test_and_preview() -> rx.Component:
    """Preview as any customer; send a labelled test to myself or the test list."""
    return rx.card(rx.vstack(
        rx.text("Test before you launch", weight="bold", size="2"),
        rx.hstack(
            text_field(W.preview_ref, W.set_preview_ref, rev=W.form_rev, size="2",
                     placeholder="Customer id or email (optional)", flex="1",
                     aria_label="Preview as customer", data_testid="preview-as-input"),
            rx.button("Preview", variant="soft", size="2", on_click=W.preview_customer,
                      data_testid="preview-as"),
            width="100%", spacing="2"),
        rx.cond(W.preview_as.contains("text"), rx.cond(
            W.preview_as["error"] != "",
            rx.text(W.preview_as["error"], color_scheme="red", size="1", role="alert"),
            rx.box(
                rx.text("As ", W.preview_as["who"], size="1", color_scheme="gray"),
                rx.cond(W.preview_as["subject"] != "",
                        rx.text(W.preview_as["subject"], weight="bold", size="2",
                                data_testid="preview-as-subject")),
                rx.text(W.preview_as["text"], size="2", white_space="pre-wrap",
                        data_testid="preview-as-text"),
                padding="8px 12px", border_radius="8px", width="100%",
                background_color=rx.color("gray", 2)))),
        rx.hstack(
            text_field(W.test_to, W.set_test_to, rev=W.form_rev, size="2", flex="1",
                     placeholder=rx.cond(W.channel == "email", "Your email (default)",
                                         "A phone number on the test list"),
                     aria_label="Send the test to", data_testid="test-to"),
            rx.button(rx.cond(W.sending_test, rx.spinner(size="1"), rx.icon("send", size=14)),
                      "Send test", size="2", on_click=W.send_test, disabled=~W.can_launch,
                      data_testid="send-test"),
            width="100%", spacing="2"),
        rx.cond(W.test_ok != "", rx.text(W.test_ok, color_scheme="green", size="1",
                                         data_testid="test-ok")),
        rx.cond(W.test_error != "", rx.text(W.test_error, color_scheme="red", size="1",
                                            role="alert", data_testid="test-error")),
        spacing="2", width="100%"), width="100%")


def _message_step() -> rx.Component:
    return rx.grid(
        rx.vstack(
            _step_title("What do you want to say?",
                        "Personalise with tokens; every message is rendered per customer."),
            rx.vstack(
                _label("Campaign name", "campaign-name"),
                text_field(W.name, W.set_name, rev=W.form_rev, id="campaign-name",
                         on_key_down=W.name_key, placeholder="e.g. Diwali win-back, Mumbai",
                         size="3", width="100%", data_testid="campaign-name-input",
                         max_length=campaign_limits.MAX_NAME,
                         aria_invalid=W.name_error != ""),
                _error(W.name_error),
                spacing="2", width="100%"),
            rx.vstack(_label("Channel"), _channel_picker(), spacing="2", width="100%"),
            rx.cond(W.channel == "email", _email_fields()),
            rx.vstack(
                _label("Objective", "campaign-objective", "optional, used for suggestions"),
                text_field(W.objective, W.set_objective, rev=W.form_rev,
                           id="campaign-objective",
                         placeholder="e.g. Bring back customers who have not ordered in 6 "
                                     "months", size="2", width="100%",
                         max_length=campaign_limits.MAX_OBJECTIVE),
                spacing="2", width="100%"),
            _ai_messages(),
            rx.vstack(
                rx.hstack(_label("Message", "campaign-template"), rx.spacer(),
                          rx.text(W.chars, " / 2000",
                                  rx.cond(W.channel == "sms",
                                          " · an SMS holds 160, or 70 with ₹ or other Unicode",
                                          ""),
                                  size="1", color_scheme="gray"),
                          width="100%"),
                _token_chips(),
                text_field(W.template, W.set_template, rev=W.form_rev, multiline=True,
                           id="campaign-template", rows="6", size="3", width="100%",
                             placeholder="Hi {first_name}, we miss you in {city}! Here is 10% "
                                         "off your next order.",
                             aria_invalid=(W.template_error != "")
                             | (W.template_problems.length() > 0),
                             data_testid="campaign-template",
                             font_family="ui-monospace, SFMono-Regular, Menlo, monospace"),
                rx.foreach(W.template_problems, lambda p: rx.text(
                    rx.icon("circle-alert", size=12), " ", p, size="1", color_scheme="red",
                    role="alert", data_testid="template-problem")),
                rx.cond(W.template_problems.length() == 0, _error(W.template_error)),
                spacing="2", width="100%"),
            variant_editor(),
            _tags_field(),
            spacing="5",
            width="100%",
        ),
        # The preview and the test card stick together as one column (never one card over
        # the other); a column taller than the window scrolls inside itself.
        rx.vstack(_message_preview(), _test_and_preview(), spacing="4", width="100%",
                  position=rx.breakpoints(initial="static", lg="sticky"), top="80px",
                  max_height=rx.breakpoints(initial="none", lg="calc(100vh - 96px)"),
                  overflow_y=rx.breakpoints(initial="visible", lg="auto"),
                  data_testid="message-side-column"),
        columns=rx.breakpoints(initial="1", lg="3fr 2fr"),
        spacing="5",
        width="100%",
        align_items="start",
    )


# ---- step 3: schedule ----------------------------------------------------------------

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
                    _error(W.windows_error),
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


def _schedule_step() -> rx.Component:
    return rx.vstack(
        _step_title("When should it go out?",
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
            _label("Date and time", "campaign-schedule"),
            rx.hstack(
                rx.input(id="campaign-schedule", type="datetime-local",
                         value=W.schedule_local, on_change=W.set_schedule_local,
                         min=W.min_local, size="3", data_testid="schedule-input"),
                rx.badge(W.timezone, variant="soft", color_scheme="gray"),
                align="center", spacing="2"),
            _error(W.schedule_error),
            spacing="2")),
        _send_time_advice(),
        spacing="4",
        width="100%",
    )


# ---- step 4: review ------------------------------------------------------------------

def _launch_button() -> rx.Component:
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


def _review_step() -> rx.Component:
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
            _step_title("Review and launch", "Check everything once more; launching sends "
                                             "real messages."),
            rx.card(rx.vstack(
                kv_row("Audience", audience),
                kv_row("Recipients", reach),
                kv_row("Holdout", holdout_picker()),
                kv_row("A/B test", variants_summary()),
                kv_row("Name", rx.text(W.name, data_testid="review-name")),
                kv_row("Channel", rx.text(W.channel.upper())),
                kv_row("Schedule", rx.text(W.schedule_text, data_testid="review-schedule")),
                rx.cond(W.tags.length() > 0, kv_row("Tags", tag_chips(W.tags))),
                rx.cond(W.objective != "", kv_row("Objective", W.objective)),
                spacing="0", width="100%"), width="100%"),
            # Said before the button: an empty subject is allowed, but the marketer
            # should see which line will stand in for it.
            rx.cond(W.subject_review["warning"] != "", rx.callout(
                W.subject_review["warning"], icon="triangle-alert", color_scheme="amber",
                size="1", width="100%", data_testid="review-subject-warning")),
            rx.hstack(_launch_button(),
                      rx.text(rx.cond(W.schedule_mode == "later",
                                      "The campaign is saved now and starts by itself at the "
                                      "scheduled time.",
                                      "Launching creates the campaign and starts delivery."),
                              size="1", color_scheme="gray"),
                      align="center", spacing="3", wrap="wrap"),
            rx.cond(W.eligible_size == 0, rx.callout(
                "Nobody would receive this campaign: every matching customer is skipped ("
                + W.skipped_summary + "). Widen the audience or pick another channel.",
                icon="triangle-alert", color_scheme="amber", size="1", width="100%",
                data_testid="nobody-to-send")),
            rx.cond(~W.can_launch, rx.callout(
                "You can prepare a campaign, but only marketers and admins can launch it.",
                icon="lock", color_scheme="gray", size="1", width="100%")),
            spacing="4",
            width="100%",
        ),
        rx.vstack(
            rx.card(rx.vstack(
                rx.text(rx.cond(V.enabled, "Message (variant A)", "Message"), weight="bold",
                        size="2"),
                rx.cond(W.subject_review["text"] != "",
                        rx.text("Subject: ", W.subject_review["text"], size="2",
                                data_testid="review-subject")),
                _message_box(W.template),
                rx.foreach(V.review_rows, _review_variant),
                spacing="2", width="100%"), width="100%"),
            _message_preview(),
            spacing="4",
            width="100%",
        ),
        columns=rx.breakpoints(initial="1", lg="3fr 2fr"),
        spacing="5",
        width="100%",
        align_items="start",
    )


# ---- the page ------------------------------------------------------------------------

# Ctrl/Cmd+Enter goes to the next step (or launches on the review), Alt+← goes back:
# handled in the browser by clicking the visible button, so the same validation runs
# and no extra event travels for every key press.
_SHORTCUTS = """
if (!window.__mcWizardKeys) {
  window.__mcWizardKeys = true;
  document.addEventListener('keydown', (e) => {
    if (!location.pathname.startsWith('/campaigns/new')) return;
    const click = (id) => { const b = document.querySelector(`[data-testid="${id}"]`);
                            if (b && !b.disabled) { e.preventDefault(); b.click(); } };
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      click(document.querySelector('[data-testid="wizard-next"]') ? 'wizard-next'
                                                                 : 'launch-campaign');
    } else if (e.key === 'ArrowLeft' && e.altKey) { click('wizard-back'); }
  });
}
"""


# Leaving the page (refresh, closing the tab, another site) while edits are not saved
# yet asks first; the marker element carries the state's `dirty` flag.
_LEAVE_GUARD = """
if (!window.__mcLeaveGuard) {
  window.__mcLeaveGuard = (e) => {
    const m = document.getElementById('wizard-dirty');
    if (m && m.dataset.dirty === 'true') { e.preventDefault(); e.returnValue = ''; }
  };
  window.addEventListener('beforeunload', window.__mcLeaveGuard);
}
"""


def _draft_bar() -> rx.Component:
    """Whether the draft is saved, and deleting it."""
    return rx.hstack(
        rx.el.span(id="wizard-dirty", custom_attrs={"data-dirty": W.dirty.to(str)},
                   display="none"),
        rx.script(_LEAVE_GUARD),
        rx.cond(W.dirty, rx.text("Saving…", size="1", color_scheme="gray"),
                rx.text(W.draft_note, size="1", color_scheme="gray",
                        data_testid="draft-note")),
        rx.spacer(),
        rx.cond(W.draft_status == "draft", _delete_draft()),
        width="100%", align="center", min_height="20px",
    )


def _delete_draft() -> rx.Component:
    """Deleting a draft cannot be undone, so it asks first."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(rx.icon("trash-2", size=14), "Delete draft",
                                          size="1", variant="ghost", color_scheme="red",
                                          data_testid="delete-draft")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this draft?"),
            rx.alert_dialog.description("Its audience, message and schedule are removed "
                                        "for good; nothing has been sent."),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft",
                                                 color_scheme="gray")),
                rx.alert_dialog.action(rx.button("Delete draft", color_scheme="red",
                                                 on_click=W.discard_draft,
                                                 data_testid="confirm-delete-draft")),
                justify="end", spacing="3", margin_top="16px"),
        ),
    )


def _viewer_notice() -> rx.Component:
    """A viewer is told at once, instead of walking the wizard to a launch that fails."""
    return rx.callout(
        rx.text("Viewers can't create campaigns. Ask an admin to give you the marketer "
                "role; meanwhile you can look at ", rx.link("existing campaigns",
                                                            href="/campaigns"), "."),
        icon="lock", color_scheme="amber", width="100%", role="status",
        data_testid="viewer-cannot-create")


def _nav() -> rx.Component:
    return rx.hstack(
        rx.cond(W.step > 0,
                rx.button(rx.icon("arrow-left", size=16), "Back", variant="soft",
                          color_scheme="gray", size="3", on_click=W.prev_step,
                          data_testid="wizard-back"),
                rx.link(rx.button("Cancel", variant="soft", color_scheme="gray", size="3"),
                        href="/campaigns")),
        rx.spacer(),
        rx.text(rx.el.kbd("Ctrl"), "+", rx.el.kbd("Enter"),
                rx.cond(W.step < len(STEPS) - 1, " next step", " launch"), size="1",
                color_scheme="gray", display=["none", "none", "block"]),
        rx.cond(W.step < len(STEPS) - 1,
                rx.button("Next", rx.icon("arrow-right", size=16), size="3",
                          on_click=W.next_step, data_testid="wizard-next")),
        rx.script(_SHORTCUTS),
        width="100%",
        align="center",
        padding_top="8px",
        border_top=f"1px solid {rx.color('gray', 4)}",
    )


def campaign_wizard_page() -> rx.Component:
    # The role comes from the page's on_load (AppState.guard); "" until it has run.
    viewer = (W.user_role != "") & ~W.can_launch
    return page_shell(
        "New campaign",
        rx.cond(viewer, _viewer_notice(), _wizard()),
        subtitle="Audience, message, schedule, review: nothing is sent until you launch.",
        actions=rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("All campaigns"),
                                  align="center", spacing="1"), href="/campaigns", size="2"),
    )


def _wizard() -> rx.Component:
    return rx.fragment(
        rx.card(step_indicator(STEPS, W.step, W.reached, W.go_to), width="100%", size="1"),
        _draft_bar(),
        wizard_url(),
        rx.cond(W.launch_error != "", rx.callout(W.launch_error, icon="triangle-alert",
                                                 color_scheme="red", width="100%",
                                                 role="alert", data_testid="launch-error")),
        rx.card(
            rx.vstack(
                rx.match(W.step, (0, _audience_step()), (1, _message_step()),
                         (2, _schedule_step()), _review_step()),
                _nav(),
                spacing="5",
                width="100%",
            ),
            # Less padding on a phone, so the step's controls fit the card.
            size=rx.breakpoints(initial="2", sm="3"),
            width="100%",
        ),
    )

"""The campaign wizard's message step: name, channel, the template with token chips,
the email's subject / preheader / sender, A/B variants, tags, AI message and tag
suggestions, live samples for real recipients, the test send and "preview as"."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.campaign_ui import engine_badge, tag_chips
from mini_crm.components.text_field import take_on_enter, text_field
from mini_crm.components.variant_editor import (
    use_as_variant_button,
    variant_editor,
)
from mini_crm.components.wizard_fields import field_error, field_label, step_title
from mini_crm.core.campaigns import service as campaign_limits
from mini_crm.state.campaign_wizard import CampaignWizardState as W
from mini_crm.state.wizard_reads import CHANNELS, TONES


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
            field_error(W.suggest_error),
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
        field_label("Tags", "campaign-tag-input", "to find and compare campaigns later"),
        rx.hstack(
            # No chips, no empty box: its gap pushed the tag box 8 px right of the others.
            rx.cond(W.tags.length() > 0, tag_chips(W.tags, on_remove=W.remove_tag)),
            text_field(W.tag_input, W.set_tag_input, rev=W.form_rev, id="campaign-tag-input",
                     on_key_down=lambda key, _info: W.tag_key(
                         key, take_on_enter("campaign-tag-input", key)),
                     placeholder="Add a tag and press Enter",
                     max_length=campaign_limits.MAX_TAG,
                     size="2", min_width="200px", flex="1", aria_label="Add a tag"),
            spacing="2", wrap="wrap", align="center", width="100%"),
        field_error(W.tag_error),
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
            # An email as the inbox shows it: sender, subject and preheader first.
            rx.cond(W.channel == "email", rx.vstack(
                rx.cond(W.sender_name.strip() != "",
                        rx.text("From ", W.sender_name.strip(), size="1",
                                color_scheme="gray", data_testid="sample-sender")),
                rx.text(s["subject"], size="2", weight="bold", word_break="break-word",
                        data_testid="sample-subject"),
                rx.cond(s["preheader"].to(str) != "",
                        rx.text(s["preheader"], size="1", color_scheme="gray",
                                word_break="break-word", data_testid="sample-preheader")),
                spacing="0", width="100%", padding_bottom="6px", margin_bottom="6px",
                border_bottom=f"1px solid {rx.color('gray', 4)}")),
            rx.text(s["text"], size="2", white_space="pre-wrap", word_break="break-word",
                    data_testid="sample-text"),
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


def message_preview() -> rx.Component:
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
        field_label("Subject line", "email-subject", "tokens work here too"),
        text_field(W.email_subject, W.set_email_subject, rev=W.form_rev, id="email-subject",
                 placeholder="{first_name|Hi}, your 10% off", size="3",
                 width="100%", data_testid="email-subject",
                 max_length=campaign_limits.MAX_SUBJECT),
        field_label("Preheader", "email-preheader", "the preview text after the subject"),
        text_field(W.email_preheader, W.set_email_preheader, rev=W.form_rev,
                   id="email-preheader", size="2", width="100%",
                 placeholder="Only this weekend, in {city|your city}",
                 data_testid="email-preheader", max_length=campaign_limits.MAX_SUBJECT),
        field_label("Sender name", "sender-name", "shown beside the From address"),
        text_field(W.sender_name, W.set_sender_name, rev=W.form_rev, id="sender-name",
                 placeholder="e.g. Asha from Brand", size="2", width="100%",
                 data_testid="sender-name", max_length=campaign_limits.MAX_SENDER_NAME),
        field_error(W.email_error),
        spacing="2", width="100%",
    )


# The test box's rows: a text box and its button side by side, or on a phone the button
# under the box, whose placeholder ("A phone number on the test list") was cut to "A phone
# number on the" beside the button at 390 px (issue 14).
_BOX_AND_BUTTON = {"width": "100%", "spacing": "2", "align": "stretch",
                   "direction": rx.breakpoints(initial="column", sm="row")}


def _test_and_preview() -> rx.Component:
    """Preview as any customer; send a labelled test to myself or the test list."""
    return rx.card(rx.vstack(
        rx.text("Test before you launch", weight="bold", size="2"),
        rx.flex(
            text_field(W.preview_ref, W.set_preview_ref, rev=W.form_rev, size="2",
                     placeholder="Customer id or email (optional)", flex="1",
                     aria_label="Preview as customer", data_testid="preview-as-input"),
            rx.button("Preview", variant="soft", size="2", on_click=W.preview_customer,
                      data_testid="preview-as"),
            **_BOX_AND_BUTTON),
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
        rx.flex(
            text_field(W.test_to, W.set_test_to, rev=W.form_rev, size="2", flex="1",
                     placeholder=rx.cond(W.channel == "email", "Your email (default)",
                                         "A phone number on the test list"),
                     aria_label="Send the test to", data_testid="test-to", id="test-to"),
            rx.button(rx.cond(W.sending_test, rx.spinner(size="1"), rx.icon("send", size=14)),
                      "Send test", size="2", on_click=W.send_test, disabled=~W.can_launch,
                      data_testid="send-test"),
            **_BOX_AND_BUTTON),
        rx.cond(W.test_ok != "", rx.text(W.test_ok, color_scheme="green", size="1",
                                         data_testid="test-ok")),
        rx.cond(W.test_error != "", rx.text(W.test_error, color_scheme="red", size="1",
                                            role="alert", data_testid="test-error")),
        spacing="2", width="100%"), width="100%")


def message_step() -> rx.Component:
    return rx.grid(
        rx.vstack(
            step_title("What do you want to say?",
                        "Personalise with tokens; every message is rendered per customer."),
            rx.vstack(
                field_label("Campaign name", "campaign-name"),
                text_field(W.name, W.set_name, rev=W.form_rev, id="campaign-name",
                         on_key_down=W.name_key, placeholder="e.g. Diwali win-back, Mumbai",
                         size="3", width="100%", data_testid="campaign-name-input",
                         max_length=campaign_limits.MAX_NAME,
                         aria_invalid=W.name_error != ""),
                field_error(W.name_error),
                spacing="2", width="100%"),
            rx.vstack(field_label("Channel"), _channel_picker(), spacing="2", width="100%"),
            rx.cond(W.channel == "email", _email_fields()),
            rx.vstack(
                field_label("Objective", "campaign-objective", "optional, used for suggestions"),
                text_field(W.objective, W.set_objective, rev=W.form_rev,
                           id="campaign-objective",
                         placeholder="e.g. Win back lapsed customers", size="2", width="100%",
                         max_length=campaign_limits.MAX_OBJECTIVE),
                spacing="2", width="100%"),
            _ai_messages(),
            rx.vstack(
                rx.hstack(field_label("Message", "campaign-template"), rx.spacer(),
                          rx.text(W.length_note, size="1", color_scheme="gray",
                                  text_align="end", data_testid="message-length"),
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
                rx.cond(W.template_problems.length() == 0, field_error(W.template_error)),
                spacing="2", width="100%"),
            variant_editor(),
            _tags_field(),
            spacing="5",
            width="100%",
        ),
        # The preview and the test card stick together as one column (never one card over
        # the other); a column taller than the window scrolls inside itself.
        rx.vstack(message_preview(), _test_and_preview(), spacing="4", width="100%",
                  position=rx.breakpoints(initial="static", lg="sticky"), top="80px",
                  max_height=rx.breakpoints(initial="none", lg="calc(100vh - 96px)"),
                  overflow_y=rx.breakpoints(initial="visible", lg="auto"),
                  data_testid="message-side-column"),
        columns=rx.breakpoints(initial="1", lg="3fr 2fr"),
        spacing="5",
        width="100%",
        align_items="start",
    )

"""The wizard's "Test message variants (A/B)" card (state/wizard_variants.py) and its
one-line summary for the review step."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.text_field import text_field
from mini_crm.state.campaign_wizard import CampaignWizardState
from mini_crm.state.wizard_variants import SHARES, VariantsState

V = VariantsState
SHARE_LABELS = {s: ("All at once" if s == "100" else f"{s}% first") for s in SHARES}


def _variant_row(text: rx.Var, index: rx.Var) -> rx.Component:
    key = V.keys[index]
    row_key = V.rev.to(str) + "-" + index.to(str)
    return rx.vstack(
        rx.hstack(
            rx.badge("Variant ", key, size="2", variant="soft", color_scheme="indigo"),
            rx.spacer(),
            rx.button(rx.icon("x", size=14), "Remove", size="1", variant="ghost",
                      color_scheme="red", on_click=V.remove_variant(index),
                      aria_label="Remove variant " + key.to(str),
                      data_testid="remove-variant"),
            width="100%", align="center"),
        text_field(text, lambda v: V.set_variant(index, v), rev=row_key, multiline=True,
                   rows="3", width="100%", placeholder="Another way to say it, e.g. {first_name}, "
                     "your 10% off ends Sunday", aria_label="Message of variant " + key.to(str),
                     data_testid="variant-message",
                     font_family="ui-monospace, SFMono-Regular, Menlo, monospace"),
        rx.cond(CampaignWizardState.channel == "email",
                text_field(V.subjects[index], lambda v: V.set_subject(index, v), rev=row_key,
                           placeholder="Subject line (blank: the campaign's)", size="2",
                         width="100%", aria_label="Subject line of variant " + key.to(str),
                         data_testid="variant-subject")),
        spacing="1", width="100%")


def variant_editor() -> rx.Component:
    """Off by default; on, variant A is the message above and B-D are typed here."""
    settings = rx.grid(
        rx.vstack(rx.text("Test share", size="1", weight="medium"),
                  rx.select.root(
                      rx.select.trigger(aria_label="Test share", width="100%"),
                      rx.select.content(*(rx.select.item(SHARE_LABELS[s], value=s)
                                          for s in SHARES)),
                      value=V.test_share, on_change=V.set_test_share, size="2"),
                  spacing="1", width="100%", data_testid="ab-share"),
        rx.vstack(rx.text("Test period (hours)", size="1", weight="medium"),
                  text_field(V.test_hours, V.set_test_hours, rev=V.rev, type="number",
                           min="1", max="168", size="2", width="100%",
                           aria_label="Test period in hours", data_testid="ab-hours"),
                  spacing="1", width="100%"),
        rx.vstack(rx.text("Winner by", size="1", weight="medium"),
                  rx.select.root(
                      rx.select.trigger(aria_label="Winner metric", width="100%"),
                      rx.select.content(rx.select.item("Conversion rate", value="conversion"),
                                        rx.select.item("Delivery rate", value="delivery")),
                      value=V.metric, on_change=V.set_metric, size="2"),
                  spacing="1", width="100%"),
        columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%")
    body = rx.vstack(
        rx.text("Variant A is the message above. Each recipient gets one variant, split "
                "evenly and kept on re-runs; the holdout gets none.", size="1",
                color_scheme="gray"),
        rx.foreach(V.extra, _variant_row),
        rx.cond(V.can_add,
                rx.button(rx.icon("plus", size=14), "Add variant", size="2", variant="soft",
                          on_click=V.add_variant, data_testid="add-variant")),
        settings,
        rx.text(rx.cond(V.test_share == "100",
                        "Everyone is sent at once; the winner is named after the test "
                        "period, for the report.",
                        "That share is sent first, split evenly; the rest waits and gets "
                        "the winner's message after the test period."),
                size="1", color_scheme="gray"),
        rx.vstack(
            rx.text("The winner is the variant that does clearly better than every other, "
                    "by more than chance would explain, with at least 100 sent each. With "
                    "no clear winner the rest gets variant A. You can also pick the winner "
                    "yourself on the campaign page.", size="1"),
            rx.text("How it is decided: p < 0.05, two-proportion z-test (Holm-corrected "
                    "for 3-4 variants).", size="1", color_scheme="gray"),
            spacing="1", width="100%"),
        spacing="3", width="100%")
    return rx.card(rx.vstack(
        rx.hstack(rx.icon("split", size=16, color=rx.color("indigo", 9)),
                  rx.text("Test message variants (A/B)", weight="bold", size="2",
                          id="ab-title"),
                  rx.spacer(),
                  rx.switch(checked=V.enabled, on_change=V.set_enabled,
                            # A name of its own: the tester's screen reader found
                            # none through aria-labelledby alone.
                            aria_label="Test message variants (A/B)",
                            data_testid="ab-toggle"),
                  align="center", width="100%"),
        rx.cond(V.enabled, body),
        rx.cond(V.error != "", rx.text(rx.icon("circle-alert", size=12), " ", V.error,
                                        size="1", color_scheme="red", role="alert",
                                        data_testid="ab-error")),
        spacing="3", width="100%"), width="100%", data_testid="ab-section")


def use_as_variant_button(text: rx.Var) -> rx.Component:
    return rx.button("Use as variant", size="1", variant="ghost",
                     on_click=V.use_as_variant(text, CampaignWizardState.template),
                     data_testid="use-as-variant")


def variants_summary() -> rx.Component:
    return rx.text(V.summary, text_align="end", max_width="420px",
                   data_testid="review-ab")

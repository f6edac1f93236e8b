"""Settings card: the marketer vocabulary the plain-English box understands."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.text_field import text_field
from mini_crm.components.ui import loading_bar
from mini_crm.state.base import AppState
from mini_crm.state.vocabulary import VocabularyState as V

CAN_EDIT = (AppState.user_role == "admin") | (AppState.user_role == "marketer")


def _editor() -> rx.Component:
    return rx.vstack(
        rx.text("Rules JSON (the same shape as the rule builder's; fields and operators "
                "are checked before saving)", size="1", color_scheme="gray"),
        text_field(V.draft_rules, V.set_draft_rules, rev=V.form_rev, multiline=True, rows="8",
                     width="100%", font_family="monospace", aria_label="Definition rules",
                     data_testid="term-rules"),
        text_field(V.draft_description, V.set_draft_description, rev=V.form_rev,
                 placeholder="In words, e.g. lifetime spend of ₹1 lakh or more",
                 width="100%", max_length=300, aria_label="Definition in words",
                 data_testid="term-description"),
        rx.cond(V.term_error != "", rx.callout(V.term_error, icon="circle-alert",
                                               color_scheme="red", size="1", width="100%",
                                               role="alert", data_testid="term-error")),
        rx.hstack(rx.button("Save definition", size="2", on_click=V.save_term,
                            data_testid="term-save"),
                  rx.button("Cancel", size="2", variant="soft", color_scheme="gray",
                            on_click=V.cancel_edit), spacing="2", wrap="wrap"),
        width="100%", spacing="2", padding_top="6px",
    )


def _term(row: rx.Var) -> rx.Component:
    return rx.box(
        rx.flex(
            rx.vstack(
                rx.hstack(rx.text(row["label"], weight="bold", size="3"),
                          rx.badge(row["status"], variant="soft",
                                   color_scheme=rx.cond(row["status"] == "edited", "amber",
                                                        "gray")),
                          spacing="2", align="center"),
                rx.text(row["sentence"], size="2", data_testid="term-sentence"),
                rx.text("Words: ", row["words"], size="1", color_scheme="gray"),
                spacing="1", min_width="0", flex="1",
            ),
            rx.hstack(
                rx.button("Edit", size="1", variant="soft", on_click=V.edit_term(row["key"]),
                          disabled=~CAN_EDIT, data_testid="term-edit"),
                rx.cond(row["status"] == "edited",
                        rx.button("Reset", size="1", variant="outline", color_scheme="gray",
                                  on_click=V.reset_term(row["key"]), disabled=~CAN_EDIT,
                                  data_testid="term-reset")),
                spacing="2", flex_shrink="0",
            ),
            direction=rx.breakpoints(initial="column", sm="row"), gap="8px", width="100%",
        ),
        rx.cond(V.editing == row["key"], _editor()),
        padding="10px 0", border_bottom=f"1px solid {rx.color('gray', 4)}", width="100%",
        data_testid=f"term-{row['key']}",
    )


def vocabulary_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Plain-English vocabulary", size="4"),
            rx.text("What these words mean when a marketer describes an audience (“churned "
                    "customers in Mumbai”). The parser uses your definitions and quotes them "
                    "in its explanation; Reset returns a word to its documented default.",
                    size="2", color_scheme="gray"),
            loading_bar(V.terms_loading),
            rx.cond(V.term_saved != "", rx.text(V.term_saved, size="2", color_scheme="green",
                                                data_testid="term-saved")),
            rx.foreach(V.terms, _term),
            spacing="2", width="100%",
        ),
        width="100%", on_mount=V.load_terms, data_testid="vocabulary-card",
    )

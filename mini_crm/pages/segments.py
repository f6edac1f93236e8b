"""Segments: saved audiences, and the rule builder with a live audience preview."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.layout import page_shell
from mini_crm.components.rule_builder import rule_builder
from mini_crm.components.text_field import typed_box
from mini_crm.components.ui import (
    PHONE_ONLY,
    confirm_dialog,
    empty_state,
    loading_bar,
    responsive_table,
)
from mini_crm.core.segments import service as segment_limits
from mini_crm.state.segment_list import SegmentListState as L
from mini_crm.state.segments import SegmentEditorState as E


def _segment_row(s: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(s["name"], href="/segments/" + s["id"],
                                         weight="medium")),
        rx.table.cell(rx.text(s["sentence"], size="2", color_scheme="gray")),
        rx.table.cell(s["size"], justify="end"),
        rx.table.cell(s["updated"]),
        rx.table.cell(_segment_actions(s)),
    )


def _segment_actions(s: rx.Var) -> rx.Component:
    """Duplicate and delete, on the table's row and on a phone's card alike."""
    return rx.hstack(
        rx.icon_button(rx.icon("copy", size=14), variant="ghost", size="1",
                       on_click=L.duplicate(s["id"]), aria_label="Duplicate segment"),
        confirm_dialog(
            rx.icon_button(rx.icon("trash-2", size=14), variant="ghost",
                           color_scheme="red", size="1", aria_label="Delete segment"),
            title="Delete this segment?",
            body="Campaigns keep their own copy of the rules; only the saved segment goes.",
            confirm="Delete", on_confirm=L.delete(s["id"]), danger=True),
        spacing="2")


def _segment_line(s: rx.Var) -> rx.Component:
    """A saved segment on a phone: its name and size, its audience on one line, and
    the table's duplicate and delete (the card alone left a phone no way to do either)."""
    return rx.card(rx.hstack(
        rx.link(rx.vstack(
            rx.hstack(rx.text(s["name"], weight="medium", size="3"), rx.spacer(),
                      rx.text(s["size"], size="3", weight="bold", white_space="nowrap"),
                      width="100%", align="center", spacing="2"),
            rx.text(s["sentence"], size="2", color_scheme="gray", white_space="nowrap",
                    overflow="hidden", text_overflow="ellipsis", width="100%"),
            spacing="1", width="100%"),
            href="/segments/" + s["id"], underline="none", min_width="0", flex="1"),
        _segment_actions(s),
        align="center", spacing="3", width="100%"),
        width="100%", data_testid="segment-line")


def segments_page() -> rx.Component:
    return page_shell(
        "Segments",
        loading_bar(L.loading),
        rx.cond(L.message != "", rx.callout(L.message, icon="check", color_scheme="green",
                                            size="1", width="100%")),
        rx.cond(L.error != "", rx.callout(L.error, icon="lock", color_scheme="red", size="1",
                                          width="100%", role="alert")),
        rx.cond(
            (L.rows.length() == 0) & ~L.loading,
            empty_state("filter", "No saved segments yet",
                        "A segment is a reusable audience: build one with AND/OR rules and "
                        "see its size as you go.",
                        rx.link(rx.button(rx.icon("plus"), "New segment"), href="/segments/new")),
            # A phone gets name, size and a one-line summary; the table is ~1,600 px wide.
            rx.fragment(rx.vstack(rx.foreach(L.rows, _segment_line), width="100%", spacing="2",
                                  display=PHONE_ONLY, data_testid="segment-lines"),
            rx.card(responsive_table(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Name"),
                    rx.table.column_header_cell("Audience"),
                    rx.table.column_header_cell("Size", justify="end"),
                    rx.table.column_header_cell("Updated"),
                    rx.table.column_header_cell(""),
                )),
                rx.table.body(rx.foreach(L.rows, _segment_row)),
                width="100%", variant="ghost"), width="100%", overflow_x="auto",
                display=["none", "none", "block"])),
        ),
        subtitle="Reusable audiences built from customer and order data.",
        actions=rx.link(rx.button(rx.icon("plus", size=16), "New segment", size="3"),
                        href="/segments/new"),
    )


def _preview_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text("Audience size", size="2", color_scheme="gray"), rx.spacer(),
                      rx.cond(E.previewing, rx.spinner(size="1", data_testid="preview-spinner")),
                      width="100%"),
            # While the rules are invalid the last size belongs to other rules: hide it.
            rx.cond(E.error == "",
                    rx.hstack(rx.cond(E.blank,
                                      rx.heading(E.size_text, size="5", color_scheme="gray",
                                                 data_testid="audience-size"),
                                      rx.heading(E.size_text, size="8",
                                                 data_testid="audience-size")),
                              rx.text(E.share_text, size="2", color_scheme="gray",
                                      data_testid="audience-share"),
                              rx.cond(E.uncounted_text != "",
                                      rx.text(E.uncounted_text, size="2", color_scheme="amber",
                                              data_testid="audience-uncounted")),
                              align="baseline", spacing="2", wrap="wrap"),
                    rx.heading("—", size="8", color_scheme="gray")),
            rx.cond(E.error != "",
                    rx.callout(E.error, icon="circle-alert", color_scheme="red", size="1",
                               role="alert"),
                    rx.text(E.preview_sentence, size="2", data_testid="audience-sentence")),
            rx.separator(),
            rx.text("Sample", size="2", weight="medium"),
            rx.cond(
                E.preview_sample.length() == 0,
                rx.text(rx.cond(E.blank, "Add a condition to see who matches.",
                                "No customer matches these rules yet."),
                        size="2", color_scheme="gray"),
                rx.vstack(rx.foreach(E.preview_sample, lambda c: rx.hstack(
                    rx.link(c["name"], href=c["href"], size="2"),
                    rx.spacer(),
                    rx.text(c["city"], size="1", color_scheme="gray"),
                    rx.text(c["spend"], size="2", weight="medium"),
                    width="100%", spacing="2")), width="100%", spacing="2"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        position=["static", "static", "sticky"],
        top="20px",
    )


def _phone_size_bar() -> rx.Component:
    """On a phone the preview card comes after the whole rule tree: the size stays in
    sight in a bar along the bottom of the screen while the rules are edited."""
    return rx.box(
        rx.hstack(
            rx.text("Audience", size="2", color_scheme="gray"),
            rx.text(rx.cond(E.error == "", E.size_text, "—"), size="4", weight="bold",
                    data_testid="phone-audience-size"),
            rx.text(rx.cond(E.error == "", rx.cond(E.uncounted_text != "", E.uncounted_text,
                                                   E.share_text),
                            "fix the rule marked in red"),
                    size="1", color_scheme="gray", white_space="nowrap", overflow="hidden",
                    text_overflow="ellipsis", min_width="0"),
            rx.spacer(),
            rx.cond(E.previewing, rx.spinner(size="1")),
            align="center", spacing="2", width="100%"),
        display=["block", "block", "none"],
        position="fixed", bottom="0", left="0", right="0", z_index="20",
        padding="10px 16px", background=rx.color("gray", 1),
        border_top=f"1px solid {rx.color('gray', 6)}",
        box_shadow="0 -2px 8px rgba(0,0,0,0.08)",
        data_testid="phone-size-bar",
    )


def segment_editor_page() -> rx.Component:
    return page_shell(
        "Segment",
        rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("All segments"),
                          align="center", spacing="1"), href="/segments", size="2"),
        rx.cond(~E.found, _not_found(), _editor()),
        subtitle="Describe the audience in plain English or build it with rules; the size "
                 "updates as you edit.",
    )


def _not_found() -> rx.Component:
    return rx.card(empty_state("search-x", "Segment not found",
                               "It may have been deleted, or the link is wrong.",
                               rx.link(rx.button("All segments"), href="/segments")),
                   width="100%", data_testid="segment-not-found")


# Unsaved edits (the state's `dirty`, carried by a hidden marker) are not lost without a
# question: leaving the page (refresh, closing the tab, another site) asks through
# beforeunload, as the campaign wizard does; a click on a link inside the app and the
# browser's Back or Forward (components/history_guard.py, which stops the move and keeps
# the editor's address when the marketer stays), which move without unloading the page,
# ask the same question (the wizard autosaves drafts; a segment does not).
_LEAVE_GUARD = """
if (!window.__mcSegmentGuard) {
  window.__mcSegmentGuard = true;
  const ASK = 'Leave without saving this segment? Your changes will be lost.';
  const dirty = () => {
    const m = document.getElementById('segment-dirty');
    return !!m && m.dataset.dirty === 'true';
  };
  // Back / Forward: asked by the <head> script's popstate listener.
  (window.__mcLeaveChecks || []).push(() => !dirty() || window.confirm(ASK));
  window.addEventListener('beforeunload', (e) => {
    if (dirty()) { e.preventDefault(); e.returnValue = ''; }
  });
  document.addEventListener('click', (e) => {
    const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
    if (!a || !dirty() || e.defaultPrevented || a.target === '_blank' || e.button !== 0
        || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    const to = new URL(a.href, location.href);
    if (to.origin !== location.origin || to.pathname === location.pathname) return;
    if (!window.confirm(ASK)) {
      e.preventDefault();
      e.stopPropagation();
    }
  }, true);
}
"""


def _editor() -> rx.Component:
    return rx.fragment(
        rx.el.span(id="segment-dirty", custom_attrs={"data-dirty": E.dirty.to(str)},
                   display="none"),
        rx.script(_LEAVE_GUARD),
        rx.cond(E.opening,
                rx.card(rx.vstack(loading_bar(E.opening),
                                  rx.text("Opening the segment…", color_scheme="gray",
                                          size="2"), width="100%"),
                        width="100%", data_testid="segment-opening"),
                _editor_grid()),
    )


def _editor_grid() -> rx.Component:
    return rx.grid(
        rx.vstack(
            rx.card(rx.vstack(
                rx.text("Name", size="2", weight="medium"),
                typed_box("segment-name-box", E.name, E.set_segment_name,
                          typed_seq=E.typed_seq, loads=E.loads, size="3",
                          placeholder="e.g. Lapsed Mumbai spenders",
                          aria_label="Segment name", data_testid="segment-name",
                          width="100%", max_length=segment_limits.MAX_NAME),
                width="100%"), width="100%"),
            rx.card(rule_builder(), width="100%"),
            rx.hstack(
                rx.button(rx.icon("save", size=16), E.save_label, size="3",
                          on_click=E.save, data_testid="save-segment"),
                rx.cond(E.segment_id != 0,
                        rx.link(rx.button(rx.icon("megaphone", size=16),
                                          "Use in a campaign", size="3", variant="soft",
                                          white_space="nowrap"),
                                href="/campaigns/new?segment=" + E.segment_id.to(str),
                                data_testid="use-in-campaign")),
                rx.cond(E.saved_message != "", rx.text(E.saved_message, color_scheme="green",
                                                       size="2")),
                rx.cond(E.save_error != "", rx.text(E.save_error, color_scheme="red",
                                                    size="2", role="alert")),
                align="center", spacing="3", wrap="wrap"),
            spacing="4",
            width="100%",
        ),
        _preview_panel(),
        _phone_size_bar(),
        columns=rx.breakpoints(initial="1", lg="2fr 1fr"),
        padding_bottom=["64px", "64px", "0"],  # room for the phone's size bar
        spacing="4",
        width="100%",
        align_items="start",
    )

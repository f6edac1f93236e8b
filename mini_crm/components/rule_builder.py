"""The nested AND/OR rule builder, rendered from the state's flattened rows.

Reflex components cannot recurse at run time, so the tree arrives as a flat list
of rows (groups and rules with their depth) and indentation shows the nesting.
Every control is a native button/select/input, so the builder is keyboard usable.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from mini_crm.components.text_field import text_field, typed_box
from mini_crm.core.segments.fields import DATE_OPERATOR_LABELS, OPERATOR_LABELS
from mini_crm.state.segments import DRAFT_BOX_ID
from mini_crm.state.segments import SegmentEditorState as S

INDENT_PX = 28


def _indent(row: rx.Var) -> rx.Var:
    return (row["depth"].to(int) * INDENT_PX).to_string() + "px"


def _width(row: rx.Var) -> rx.Var:
    return "calc(100% - " + (row["depth"].to(int) * INDENT_PX).to_string() + "px)"


def _group_row(row: rx.Var) -> rx.Component:
    path = row["path"].to(str)
    return rx.hstack(
        rx.segmented_control.root(
            rx.segmented_control.item("AND", value="and"),
            rx.segmented_control.item("OR", value="or"),
            value=row["combinator"].to(str),
            on_change=lambda _v: S.toggle_combinator(path),
            size="1",
            aria_label="Match all (AND) or any (OR)",
        ),
        rx.button(rx.icon("ban", size=14), "NOT", size="1",
                  variant=rx.cond(row["negate"].to(bool), "solid", "outline"),
                  color_scheme=rx.cond(row["negate"].to(bool), "red", "gray"),
                  on_click=S.toggle_not(path), aria_pressed=row["negate"].to(bool),
                  title="Negate this group"),
        rx.text(rx.cond(row["is_root"].to(bool), "Customers matching",
                        "Group matching"), " ",
                rx.cond(row["combinator"].to(str) == "and", "all", "any"), " of:",
                size="2", color_scheme="gray"),
        rx.spacer(),
        rx.button(rx.icon("plus", size=14), "Rule", size="1", variant="soft",
                  on_click=S.add_rule(path), data_testid="add-rule"),
        rx.button(rx.icon("brackets", size=14), "Group", size="1", variant="soft",
                  on_click=S.add_group(path), data_testid="add-group"),
        rx.cond(
            row["is_root"].to(bool),
            rx.fragment(),
            rx.hstack(
                rx.icon_button(rx.icon("copy", size=14), size="1", variant="ghost",
                               on_click=S.duplicate(path), aria_label="Duplicate group"),
                rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost",
                               color_scheme="red", on_click=S.remove(path),
                               aria_label="Remove group"),
                spacing="1",
            ),
        ),
        align="center",
        spacing="2",
        width=_width(row),
        padding="8px 10px",
        margin_left=_indent(row),
        border_radius="8px",
        background_color=rx.color("accent", 2),
        border=f"1px solid {rx.color('accent', 5)}",
        wrap="wrap",
    )


def _typed(path: rx.Var, slot: str, text: rx.Var, handler: Any,
           **props: Any) -> rx.Component:
    """A rule's text box (`slot` of the row at `path`): text_field.typed_box, so no
    server answer (a field change, a row moved, the editor's open) loses what is typed;
    each change goes to `handler(path, text, seq)`."""
    return typed_box("rule-box-" + path + "-" + slot, text,
                     lambda v, seq: handler(path, v, seq),
                     typed_seq=S.typed_seq, loads=S.loads, **props)


def _value_input(row: rx.Var) -> rx.Component:
    """Typed values go through typed_box (the box owns its text; no echo resets it);
    date pickers stay controlled inputs."""
    path = row["path"].to(str)
    kind = row["input"].to(str)
    common = {"size": "2"}
    numeric = kind == "number"
    return rx.match(
        kind,
        ("none", rx.text("(no value needed)", size="1", color_scheme="gray")),
        ("date", rx.input(value=row["value"].to(str), type="date",
                          on_change=lambda v: S.set_value(path, v), aria_label="Date",
                          **common)),
        ("number_pair", rx.hstack(
            _typed(path, "low", row["low"].to(str), S.set_low, input_mode="decimal",
                   width="110px", aria_label="From", **common),
            rx.text("and", size="2"),
            _typed(path, "high", row["high"].to(str), S.set_high, input_mode="decimal",
                   width="110px", aria_label="To", **common),
            align="center")),
        ("date_pair", rx.hstack(
            rx.input(value=row["low"].to(str), type="date",
                     on_change=lambda v: S.set_low(path, v), aria_label="From", **common),
            rx.text("and", size="2"),
            rx.input(value=row["high"].to(str), type="date",
                     on_change=lambda v: S.set_high(path, v), aria_label="To", **common),
            align="center")),
        ("list", _list_input(row, path)),
        # Numbers and text in one box, so a field change from an amount to a city keeps
        # the element the marketer is typing in (focus, caret and keys). Text, not
        # type=number: marketers type 1,50,000, ₹10K or 1.5 lakh (core.numbers).
        _typed(path, "value", row["value"].to(str), S.set_value,
               input_mode=rx.cond(numeric, "decimal", "text"),
               placeholder=rx.cond(numeric, "e.g. 1,50,000 or 10K", ""),
               list=rx.cond(numeric, "", "known-cities"),
               width=rx.cond(numeric, "150px", "220px"), aria_label="Value", **common),
    )


def _list_input(row: rx.Var, path: rx.Var) -> rx.Component:
    """Chips for the chosen values, and an input (cities from the data suggested) that
    adds one on Enter, a comma (or a semicolon) or leaving it, and all of a pasted
    "Pune, Mumbai; Delhi"; each chip's × removes it."""
    items = row["items"].to(list[str])
    return rx.hstack(
        rx.foreach(items, lambda item, i: rx.badge(
            item,
            rx.el.button(rx.icon("x", size=11), type="button",
                         on_click=S.remove_item(path, i), aria_label="Remove " + item,
                         style={"background": "none", "border": "none", "cursor": "pointer",
                                "padding": "0", "display": "flex", "color": "inherit"}),
            size="2", variant="soft", radius="full", data_testid="value-chip",
        )),
        text_field(row["draft"].to(str), lambda v: S.set_draft(path, v),
                   rev=path + "-draft", id=DRAFT_BOX_ID + path, list="known-cities",
                   placeholder=rx.cond(items.length() > 0, "Add another…",
                                       "Type or pick, Enter"),
                   on_key_down=lambda key: S.draft_key(path, key),
                   on_blur=lambda v: S.commit_draft(path, v),
                   width="180px", aria_label="Add a value", size="2"),
        spacing="1", wrap="wrap", align="center", role="group", aria_label="Values",
        data_testid="list-values",
    )


ITEM_KEYS = ("category", "sku", "name", "brand")


def _window_picker(row: rx.Var, path: rx.Var) -> rx.Component:
    """The period of a windowed order rule (last N days, or from/to brand-calendar dates)
    and an optional 'with an item whose <key> is <value>' filter."""
    return rx.hstack(
        rx.text("in", size="2", color_scheme="gray"),
        rx.el.select(
            rx.el.option("the last … days", value="last_days"),
            rx.el.option("a date range", value="dates"),
            value=row["window_mode"].to(str),
            on_change=lambda v: S.set_window_mode(path, v),
            aria_label="Period", class_name="rb-select",
        ),
        rx.cond(
            row["window_mode"].to(str) == "dates",
            rx.hstack(
                rx.input(value=row["window_from"].to(str), type="date", size="2",
                         on_change=lambda v: S.set_window_from(path, v),
                         aria_label="Period from"),
                rx.text("to", size="2"),
                rx.input(value=row["window_to"].to(str), type="date", size="2",
                         on_change=lambda v: S.set_window_to(path, v), aria_label="Period to"),
                align="center", spacing="1"),
            rx.hstack(
                _typed(path, "days", row["last_days"].to(str), S.set_window_days,
                       type="number", min=1, width="90px", size="2",
                       aria_label="Number of days"),
                rx.text("days", size="2"), align="center", spacing="1"),
        ),
        rx.text("with an item whose", size="2", color_scheme="gray"),
        rx.el.select(
            rx.foreach(list(ITEM_KEYS), lambda k: rx.el.option(k, value=k)),
            value=row["item_key"].to(str),
            on_change=lambda v: S.set_item_key(path, v),
            aria_label="Item key", class_name="rb-select",
        ),
        rx.text("is", size="2", color_scheme="gray"),
        _typed(path, "item", row["item_value"].to(str), S.set_item_value,
               placeholder="any (optional)", width="140px", size="2",
               aria_label="Item value"),
        align="center", spacing="2", wrap="wrap", data_testid="window-picker",
    )


# Operators in words: the stored rules keep their symbols (the API contract). One table
# in core, so rule errors name an operator as the builder shows it.
OPERATOR_WORDS = OPERATOR_LABELS
DATE_WORDS = DATE_OPERATOR_LABELS
_WORDS = rx.Var.create(OPERATOR_WORDS)
_DATE_WORDS = rx.Var.create(DATE_WORDS)


def _operator_label(op: rx.Var, row: rx.Var) -> rx.Var:
    dates = row["input"].to(str).contains("date")
    return rx.cond(dates, _DATE_WORDS[op.to(str)], _WORDS[op.to(str)])


def _did_you_mean(typed: rx.Var, known: rx.Var, pick: Any) -> rx.Component:
    """"No customer is in “Mumbay”. Did you mean [Mumbai?]": one click (`pick`) takes the
    known value; nothing is replaced without it."""
    return rx.hstack(
        rx.text("No customer is in “", typed, "”. Did you mean ", size="1",
                color_scheme="amber"),
        rx.button(known, "?", size="1", variant="soft", color_scheme="amber",
                  on_click=pick, data_testid="did-you-mean"),
        spacing="1", align="center", wrap="wrap")


def _rule_row(row: rx.Var) -> rx.Component:
    path = row["path"].to(str)
    return rx.vstack(
        rx.hstack(
            rx.el.select(
                rx.foreach(S.field_menu, lambda o: rx.el.option(o["label"],
                                                                 value=o["value"])),
                value=row["field"].to(str),
                on_change=lambda v: S.set_field(path, v),
                aria_label="Field",
                class_name="rb-select",
            ),
            rx.el.select(
                rx.foreach(row["operators"].to(list[str]),
                           lambda op: rx.el.option(_operator_label(op, row), value=op)),
                value=row["operator"].to(str),
                on_change=lambda v: S.set_operator(path, v),
                aria_label="Operator",
                class_name="rb-select",
            ),
            _value_input(row),
            rx.cond(row["unit"].to(str) != "", rx.badge(row["unit"].to(str), variant="soft",
                                                        color_scheme="gray")),
            rx.spacer(),
            rx.icon_button(rx.icon("copy", size=14), size="1", variant="ghost",
                           on_click=S.duplicate(path), aria_label="Duplicate rule"),
            rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost", color_scheme="red",
                           on_click=S.remove(path), aria_label="Remove rule"),
            align="center",
            spacing="2",
            width="100%",
            wrap="wrap",
        ),
        rx.cond(row["is_window"].to(bool), _window_picker(row, path)),
        rx.cond(
            row["can_exclude"].to(bool),
            rx.hstack(
                rx.text("Includes customers with no value.", size="1", color_scheme="gray"),
                rx.button("Exclude unknowns", size="1", variant="ghost",
                          on_click=S.exclude_unknowns(path), data_testid="exclude-unknowns",
                          title="Add “is not empty” beside this rule"),
                align="center", spacing="2"),
        ),
        rx.cond(row["suggest"].to(str) != "",
                _did_you_mean(row["value"].to(str), row["suggest"].to(str),
                              S.use_value(path, row["suggest"].to(str)))),
        # The same for each chip of a list rule ("city is any of Pue, Mumbai").
        rx.foreach(row["fixes"].to(list[dict[str, Any]]), lambda fix: _did_you_mean(
            fix["item"].to(str), fix["suggest"].to(str),
            S.use_item(path, fix["index"].to(int), fix["suggest"].to(str)))),
        rx.cond(row["error"].to(str) != "",
                rx.text(rx.icon("circle-alert", size=12), " ", row["error"].to(str), size="1",
                        color_scheme="red", role="alert")),
        # An empty box (a rule just added, or its field changed): a quiet hint, not an error.
        rx.cond((row["hint"].to(str) != "") & (row["error"].to(str) == ""),
                rx.text(row["hint"].to(str), size="1", color_scheme="gray",
                        data_testid="rule-hint")),
        spacing="1",
        width=_width(row),
        padding="6px 10px",
        margin_left=_indent(row),
        border_left=f"3px solid {rx.color('accent', 6)}",
        data_testid="rule-row",
    )


def ai_prompt_box() -> rx.Component:
    """'Describe your audience…': Enter fills the builder below for review (never saves)."""
    return rx.vstack(
        rx.form(
            # On a phone the box takes the whole row and the buttons go under it.
            rx.flex(
                rx.input(
                    rx.input.slot(rx.icon("sparkles", size=16)),
                    name="prompt",
                    # Short enough to show whole in a phone's box (390 px wide).
                    placeholder="e.g. Pune, no order in 6 months",
                    size="3", width="100%", max_length=1000,
                    aria_label="Describe your audience", data_testid="ai-prompt",
                    flex="1", min_width="0",
                ),
                rx.hstack(rx.button(
                    rx.cond(S.ai_busy, rx.spinner(size="2"), rx.icon("wand-sparkles", size=16)),
                    "Fill rules", type="submit", size="3", disabled=S.ai_busy,
                    data_testid="ai-submit",
                ),
                rx.tooltip(
                    rx.button(rx.icon("users", size=16), "Lookalikes", type="button",
                              size="3", variant="soft", disabled=S.ai_busy,
                              on_click=S.find_lookalikes, data_testid="ai-lookalike"),
                    content="Replace these rules with rules for customers who resemble "
                            "this audience (you review before saving); if no one does, "
                            "your rules stay as they are",
                ), spacing="2", flex_shrink="0"),
                direction=rx.breakpoints(initial="column", sm="row"),
                width="100%", align=rx.breakpoints(initial="stretch", sm="center"),
                spacing="2",
            ),
            on_submit=S.describe_audience,
            reset_on_submit=False,
            width="100%",
        ),
        rx.cond(S.ai_error != "", rx.callout(S.ai_error, icon="circle-alert", color_scheme="red",
                                             size="1", width="100%", role="alert")),
        rx.cond(
            S.ai_explanation.length() > 0,
            rx.box(
                rx.hstack(
                    rx.text(rx.match(S.ai_source,
                                     ("lookalike",
                                      "Lookalike audience: review the rules, then save."),
                                     ("lookalike_none",
                                      "No lookalike audience: your rules are unchanged."),
                                     ("description_unconfirmed",
                                      rx.cond(S.ai_unused.length() > 0,
                                              "Not applied yet: part of your description "
                                              "was not used (below).",
                                              "Not applied yet: check the note below.")),
                                     "Rules filled in from your description: review them, "
                                     "then save."),
                            size="2", weight="medium", data_testid="ai-heading"),
                    rx.spacer(),
                    rx.badge(rx.cond(S.ai_engine == "llm", "LLM engine", "Offline engine"),
                             color_scheme=rx.cond(S.ai_engine == "llm", "violet", "gray"),
                             variant="soft", data_testid="ai-engine"),
                    width="100%", align="center", wrap="wrap",
                ),
                rx.el.ul(
                    rx.foreach(S.ai_explanation,
                               lambda line: rx.el.li(rx.text(line, size="2"))),
                    style={"margin": "6px 0 0 18px", "list_style": "disc"},
                    data_testid="ai-explanation",
                ),
                width="100%", padding="10px 12px", border_radius="8px",
                background_color=rx.cond(S.ai_source == "lookalike_none", rx.color("amber", 3),
                                         rx.color("accent", 2)),
            ),
        ),
        rx.cond((S.ai_unused.length() > 0) | (S.ai_warnings.length() > 0), _held_proposal()),
        rx.cond(S.ai_note != "", rx.text(rx.icon("info", size=12), " ", S.ai_note, size="1",
                                         color_scheme="amber", data_testid="ai-note")),
        width="100%",
        spacing="2",
        padding_bottom="8px",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


def _held_proposal() -> rx.Component:
    """A proposal held back: "Check: … cannot both hold" (warnings) and "I ignored: 'gold
    tier'" (unused words), each its own callout, then one "Apply anyway" / "Reword": nothing
    changes until the marketer says so."""
    return rx.vstack(
        rx.cond(S.ai_warnings.length() > 0, _callout(
            rx.vstack(rx.foreach(S.ai_warnings, lambda w: rx.text("Check: ", w, size="2")),
                      spacing="1", width="100%", data_testid="ai-warnings"),
            "circle-alert")),
        rx.cond(S.ai_unused.length() > 0, _callout(
            rx.text("I ignored: ",
                    rx.foreach(S.ai_unused, lambda w: rx.code(w, margin_right="6px",
                                                              variant="soft")),
                    " — apply the rules above anyway?", size="2",
                    data_testid="ai-unused"),
            "triangle-alert")),
        rx.hstack(
            rx.button("Apply anyway", size="2", on_click=S.apply_anyway,
                      data_testid="ai-apply-anyway"),
            rx.button("Reword", size="2", variant="soft", color_scheme="gray",
                      on_click=S.discard_proposal, data_testid="ai-discard"),
            spacing="2", wrap="wrap",
        ),
        spacing="2", width="100%",
    )


def _callout(body: rx.Component, icon: str) -> rx.Component:
    return rx.callout.root(rx.callout.icon(rx.icon(icon, size=16)), body,
                           color_scheme="amber", size="1", width="100%", role="alert")


def rule_builder() -> rx.Component:
    return rx.vstack(
        ai_prompt_box(),
        rx.el.datalist(rx.foreach(S.cities, lambda c: rx.el.option(value=c)),
                       id="known-cities"),
        rx.foreach(S.rows, lambda row: rx.cond(row["kind"].to(str) == "group",
                                               _group_row(row), _rule_row(row))),
        rx.el.style("""
            .rb-select { padding: 6px 8px; border-radius: 6px; font-size: 14px;
              border: 1px solid var(--gray-7); background: var(--color-surface); }
            .rb-select:focus { outline: 2px solid var(--accent-8); }
        """),
        spacing="2",
        width="100%",
    )

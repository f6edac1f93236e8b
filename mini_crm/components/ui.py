"""Small reusable UI pieces: stat cards, empty states, pagination, badges, section cards.

Numbers arrive already formatted (Indian grouping, ₹) from the states, which use
`mini_crm.core.formatting`; components only lay them out.
"""

from __future__ import annotations

from typing import Any

import reflex as rx


def stat_card(label: str, value: Any, icon: str, hint: Any = "", test_id: str = "",
              loading: Any = False) -> rx.Component:
    """A headline figure; `loading` shows a skeleton in place of the value."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(label, size="2", color_scheme="gray", weight="medium"),
                rx.spacer(),
                rx.center(rx.icon(icon, size=16), width="30px", height="30px",
                          border_radius="8px", background_color=rx.color("accent", 3),
                          color=rx.color("accent", 11)),
                align="center",
                width="100%",
            ),
            rx.skeleton(
                # A phone's half-width card still shows ₹12,34,56,789 whole.
                rx.heading(value, size=rx.breakpoints(initial="4", sm="6", lg="7"),
                           weight="bold", data_testid=test_id or None,
                           white_space="nowrap", max_width="100%"),
                loading=loading,
            ),
            rx.text(hint, size="1", color_scheme="gray"),
            spacing="2",
            align="start",
            width="100%",
        ),
        size="2",
        width="100%",
    )


def section(title: str, *children: rx.Component, actions: rx.Component | None = None,
            subtitle: Any = "", **props: Any) -> rx.Component:
    """A titled card: the building block of dashboards and detail pages."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.heading(title, size="3", weight="bold"),
                    *([] if isinstance(subtitle, str) and not subtitle
                      else [rx.text(subtitle, size="1", color_scheme="gray")]),
                    spacing="1",
                    # The heading's text wraps beside the actions; when both no longer
                    # fit, the actions go under it, whole (a long subtitle squeezed "Find
                    # customers like its buyers" out of its own button).
                    flex="1 1 280px",
                    min_width="0",
                ),
                *([rx.box(actions, flex_shrink="0", max_width="100%")]
                  if actions is not None else []),
                align="center",
                justify="between",
                wrap="wrap",
                width="100%",
            ),
            *children,
            spacing="4",
            width="100%",
        ),
        size="2",
        width="100%",
        **props,
    )


def empty_state(icon: str, title: str, body: Any, action: rx.Component | None = None
                ) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(rx.icon(icon, size=24), width="52px", height="52px", border_radius="50%",
                      background_color=rx.color("accent", 3), color=rx.color("accent", 10)),
            rx.heading(title, size="4"),
            rx.text(body, color_scheme="gray", size="2", text_align="center", max_width="420px"),
            *([action] if action is not None else []),
            align="center",
            spacing="3",
        ),
        padding_y="56px",
        width="100%",
    )


def pager(page: rx.Var, pages: rx.Var, total: rx.Var, on_prev: Any, on_next: Any,
          noun: str = "rows", summary: Any = None) -> rx.Component:
    """Previous/next controls; `summary` (e.g. "26–50 of 300") replaces the plain total."""
    one = noun[:-1] if noun.endswith("s") else noun
    counted = rx.fragment(total, " ", rx.cond(total == 1, one, noun))
    return rx.hstack(
        rx.text(summary if summary is not None else counted, size="2", color_scheme="gray"),
        rx.spacer(),
        rx.text("Page ", page, " of ", pages, size="2", color_scheme="gray"),
        rx.hstack(
            rx.icon_button(rx.icon("chevron-left", size=16), variant="soft", size="2",
                           color_scheme="gray", on_click=on_prev, disabled=page <= 1,
                           aria_label="Previous page"),
            rx.icon_button(rx.icon("chevron-right", size=16), variant="soft", size="2",
                           color_scheme="gray", on_click=on_next, disabled=page >= pages,
                           aria_label="Next page"),
            spacing="2",
        ),
        align="center",
        width="100%",
        spacing="4",
        padding_top="12px",
    )


def sort_header(label: str, column: str, current: rx.Var, descending: rx.Var, on_sort: Any,
                justify: str = "start", **props: Any) -> rx.Component:
    """A column header that sorts on click and shows the direction when it is the sort."""
    active = current == column
    return rx.table.column_header_cell(
        rx.button(
            label,
            rx.cond(active, rx.icon(rx.cond(descending, "arrow-down", "arrow-up"), size=14),
                    rx.icon("chevrons-up-down", size=14, opacity="0.4")),
            variant="ghost",
            color_scheme=rx.cond(active, "indigo", "gray"),
            size="2",
            on_click=on_sort(column),
            aria_label=f"Sort by {label.lower()}",
            high_contrast=True,
            weight="bold",
        ),
        justify=justify,
        aria_sort=rx.cond(active, rx.cond(descending, "descending", "ascending"), "none"),
        **props,
    )


def loading_bar(loading: rx.Var) -> rx.Component:
    """A thin progress line that keeps its height either way, so nothing jumps."""
    return rx.box(rx.cond(loading, rx.progress(duration="1s", size="1")), height="4px",
                  width="100%", margin_y="-10px", data_testid="page-loading")


# Responsive `display` for table parts: a column a phone can do without, and a line
# that stands in for such columns on a phone only.
WIDE_ONLY = ["none", "none", "table-cell"]
PHONE_ONLY = ["block", "block", "none"]


def status_badge(status: rx.Var) -> rx.Component:
    return rx.badge(
        status,
        color_scheme=rx.match(
            status,
            ("delivered", "green"), ("completed", "green"), ("sent", "blue"),
            ("sending", "blue"), ("scheduled", "amber"), ("shipped", "blue"),
            ("processing", "amber"), ("failed", "red"), ("cancelled", "gray"),
            ("refunded", "orange"), ("undelivered", "orange"), ("draft", "gray"),
            ("sent · awaiting receipts", "blue"), ("A/B testing", "violet"),
            "gray",
        ),
        variant="soft",
        radius="full",
    )


# Scroll shadows (Lea Verou's technique): the two "local" covers scroll with the content
# and hide a shadow once that edge is reached; the two "scroll" shadows stay at the
# edges. So a table wider than its box shows a shadow on the side that has more columns.
_SCROLL_SHADOWS = {
    "background": (
        "linear-gradient(to right, var(--color-panel-solid) 30%, transparent) left / 40px "
        "100% no-repeat local, "
        "linear-gradient(to left, var(--color-panel-solid) 30%, transparent) right / 40px "
        "100% no-repeat local, "
        "radial-gradient(farthest-side at 0 50%, var(--black-a5), transparent) left / 14px "
        "100% no-repeat scroll, "
        "radial-gradient(farthest-side at 100% 50%, var(--black-a5), transparent) right / "
        "14px 100% no-repeat scroll"),
}


def responsive_table(*children: rx.Component, hint: str = "Swipe sideways for more columns",
                     **props: Any) -> rx.Component:
    """Every table of the app: `rx.table.root(*children, **props)` in a box that scrolls
    sideways when the table is wider than the screen, with a visible sign that it does.

    On a phone the table keeps each cell on one line (its natural width, so no column is
    squeezed into tall, one-word-per-line rows) and the box scrolls; shadows mark the
    side with more columns, and a one-line hint under it says so, only while the table is
    wider than its box (TABLE_OVERFLOW_SCRIPT marks it). From the `md` breakpoint up the
    table fits its box as before (`min_width` from `props` kept).
    """
    wide = props.pop("min_width", "0")
    table = rx.table.root(*children, min_width=rx.breakpoints(initial="max-content", md=wide),
                          white_space=rx.breakpoints(initial="nowrap", md="normal"), **props)
    return rx.box(
        rx.box(table, overflow_x="auto", width="100%", style=_SCROLL_SHADOWS,
               class_name="table-scroll", tab_index=0, role="region",
               aria_label="Table, scrolls sideways"),
        rx.text(rx.icon("move-horizontal", size=12), " ", hint, size="1",
                color_scheme="gray", display=rx.breakpoints(initial="flex", md="none"),
                align_items="center", gap="4px", padding_top="6px",
                class_name="table-scroll-hint"),
        width="100%",
        # Hidden until the script has measured the table wider than its box: a table that
        # fits a phone (the dashboard's three-column Top cities) said "swipe" (issue 14).
        style={"&:not([data-overflows='true']) > .table-scroll-hint": {
            "display": "none !important"}},
    )


# Marks every responsive_table's outer box with data-overflows="true" while its table is
# wider than the scrolling box, and "false" otherwise; measured again whenever the box or
# the table changes size (a window turned, rows loaded). Loaded once by page_shell.
TABLE_OVERFLOW_SCRIPT = """
if (!window.__mcTableOverflow) {
  window.__mcTableOverflow = true;
  const mark = (box) => {
    const wider = String(box.scrollWidth > box.clientWidth + 1);
    const outer = box.parentElement;
    if (outer && outer.dataset.overflows !== wider) outer.dataset.overflows = wider;
  };
  const resized = new ResizeObserver((entries) => entries.forEach((e) => {
    const box = e.target.closest('.table-scroll');
    if (box) mark(box);
  }));
  // Only new boxes and tables are observed here (observing reports their size at once);
  // measuring every box on every DOM change would force a layout per change.
  const watched = new WeakSet();
  const watch = (el) => { if (el && !watched.has(el)) { watched.add(el); resized.observe(el); } };
  const scan = () => document.querySelectorAll('.table-scroll').forEach((box) => {
    watch(box);
    watch(box.firstElementChild);
  });
  new MutationObserver(scan).observe(document.body, {childList: true, subtree: true});
  scan();
}
"""


def confirm_dialog(trigger: rx.Component, *, title: Any, body: Any, confirm: Any,
                   on_confirm: Any, cancel: Any = "Cancel", danger: bool = False,
                   confirm_test_id: str = "", cancel_test_id: str = "") -> rx.Component:
    """Every "are you sure?" of the app: `trigger` (a button, the trigger's only child)
    opens an alert dialog with `title`, `body`, a grey `cancel` button and a `confirm`
    button that runs `on_confirm`; `danger` paints the confirm button red (for what
    cannot be undone). Texts may be strings or string Vars.

    Radix's alert dialog gives the keyboard behaviour: focus moves into the dialog (onto
    Cancel, the safe choice), Tab stays inside it, Escape or Cancel closes it having done
    nothing, and focus returns to the trigger. A click outside does not close it, so a
    stray click never answers the question either way.
    """
    confirm_props: dict[str, Any] = {"color_scheme": "red"} if danger else {}
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(body),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(cancel, variant="soft", color_scheme="gray",
                                                 data_testid=cancel_test_id or None)),
                rx.alert_dialog.action(rx.button(confirm, on_click=on_confirm,
                                                 data_testid=confirm_test_id or None,
                                                 **confirm_props)),
                justify="end", spacing="3", margin_top="16px", wrap="wrap"),
            max_width="440px"),
    )

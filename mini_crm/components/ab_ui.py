"""The campaign page's A/B card: each variant's figures, the winner and why (or why
none), and while the test runs, what the rule says so far with a button per variant
to pick the winner by hand (state/ab_view.py, state/campaign_ab.py)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from mini_crm.components.ui import confirm_dialog, responsive_table, section
from mini_crm.state.campaign_ab import CampaignAbState as AB
from mini_crm.state.campaign_detail import CampaignDetailState as S

COLUMNS = [("Variant", "left"), ("Message", "left"), ("Recipients", "right"),
           ("Sent", "right"), ("Delivered", "right"), ("Conversions", "right"),
           ("Conv. rate", "right"), ("Revenue", "right")]


def _row(r: rx.Var) -> rx.Component:
    def num(key: str) -> rx.Component:
        return rx.table.cell(r[key].to(str), text_align="right", white_space="nowrap")

    return rx.table.row(
        rx.table.row_header_cell(rx.hstack(
            rx.badge(r["key"].to(str), size="2", variant="soft", color_scheme="indigo"),
            rx.cond(r["winner"].to(bool),
                    rx.badge(rx.icon("trophy", size=12), "winner", size="1",
                             color_scheme="grass", data_testid="variant-winner")),
            spacing="1", align="center", wrap="nowrap")),
        # A floor on the width: on a phone the table scrolls sideways rather than
        # squeezing the message to a word per line.
        rx.table.cell(rx.text(r["message"].to(str), size="1", min_width="200px",
                              max_width="320px", white_space="pre-wrap",
                              style={"overflowWrap": "anywhere"})),
        num("recipients"), num("sent"), num("delivered"), num("conversions"),
        num("conv_rate"), num("revenue"),
        data_testid="variant-row")


def _pick_confirm(key: rx.Var, note: rx.Var) -> rx.Component:
    """One "Variant X wins" button behind a confirmation: picking sends the variant to
    everyone still waiting at once, so it is asked like "Cancel campaign" is."""
    return confirm_dialog(
        rx.button("Variant ", key, " wins", size="1", variant="soft", disabled=AB.picking,
                  data_testid="pick-winner"),
        title="Make variant " + key + " the winner?", body=note,
        cancel="Keep testing", confirm="Send variant " + key, on_confirm=AB.pick(key),
        confirm_test_id="confirm-pick-winner")


def _pick_buttons(ab: rx.Var) -> rx.Component:
    return rx.cond(
        ab["testing"].to(bool) & S.can_launch,
        rx.vstack(
            rx.hstack(
                rx.text("Pick the winner now:", size="2"),
                rx.foreach(ab["keys"].to(list[str]),
                           lambda k: _pick_confirm(k, ab["pick_note"].to(str))),
                spacing="2", align="center", wrap="wrap"),
            rx.cond(AB.error != "", rx.text(AB.error, size="1", color_scheme="red",
                                            role="alert")),
            spacing="1"),
    )


def ab_section(c: rx.Var) -> rx.Component:
    ab = c["ab"].to(dict[str, Any])
    return rx.cond(ab["has"].to(bool), section(
        "A/B test",
        rx.callout(rx.vstack(
            rx.text(ab["headline"].to(str), weight="bold", data_testid="ab-headline"),
            rx.text(ab["reason"].to(str), size="2", data_testid="ab-reason"),
            rx.cond(ab["detail"].to(str) != "",
                    rx.text(ab["detail"].to(str), size="1", color_scheme="gray")),
            spacing="1"),
            icon=rx.cond(ab["testing"].to(bool), "hourglass",
                         rx.cond(ab["ended"].to(bool), "ban", "trophy")), size="1",
            width="100%",
            color_scheme=rx.cond(ab["testing"].to(bool) | ab["ended"].to(bool), "gray",
                                 "grass")),
        _pick_buttons(ab),
        rx.box(responsive_table(
            rx.table.header(rx.table.row(*(rx.table.column_header_cell(
                name, text_align=align, white_space="nowrap") for name, align in COLUMNS))),
            rx.table.body(rx.foreach(ab["rows"].to(list[dict[str, str]]), _row)),
            width="100%", size="1", variant="ghost"),
            width="100%", data_testid="variants-table"),
        subtitle=ab["settings"].to(str),
        data_testid="campaign-ab",
    ))

"""Data: CSV import with column mapping, a validation report and progress; the dead letters."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.consent_ui import suppression_section
from mini_crm.components.layout import page_shell
from mini_crm.components.ui import responsive_table
from mini_crm.state.data import BLANK_OPTIONS, ENCODING_OPTIONS, NOT_MAPPED
from mini_crm.state.data import DataState as S

UPLOAD_ID = "csv-upload"


def _upload() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("1. Choose a CSV file", size="4"),
        rx.hstack(
            rx.select(["customers", "orders"], value=S.kind, on_change=S.set_kind,
                      aria_label="What the file holds"),
            rx.text("Import customers first, then orders (orders for unknown customers make "
                    "placeholder customers).", size="2", color_scheme="gray"),
            align="center", spacing="3", wrap="wrap"),
        rx.upload(
            rx.vstack(rx.icon("upload", size=24), rx.text("Drop a .csv here or click to choose",
                                                          size="2"), align="center"),
            id=UPLOAD_ID, accept={"text/csv": [".csv"]}, max_files=1, multiple=False,
            on_drop=S.handle_upload(rx.upload_files(upload_id=UPLOAD_ID)),
            border=f"2px dashed {rx.color('gray', 7)}", padding="24px", width="100%",
            border_radius="10px", cursor="pointer", data_testid="csv-drop"),
        rx.hstack(
            rx.text("Encoding", size="2", weight="medium"),
            rx.select.root(
                rx.select.trigger(aria_label="The file's encoding", data_testid="encoding"),
                rx.select.content(*[rx.select.item(label, value=value)
                                    for value, label in ENCODING_OPTIONS]),
                value=S.encoding_choice, on_change=S.set_encoding),
            rx.select.root(
                rx.select.trigger(aria_label="What a blank cell does",
                                  data_testid="blank-cells"),
                rx.select.content(*[rx.select.item(label, value=value)
                                    for value, label in BLANK_OPTIONS]),
                value=S.blank_cells, on_change=S.set_blank_cells),
            align="center", spacing="3", wrap="wrap"),
        rx.cond(S.file_name != "", rx.hstack(
            rx.icon("file-text", size=14),
            rx.text(S.file_name, " · ", S.total_rows, rx.cond(S.total_rows == 1, " row · ",
                                                              " rows · "), S.dialect,
                    size="2", data_testid="file-summary"),
            spacing="2", align="center")),
        rx.cond(S.encoding_note != "", rx.callout(
            S.encoding_note, icon="triangle-alert", color_scheme="amber", size="1",
            data_testid="encoding-note")),
        rx.cond(S.preview.length() > 0, rx.vstack(
            rx.text("First rows as read:", size="1", color_scheme="gray"),
            rx.foreach(S.preview, lambda line: rx.code(line, size="1",
                                                       white_space="pre-wrap")),
            spacing="1", width="100%", data_testid="csv-preview")),
        rx.cond(S.error != "", rx.callout(S.error, icon="circle-alert", color_scheme="red",
                                          size="1", role="alert")),
        spacing="3", width="100%"), width="100%")


def _mapping() -> rx.Component:
    options = rx.Var.create([NOT_MAPPED]) + S.columns
    return rx.card(rx.vstack(
        rx.heading("2. Map columns", size="4"),
        rx.text("Columns you leave unmapped are kept as custom attributes (customers). "
                "Amounts may be written 1,499.00, 1,49,999 or ₹2,500; times without an "
                "offset are read in the brand's time zone.", size="2", color_scheme="gray"),
        rx.grid(rx.foreach(S.targets, lambda t: rx.vstack(
            rx.text(S.target_labels[t], size="2", weight="medium"),
            rx.select(options, value=S.mapping[t], on_change=lambda c: S.set_column(t, c),
                      width="100%"),
            spacing="1")), columns=rx.breakpoints(initial="2", md="3"), spacing="3",
            width="100%"),
        rx.hstack(
            rx.button(rx.icon("list-checks", size=16), "Validate", variant="soft",
                      on_click=S.run(False), disabled=S.busy, data_testid="validate"),
            rx.button(rx.icon("database", size=16), "Import", on_click=S.run(True),
                      disabled=S.busy, data_testid="import"),
            spacing="3"),
        rx.cond(S.busy | (S.progress > 0), rx.progress(value=S.progress, width="100%",
                                                       data_testid="import-progress")),
        rx.cond(S.message != "", rx.text(S.message, size="2", color_scheme="green",
                                         data_testid="import-message")),
        spacing="3", width="100%"), width="100%")


def _report() -> rx.Component:
    return rx.cond(S.errors.length() > 0, rx.card(rx.vstack(
        rx.heading("Rows with problems (skipped)", size="4"),
        rx.hstack(
            rx.text(S.report["invalid"].to(str), " invalid rows; the first ones:", size="2",
                    color_scheme="gray"),
            rx.cond(S.errors_url != "", rx.link(
                rx.hstack(rx.icon("download", size=14), rx.text("All row errors (CSV)"),
                          spacing="1", align="center"),
                href=S.errors_url, size="2", data_testid="errors-csv", is_external=True)),
            spacing="3", align="center", wrap="wrap"),
        responsive_table(
            rx.table.header(rx.table.row(rx.table.column_header_cell("Row"),
                                         rx.table.column_header_cell("Field"),
                                         rx.table.column_header_cell("Problem"))),
            rx.table.body(rx.foreach(S.errors, lambda e: rx.table.row(
                rx.table.cell(e["row"]), rx.table.cell(e["field"]),
                rx.table.cell(e["message"])))),
            width="100%", size="1"),
        width="100%"), width="100%"))


def _dead_letters() -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.heading("Ingestion dead letters", size="4"), rx.spacer(),
                  rx.button("Refresh", size="1", variant="soft",
                            on_click=S.load_dead_letters), width="100%"),
        rx.text("API batches that failed to write three times. Fix the cause, then replay.",
                size="2", color_scheme="gray"),
        rx.cond(S.dead.length() == 0, rx.text("None — everything queued was written.",
                                              size="2"),
                responsive_table(rx.table.body(rx.foreach(S.dead, lambda d: rx.table.row(
                    rx.table.cell(d["id"]), rx.table.cell(d["kind"]),
                    rx.table.cell(d["items"], " items"), rx.table.cell(d["error"]),
                    rx.table.cell(rx.button("Replay", size="1",
                                            on_click=S.replay(d["id"])))))), width="100%")),
        width="100%"), width="100%")


def data_page() -> rx.Component:
    return page_shell(
        "Data",
        _upload(),
        rx.cond(S.columns.length() > 0, rx.vstack(_mapping(), _report(), width="100%",
                                                  spacing="4")),
        _dead_letters(),
        suppression_section(),
        subtitle="Bring customers and orders in from a spreadsheet; the REST API is at "
                 "/api/docs.",
    )

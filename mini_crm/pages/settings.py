"""Settings: API keys for ingestion clients and integrations."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.layout import page_shell
from mini_crm.components.text_field import text_field
from mini_crm.components.ui import empty_state, loading_bar, responsive_table
from mini_crm.core.apikeys import SCOPES
from mini_crm.pages.settings_vocabulary import vocabulary_card
from mini_crm.state.base import AppState
from mini_crm.state.settings import ADMINS_ONLY
from mini_crm.state.settings import SettingsState as S

# The server refuses non-admins in every key handler; this only greys the controls out.
IS_ADMIN = AppState.user_role == "admin"

SCOPE_HELP = {"ingest": "push customers and orders", "campaigns": "create segments and campaigns",
              "ai": "use AI suggestions", "read": "read customers, orders, segments"}


def _create_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Create an API key", size="4"),
        rx.text("Keys authenticate the REST API (see ", rx.link("/api/docs", href="/api/docs",
                is_external=True), "). The key is shown once; only its hash is stored.",
                size="2", color_scheme="gray"),
        rx.cond(~IS_ADMIN, rx.callout(
            ADMINS_ONLY + " You can see which keys exist; ask an admin for a new one.",
            icon="lock", color_scheme="gray", size="1", width="100%",
            data_testid="keys-admin-only")),
        text_field(S.new_name, S.set_new_name, rev=S.form_rev,
                   placeholder="What is it for? e.g. Shop backend", width="100%",
                   aria_label="Key name",
                 data_testid="key-name", disabled=~IS_ADMIN),
        rx.hstack(*[rx.checkbox(f"{scope} — {SCOPE_HELP[scope]}",
                                checked=S.new_scopes.contains(scope),
                                on_change=lambda _c, s=scope: S.toggle_scope(s),
                                aria_label=f"Scope {scope}: {SCOPE_HELP[scope]}",
                                data_testid=f"key-scope-{scope}", disabled=~IS_ADMIN)
                    for scope in SCOPES], wrap="wrap", spacing="4"),
        rx.cond(S.error != "", rx.text(S.error, color_scheme="red", size="2", role="alert")),
        rx.button(rx.icon("key-round", size=16), "Create key", on_click=S.create_key,
                  data_testid="create-key", disabled=~IS_ADMIN),
        spacing="3", width="100%"), width="100%")


def _team_link() -> rx.Component:
    return rx.card(rx.hstack(
        rx.center(rx.icon("users-round", size=18), width="36px", height="36px",
                  border_radius="9px", background_color=rx.color("accent", 3),
                  color=rx.color("accent", 11), flex_shrink="0"),
        rx.vstack(
            rx.text("Team & audit", weight="bold", size="3"),
            rx.text("Members and roles, invitations, and the audit trail of sign-ins, keys "
                    "and launches.", size="2", color_scheme="gray"),
            spacing="1"),
        rx.spacer(),
        rx.cond(IS_ADMIN,
                rx.link(rx.button("Open", rx.icon("arrow-right", size=15), variant="soft"),
                        href="/settings/team", data_testid="team-link"),
                rx.badge("admins only", color_scheme="gray", variant="soft")),
        align="center", spacing="3", width="100%", wrap="wrap"), width="100%")


def _secret_banner() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("shield-alert")),
        rx.callout.text(rx.vstack(
            rx.text("Copy this key now — it will not be shown again.", weight="bold"),
            rx.code(S.new_secret, size="3", data_testid="new-secret"),
            rx.hstack(
                rx.button(rx.icon("copy", size=14), "Copy", size="1", variant="soft",
                          on_click=rx.set_clipboard(S.new_secret)),
                rx.button("Done", size="1", variant="outline", on_click=S.dismiss_secret)),
            spacing="2")),
        color_scheme="amber", width="100%")


def _key_row(k: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(k["name"]),
        rx.table.cell(rx.code(k["prefix"])),
        rx.table.cell(k["scopes"]),
        rx.table.cell(k["created"]),
        rx.table.cell(k["last_used"]),
        rx.table.cell(rx.cond(
            k["status"] == "active",
            rx.button("Revoke", size="1", variant="soft", color_scheme="red",
                      on_click=S.revoke(k["id"]), disabled=~IS_ADMIN),
            rx.badge("revoked", color_scheme="gray"))),
    )


def settings_page() -> rx.Component:
    return page_shell(
        "Settings",
        loading_bar(S.loading),
        rx.cond(S.new_secret != "", _secret_banner()),
        _create_form(),
        rx.card(
            rx.heading("API keys", size="4", margin_bottom="8px"),
            rx.cond(
                (S.keys.length() == 0) & ~S.loading,
                empty_state("key-round", "No API keys yet",
                            "Create one above, or run `mini-crm apikey create`."),
                responsive_table(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Name", "Key", "Scopes", "Created", "Last used", "")])),
                    rx.table.body(rx.foreach(S.keys, _key_row)),
                    width="100%", variant="ghost"),
            ),
            width="100%", overflow_x="auto"),
        _team_link(),
        vocabulary_card(),
        subtitle="API access for ingestion clients and integrations, and who may sign in.",
    )

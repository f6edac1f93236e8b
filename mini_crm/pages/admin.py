"""Team & audit (admins): members and roles, invites, and the audit trail."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.layout import page_shell
from mini_crm.components.text_field import text_field
from mini_crm.components.ui import (
    confirm_dialog,
    empty_state,
    loading_bar,
    pager,
    responsive_table,
    section,
)
from mini_crm.core.auth.users import ROLES
from mini_crm.state.admin import ALL_ACTIONS
from mini_crm.state.admin import TeamState as S
from mini_crm.state.base import AppState

ROLE_HELP = {"admin": "everything, plus team and API keys",
             "marketer": "build segments, launch campaigns",
             "viewer": "read-only"}
ROLE_COLOUR = {"admin": "indigo", "marketer": "green", "viewer": "gray"}


def _role_badge(role: rx.Var) -> rx.Component:
    return rx.badge(role, color_scheme=rx.match(role, *ROLE_COLOUR.items(), "gray"),
                    variant="soft", radius="full")


def _role_select(value: rx.Var, on_change, label: rx.Var | str, **props) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label=label, variant="soft", color_scheme="gray",
                          min_width="118px"),
        rx.select.content(*[rx.select.item(role.capitalize(), value=role) for role in ROLES]),
        value=value, on_change=on_change, size="2", **props)


def _notice() -> rx.Component:
    return rx.cond(
        S.notice != "",
        rx.callout(S.notice, icon=rx.cond(S.notice_ok, "check", "triangle-alert"),
                   color_scheme=rx.cond(S.notice_ok, "green", "red"), size="1", width="100%",
                   role="status", data_testid="team-notice"),
    )


def _member_row(m: rx.Var) -> rx.Component:
    me = m["is_me"] != ""
    active = m["status"] == "active"
    return rx.table.row(
        rx.table.row_header_cell(rx.hstack(
            rx.avatar(fallback=m["name"].to(str)[:1].upper(), size="2", radius="full"),
            rx.vstack(
                rx.hstack(rx.text(m["name"], weight="medium", size="2"),
                          rx.cond(me, rx.badge("you", size="1", variant="outline")),
                          spacing="2", align="center"),
                rx.text(m["email"], size="1", color_scheme="gray"),
                spacing="0"),
            spacing="3", align="center")),
        rx.table.cell(_role_select(m["role"], lambda role: S.change_role(m["id"], role),
                                   "Role of " + m["email"].to(str)),
                      vertical_align="middle"),
        rx.table.cell(rx.cond(active, rx.badge("active", color_scheme="green", variant="soft"),
                              rx.badge("disabled", color_scheme="red", variant="soft")),
                      vertical_align="middle"),
        rx.table.cell(rx.text(m["last_login"], size="2"), vertical_align="middle"),
        rx.table.cell(rx.cond(
            active,
            confirm_dialog(
                rx.button(rx.icon("user-x", size=14), "Disable", size="1", variant="soft",
                          color_scheme="red", disabled=me,
                          title=rx.cond(me, "You cannot disable your own account", ""),
                          aria_label="Disable " + m["email"].to(str)),
                title="Disable " + m["email"].to(str) + "?",
                body="They are signed out everywhere at once and cannot sign in until an "
                     "admin enables the account again. Their work stays.",
                confirm="Disable", on_confirm=S.disable(m["id"]), danger=True),
            rx.button(rx.icon("user-check", size=14), "Enable", size="1", variant="soft",
                      on_click=S.enable(m["id"]), aria_label="Enable " + m["email"].to(str)),
        ), justify="end", vertical_align="middle"),
        data_testid="member-row",
    )


def _members() -> rx.Component:
    return section(
        "Members",
        responsive_table(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Person"),
                rx.table.column_header_cell("Role"),
                rx.table.column_header_cell("Status"),
                rx.table.column_header_cell("Last sign-in"),
                rx.table.column_header_cell(""))),
            rx.table.body(rx.foreach(S.members, _member_row)),
            variant="ghost", width="100%"),
        subtitle=rx.fragment(
            "Admin: ", ROLE_HELP["admin"], " · Marketer: ", ROLE_HELP["marketer"],
            " · Viewer: ", ROLE_HELP["viewer"], ". The last admin cannot be demoted or disabled."),
        overflow_x="auto",
    )


def _invite_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            text_field(S.invite_email, S.set_invite_email,
                       rx.input.slot(rx.icon("mail", size=15)), rev=S.form_rev,
                       placeholder="name@company.com", type="email",
                       aria_label="Email address to invite", flex="1", min_width="220px",
                       data_testid="invite-email"),
            _role_select(S.invite_role, S.set_invite_role, "Role for the invite",
                         name="role"),
            rx.button(rx.icon("user-plus", size=15), "Invite", type="submit",
                      data_testid="invite-submit"),
            spacing="3", width="100%", wrap="wrap", align="center"),
        rx.cond(S.invite_error != "",
                rx.text(S.invite_error, color_scheme="red", size="2", role="alert",
                        margin_top="8px", data_testid="invite-error")),
        on_submit=lambda _form: S.invite(),
        width="100%",
    )


def _invite_row(i: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(i["email"], size="2", weight="medium")),
        rx.table.cell(_role_badge(i["role"])),
        rx.table.cell(rx.text(i["invited"], size="2", color_scheme="gray")),
        rx.table.cell(rx.button("Withdraw", size="1", variant="ghost", color_scheme="red",
                                on_click=S.revoke_invite(i["id"]),
                                aria_label="Withdraw invite for " + i["email"].to(str)),
                      justify="end"),
        data_testid="invite-row",
    )


def _invites() -> rx.Component:
    domains = rx.cond(
        S.allowed_domains != "",
        rx.fragment("Anyone at ", rx.code(S.allowed_domains), " can already sign in as a "
                    "marketer; invite someone to give them another role, or to let in an "
                    "address outside those domains."),
        "No email domain is open (ALLOWED_EMAIL_DOMAINS is empty): only invited addresses "
        "can sign in.")
    return section(
        "Invitations",
        _invite_form(),
        rx.cond(
            S.invites.length() > 0,
            responsive_table(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Address"),
                    rx.table.column_header_cell("Role"),
                    rx.table.column_header_cell("Invited"),
                    rx.table.column_header_cell(""))),
                rx.table.body(rx.foreach(S.invites, _invite_row)),
                variant="ghost", width="100%"),
            rx.text("No pending invitations.", size="2", color_scheme="gray"),
        ),
        subtitle=domains,
        overflow_x="auto",
    )


def _action_filter() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder="All actions", aria_label="Filter by action",
                          min_width="180px"),
        rx.select.content(
            rx.select.item("All actions", value=ALL_ACTIONS),
            rx.select.separator(),
            rx.foreach(S.action_options,
                       lambda a: rx.select.item(a["label"], value=a["value"])),
        ),
        value=S.audit_action, on_change=S.filter_action, size="2",
    )


def _event_row(e: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(e["at"], size="2", white_space="nowrap")),
        rx.table.cell(rx.text(e["actor"], size="2")),
        rx.table.cell(rx.badge(e["label"], variant="soft", radius="full", color_scheme=rx.match(
            e["action"], ("signin_refused", "red"), ("user_disabled", "red"),
            ("apikey_revoked", "orange"), ("invite_revoked", "orange"),
            ("apikey_created", "amber"), ("user_invited", "blue"), ("role_changed", "violet"),
            ("campaign_launched", "green"), ("campaign_scheduled", "green"),
            ("campaign_cancelled", "orange"), "gray"))),
        rx.table.cell(rx.text(e["target"], size="2")),
        rx.table.cell(rx.text(e["details"], size="2", color_scheme="gray")),
        data_testid="audit-row",
    )


def _audit() -> rx.Component:
    return section(
        "Audit trail",
        rx.cond(
            S.events.length() > 0,
            rx.box(
                responsive_table(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "When", "Who", "Action", "Target", "Details")])),
                    rx.table.body(rx.foreach(S.events, _event_row)),
                    variant="ghost", width="100%"),
                pager(S.page, S.pages, S.audit_total, S.prev_page, S.next_page,
                      noun="events", summary=S.audit_range),
                width="100%", overflow_x="auto"),
            empty_state("scroll-text", "Nothing recorded yet",
                        rx.cond(S.audit_action == ALL_ACTIONS,
                                "Sign-ins, API keys, invites and launches appear here.",
                                "No events of this kind. Choose “All actions” to see "
                                "everything.")),
        ),
        actions=_action_filter(),
        subtitle="Who did what, newest first. Times in the brand's time zone.",
    )


def _only_admins() -> rx.Component:
    return rx.card(empty_state(
        "shield-x", "Only admins can manage the team",
        rx.fragment("You are signed in as ", rx.text.strong(AppState.user_email), " (",
                    AppState.user_role, "). Members, invitations and the audit trail are "
                    "visible to admins only; ask an admin if you need access."),
        rx.link(rx.button("Back to the dashboard", variant="soft"), href="/"),
    ), width="100%", data_testid="admin-only")


def team_page() -> rx.Component:
    return page_shell(
        "Team & audit",
        rx.cond(
            AppState.user_role == "admin",
            rx.vstack(
                loading_bar(S.loading),
                _notice(),
                _members(),
                _invites(),
                _audit(),
                spacing="5", width="100%"),
            _only_admins(),
        ),
        subtitle="Who can sign in, with which role, and what happened.",
        actions=rx.link(rx.button(rx.icon("arrow-left", size=15), "Settings", variant="soft",
                                  color_scheme="gray"), href="/settings"),
    )

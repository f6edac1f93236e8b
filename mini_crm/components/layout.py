"""The app shell: sidebar navigation, top bar, page header and content area.

Every protected page renders through `page_shell`. Auth integration point: the
sign-in feature wraps the content here (and fills `account_menu`), so pages
never check sign-in themselves.
"""

from __future__ import annotations

import reflex as rx
from reflex.components.core.banner import has_connection_errors

from mini_crm.components.ui import TABLE_OVERFLOW_SCRIPT
from mini_crm.state.base import AppState
from mini_crm.state.customers import CustomersState

SIDEBAR_WIDTH = "240px"
TOPBAR_HEIGHT = "60px"

# (label, route, icon)
NAV = [
    ("Dashboard", "/", "layout-dashboard"),
    ("Customers", "/customers", "users"),
    ("Segments", "/segments", "filter"),
    ("Campaigns", "/campaigns", "megaphone"),
    ("Data", "/data", "database"),
    ("Team & audit", "/settings/team", "shield-check"),
    ("Settings", "/settings", "settings"),
]


def _is_active(href: str) -> rx.Var:
    # raw_path is what the browser shows; page.path is the route pattern.
    path = rx.State.router.page.raw_path
    if href == "/":
        return (path == "/") | (path == "")
    active = path.startswith(href)
    # A more specific entry (Team under Settings) takes the highlight from its parent.
    for _, other, _ in NAV:
        if other != href and other.startswith(href + "/"):
            active = active & ~path.startswith(other)
    return active


def _nav_item(label: str, href: str, icon: str) -> rx.Component:
    active = _is_active(href)
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=18),
            rx.text(label, size="2", weight="medium"),
            spacing="3",
            align="center",
            padding="8px 12px",
            border_radius="8px",
            width="100%",
            background_color=rx.cond(active, rx.color("accent", 4), "transparent"),
            color=rx.cond(active, rx.color("accent", 12), rx.color("gray", 11)),
            _hover={"background_color": rx.color("accent", 3), "color": rx.color("accent", 12)},
        ),
        href=href,
        underline="none",
        width="100%",
        aria_current=rx.cond(active, "page", "false"),
    )


def _brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.center(rx.icon("send", size=17, color="white"), width="32px", height="32px",
                      border_radius="9px", background_color=rx.color("accent", 9),
                      flex_shrink="0"),
            # Below 520 px the mark alone: the top bar's search needs the room (its
            # placeholder was cut to "Find a custome" at 390 px).
            rx.heading("Mini CRM", size="4", weight="bold", color=rx.color("gray", 12),
                       white_space="nowrap", display=["none", "block"]),
            align="center",
            spacing="2",
        ),
        href="/",
        underline="none",
    )


def sidebar() -> rx.Component:
    # The outer box stretches with the page (border and background reach the
    # bottom); the inner column stays put while the content scrolls.
    return rx.box(
        rx.vstack(
            rx.box(_brand(), height=TOPBAR_HEIGHT, display="flex", align_items="center",
                   padding_x="8px"),
            rx.text("Workspace", size="1", weight="medium", color_scheme="gray",
                    padding="16px 12px 6px"),
            rx.vstack(*(_nav_item(*item) for item in NAV), spacing="1", width="100%"),
            rx.spacer(),
            rx.link(rx.hstack(rx.icon("book-open", size=16), rx.text("API reference", size="2"),
                              spacing="2", align="center", padding="8px 12px"),
                    href="/api/docs", color_scheme="gray", underline="none",
                    is_external=True),
            height="100vh",
            position="sticky",
            top="0",
            padding="0 12px 16px",
            spacing="0",
            width="100%",
        ),
        width=SIDEBAR_WIDTH,
        min_width=SIDEBAR_WIDTH,
        border_right=f"1px solid {rx.color('gray', 4)}",
        background_color=rx.color("gray", 2),
        height="100%",
    )


def _mobile_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(rx.icon_button(rx.icon("menu", size=18), variant="ghost",
                                       color_scheme="gray", aria_label="Open navigation")),
        rx.menu.content(*(
            rx.menu.item(rx.hstack(rx.icon(icon, size=16), label, align="center"),
                         on_click=rx.redirect(href))
            for label, href, icon in NAV
        )),
    )


def _global_search() -> rx.Component:
    return rx.form(
        rx.input(
            rx.input.slot(rx.icon("search", size=15)),
            name="q",
            placeholder="Find a customer…",
            variant="soft",
            color_scheme="gray",
            size="2",
            width="100%",
            aria_label="Find a customer",
        ),
        on_submit=CustomersState.search_from_anywhere,
        reset_on_submit=True,
        width=["100%", "100%", "320px"],
    )


def account_menu() -> rx.Component:
    """Who is signed in, and sign-out.

    Sign-out is a POST (a link could be triggered by any page) and a full-page
    load, so the websocket reconnects without the revoked cookie; the hidden form
    is submitted from a script because the client router swallows form posts.
    """
    initial = rx.cond(AppState.user_name != "", AppState.user_name, AppState.user_email)
    return rx.fragment(
        rx.el.form(id="signout-form", method="post", action="/auth/logout",
                   display="none"),
        rx.menu.root(
            rx.menu.trigger(
                rx.button(
                    rx.avatar(fallback=initial.to(str)[:1].upper(), size="2", radius="full"),
                    variant="ghost", color_scheme="gray", aria_label="Account",
                    data_testid="account-menu", padding="0",
                ),
            ),
            rx.menu.content(
                rx.box(
                    rx.text(initial, weight="medium", size="2"),
                    rx.text(AppState.user_email, size="1", color_scheme="gray"),
                    rx.badge(AppState.user_role, size="1", margin_top="4px"),
                    padding="6px 8px",
                ),
                rx.menu.separator(),
                rx.menu.item(
                    rx.hstack(rx.icon("log-out", size=14), "Sign out", align="center"),
                    on_click=rx.call_script(
                        "document.getElementById('signout-form').submit()"),
                    data_testid="sign-out",
                ),
            ),
        ),
    )


def top_bar() -> rx.Component:
    return rx.hstack(
        rx.mobile_and_tablet(rx.hstack(_mobile_menu(), _brand(), align="center", spacing="3")),
        rx.spacer(),
        _global_search(),
        account_menu(),
        align="center",
        spacing="4",
        width="100%",
        height=TOPBAR_HEIGHT,
        padding_x=["16px", "20px", "32px"],
        position="sticky",
        top="0",
        z_index="10",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        background_color=rx.color("gray", 1),
        data_testid="top-bar",
    )


def reconnecting_banner() -> rx.Component:
    """Shown from the websocket's first failed reconnect (about a second after it drops):
    the page stays as it is, inputs included, and resumes when the socket is back."""
    return rx.cond(
        has_connection_errors,
        rx.hstack(
            rx.spinner(size="1"),
            rx.text("Reconnecting… what you typed is kept and nothing is lost.", size="2",
                    weight="medium"),
            position="fixed", top="0", left="0", right="0", z_index="1000",
            justify="center", align="center", padding="8px 16px",
            background_color=rx.color("amber", 4), color=rx.color("amber", 12),
            border_bottom=f"1px solid {rx.color('amber', 7)}",
            role="status", data_testid="reconnecting",
        ),
    )


def page_error_banner() -> rx.Component:
    """What an unexpected handler error says (AppState.handler_failed), until dismissed."""
    return rx.cond(
        AppState.page_error != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("circle-alert")),
            rx.hstack(
                rx.callout.text(AppState.page_error, data_testid="page-error"),
                rx.spacer(),
                rx.icon_button(rx.icon("x", size=14), variant="ghost", color_scheme="red",
                               size="1", aria_label="Dismiss",
                               on_click=AppState.dismiss_page_error),
                width="100%", align="start"),
            color_scheme="red", role="alert", width="100%",
        ),
    )


def page_shell(title: str, *children: rx.Component, subtitle: str = "",
               actions: rx.Component | None = None,
               header: rx.Component | None = None) -> rx.Component:
    """A full page: navigation, top bar, a title row (with optional actions) and content.

    `header` replaces the title and subtitle (a detail page shows its record there).
    """
    header = rx.hstack(
        header if header is not None else rx.vstack(
            rx.heading(title, size="7", weight="bold", trim="both"),
            *([rx.text(subtitle, color_scheme="gray", size="2")] if subtitle else []),
            spacing="2",
            align="start",
        ),
        rx.spacer(),
        *([actions] if actions is not None else []),
        align="center",
        width="100%",
        wrap="wrap",
        spacing="3",
    )
    return rx.hstack(
        # The top bar is sticky: whatever the browser scrolls into view (a focused step
        # title or field, an anchor) stops below it instead of under it (issue 14).
        rx.el.style(f"html {{ scroll-padding-top: calc({TOPBAR_HEIGHT} + 12px); }}"),
        rx.script(TABLE_OVERFLOW_SCRIPT),
        reconnecting_banner(),
        rx.desktop_only(sidebar(), align_self="stretch"),
        rx.vstack(
            top_bar(),
            # Nothing of a page shows until the server has checked the session.
            rx.cond(
                AppState.signed_in,
                rx.vstack(page_error_banner(), header, *children, spacing="5", width="100%",
                          max_width="1320px",
                          padding=["20px 16px 48px", "24px 20px 48px", "32px 32px 64px"]),
                rx.center(rx.spinner(size="3"), padding="96px", width="100%"),
            ),
            width="100%",
            min_width="0",
            align="center",
            spacing="0",
        ),
        spacing="0",
        width="100%",
        min_height="100vh",
        align="stretch",
        background_color=rx.color("gray", 1),
    )

"""The sign-in page: the only page open to anonymous visitors."""

from __future__ import annotations

import reflex as rx

from mini_crm.state.login import LoginState as S


def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.center(rx.icon("send", size=20, color="white"), width="40px",
                              height="40px", border_radius="10px",
                              background_color=rx.color("accent", 9)),
                    rx.heading("Mini CRM", size="7"),
                    align="center", spacing="3"),
                rx.text("Audiences, personalised campaigns and insight for your brand.",
                        color_scheme="gray", size="2"),
                rx.button(rx.icon("log-in", size=16), "Sign in with Google", size="3",
                          width="100%", on_click=S.start, data_testid="sign-in"),
                rx.cond(
                    S.dev_provider,
                    rx.callout(
                        rx.text("Development sign-in: no Google credentials are configured, "
                                "so this uses a local test identity provider (",
                                rx.code(S.provider_url), "). Any email you type there is "
                                "accepted as verified. This is impossible in production."),
                        icon="triangle-alert", color_scheme="amber", size="1",
                        data_testid="dev-provider-notice"),
                ),
                spacing="4", width="100%"),
            size="4", width="min(420px, 92vw)"),
        min_height="100vh",
        background_color=rx.color("gray", 2),
    )

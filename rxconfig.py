"""Reflex configuration; every value comes from mini_crm settings."""

import reflex as rx

from mini_crm.settings import get_settings

_settings = get_settings()

config = rx.Config(
    app_name="mini_crm",
    telemetry_enabled=False,
    frontend_port=_settings.port,
    backend_port=_settings.port,
    cors_allowed_origins=[_settings.app_url],
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)

"""The bundled vendor simulator (an ASGI app): mounted at /vendor by default, or run alone
with `mini-crm vendor`. See mini_crm.vendor.app."""

from mini_crm.vendor.app import create_app

__all__ = ["create_app"]

"""The bundled vendor simulator (an ASGI app): mounted at /vendor by default, or run alone
with `mini-crm simulator`. See mini_crm.simulator.app."""

from mini_crm.simulator.app import create_app

__all__ = ["create_app"]

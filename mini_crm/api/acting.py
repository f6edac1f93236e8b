"""ASGI middleware giving each HTTP request its own audit "acting as" (core/auth/audit).

The API-key dependency (`deps.require_scope`) fills it in once the key is accepted, so
every audit entry a request writes without a label of its own (campaign launch, cancel,
schedule, A/B winner, segment changes) names the key: "api key nightly-sync (mc_ab12)".
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mini_crm.core.auth import audit


class ActingAsMiddleware:
    """Wraps each HTTP request in `audit.acting_scope()`; other scopes pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with audit.acting_scope():
            await self.app(scope, receive, send)

"""HEAD answers wherever GET does, for every route of the API app, by one mechanism.

FastAPI's routes answer only the methods they were declared with, so `HEAD
/api/v1/customers` met the fallback's 405 although GET works there (RFC 9110 9.3.2:
HEAD is GET without the body; a client checks a URL, its status or its headers with
it). Declaring HEAD on every GET route would double the OpenAPI operations; instead this
ASGI middleware runs a HEAD request as GET when one of the API app's own routes (not
Reflex's mount) takes GET at that path, and sends the answer's status and headers
(Content-Length included: the size GET would send) without its body. Authentication,
scopes and rate limits apply as for GET. Anywhere else HEAD goes on unchanged (a
POST-only path still answers 405 naming what it allows).
"""

from __future__ import annotations

from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def is_fallback(route: object) -> bool:
    """The /api catch-all (errors.install_api_fallback) takes every method: it is no
    GET route of its own."""
    return getattr(getattr(route, "endpoint", None), "api_fallback", False)


def _get_route_matches(app: ASGIApp, scope: Scope) -> bool:
    """Would a route of `app` (an included router's too; not a mount, not the
    fallback) take GET at this path?"""
    routes = getattr(getattr(app, "router", None), "routes", ())
    as_get = {**scope, "method": "GET"}
    return any(not isinstance(r, Mount) and not is_fallback(r)
               and r.matches(as_get)[0] == Match.FULL for r in routes)


class HeadAsGetMiddleware:
    """Pure ASGI: HEAD on a GET route runs the GET and drops the body."""

    def __init__(self, app: ASGIApp, routes_app: ASGIApp) -> None:
        self.app = app
        self.routes_app = routes_app  # the FastAPI app whose routes decide

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" \
                or not _get_route_matches(self.routes_app, scope):
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)

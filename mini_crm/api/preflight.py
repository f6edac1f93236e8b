"""CORS preflights under /api answered by the API itself, outside Reflex's CORS layer.

Reflex wraps the whole server (our FastAPI app included) in Starlette's CORSMiddleware,
which answers a preflight (OPTIONS with Origin and Access-Control-Request-Method) before
any route sees it: `200 OK` in plain text when allowed, `400 Disallowed CORS origin` in
plain text when not. Under /api every answer is the JSON error shape (docs/api.md), so
this middleware sits outside Reflex's (mini_crm.py wraps the app Reflex builds) and
answers /api preflights itself, with the same CORS policy (the same origins, methods
and headers Reflex configures): an allowed preflight is `204` with the CORS headers and
no body; a refused one is `403 forbidden` in the error shape, naming what was refused.
Every other request, and preflights outside /api, go on unchanged.
"""

from __future__ import annotations

from collections.abc import Collection

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mini_crm.api.errors import error_body, is_api_path

# Headers of Starlette's preflight answer that describe its plain-text body.
_BODY_HEADERS = {"content-length", "content-type"}


def is_preflight(scope: Scope) -> bool:
    """A CORS preflight as Starlette's CORSMiddleware recognises one."""
    if scope["type"] != "http" or scope["method"] != "OPTIONS":
        return False
    headers = Headers(scope=scope)
    return "origin" in headers and "access-control-request-method" in headers


class ApiPreflightMiddleware:
    """Pure ASGI, outermost: answers CORS preflights under /api (see the module doc).

    `allow_origins` is the server's CORS origin list (rxconfig's cors_allowed_origins);
    methods and headers are allowed as Reflex allows them (all, with credentials)."""

    def __init__(self, app: ASGIApp, allow_origins: Collection[str]) -> None:
        self.app = app
        self.allow_origins = list(allow_origins)
        # Only its preflight_response is used: the same policy as Reflex's layer.
        self.policy = CORSMiddleware(app, allow_origins=self.allow_origins,
                                     allow_methods=["*"], allow_headers=["*"],
                                     allow_credentials=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_preflight(scope) or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        await self.answer(scope)(scope, receive, send)

    def answer(self, scope: Scope) -> Response:
        """The preflight's answer: 204 with the CORS headers, or 403 in the error shape."""
        request = Headers(scope=scope)
        decided = self.policy.preflight_response(request_headers=request)
        headers = {k: v for k, v in decided.headers.items() if k not in _BODY_HEADERS}
        if decided.status_code < 400:
            return Response(status_code=204, headers=headers)
        origin = request["origin"]
        method = request["access-control-request-method"]
        refused: list[str] = []
        reasons: list[str] = []
        if not self.policy.is_allowed_origin(origin):
            refused.append("origin")
            allowed = ", ".join(self.allow_origins) or "none"
            reasons.append(f"pages at {origin} may not call this API from a browser "
                           f"(allowed origins: {allowed}; set APP_URL)")
        if method not in self.policy.allow_methods:
            refused.append("method")
            reasons.append(f"{method} is not a method this API takes")
        if "access-control-request-private-network" in request:
            refused.append("private-network")
            reasons.append("requests from a public page to a private network are refused")
        message = "; ".join(reasons) or "this cross-origin request is refused"
        return JSONResponse(error_body("forbidden", message,
                                       {"origin": origin, "method": method,
                                        "refused": refused}),
                            status_code=403, headers=headers)

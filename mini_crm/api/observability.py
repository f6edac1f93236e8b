"""GET /metrics and the middleware that counts, times and tags every HTTP request.

The middleware is plain ASGI (no per-request objects beyond a closure): it takes or makes
the request id (X-Request-ID), sets it for the logs and for jobs enqueued meanwhile,
returns it in the response, and records mc_http_requests_total and
mc_http_request_duration_seconds under the route's TEMPLATE
(`/api/v1/customers/{external_id}`), never the raw path, so the series stay bounded
whatever clients send. Paths no route matched count as `unmatched`.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mini_crm.api.errors import ApiError
from mini_crm.observability import logs, metrics
from mini_crm.settings import get_settings

log = logging.getLogger("mini_crm.http")
router = APIRouter(tags=["operations"])


@router.get("/metrics", summary="Prometheus metrics (text format)", include_in_schema=False,
            response_class=Response)
def get_metrics(request: Request) -> Response:
    """The Prometheus text exposition of this instance's processes plus the shared state
    (see mini_crm/observability/metrics.py for every series).

    Needs `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set (401
    otherwise); without a token it is open in development and answers 404 in production.
    """
    token = get_settings().metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise ApiError(401, "GET /metrics needs the bearer token set in METRICS_TOKEN",
                           headers={"WWW-Authenticate": "Bearer"})
    elif get_settings().is_production:
        raise ApiError(404, "metrics are off: set METRICS_TOKEN to enable /metrics in "
                       "production")
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


CONVERTER = re.compile(r"\{(\w+):\w+\}")


def route_template(scope: Scope) -> str:
    """The matched route's template, prefixed by its mount; `unmatched` when none."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    path = getattr(route, "path", "") or ""
    if isinstance(route, Mount):
        # A mounted app without routing of its own (Reflex's frontend and socket, static
        # files): its mount point, never the path inside it.
        path = path + "/*" if path else "/*"
    # `{external_id:path}` is labelled `{external_id}`: the converter is routing detail,
    # and the documented series name the template as the API reference writes it.
    return (scope.get("root_path", "") or "") + CONVERTER.sub(r"{\1}", path)


class ObservabilityMiddleware:
    """Request id, request counter and latency histogram for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = logs.accept_request_id(Headers(scope=scope).get(logs.HEADER))
        token = logs.request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[logs.HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_tagged)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = scope.get("method", "GET")
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(method, route).observe(elapsed)
            if route != "/metrics":
                log.info("%s %s %d %.1f ms", method, route, status, elapsed * 1000,
                         extra=_fields(method, route, status, elapsed))
            logs.request_id.reset(token)


def _fields(method: str, route: str, status: int, elapsed: float) -> dict[str, Any]:
    return {"method": method, "route": route, "status": status,
            "duration_ms": round(elapsed * 1000, 1)}

"""One JSON error shape for the whole API: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount, Route
from starlette.types import Receive, Scope, Send

from mini_crm.core import plain_errors
from mini_crm.core.campaigns.errors import CampaignError
from mini_crm.core.segments import RulesError

log = logging.getLogger(__name__)
# A service that is down or restarting: the client should retry, not read a 500.
RETRY_AFTER_SECONDS = "5"

API_PREFIX = "/api"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 411: "length_required",
          413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_error",
          429: "rate_limited", 500: "internal_error", 503: "unavailable"}


class ApiError(Exception):
    """Raise anywhere under a route to answer with the standard error shape."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 details: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.details = details
        self.headers = headers


def status_conflict(message: str, status: str | None = None) -> ApiError:
    """The one answer for "the campaign's current status refuses this request" (cancel
    a finished campaign, edit one already sending, delete a scheduled one...): 409
    `conflict`, details {"field": "status", "status": the status when known}. A request
    whose own content is wrong is a 422 naming its field instead (docs/api.md, "Error
    codes")."""
    details: dict[str, Any] = {"field": "status"}
    if status is not None:
        details["status"] = status
    return ApiError(409, message, code="conflict", details=details)


def campaign_fault(exc: CampaignError) -> ApiError:
    """A campaign request whose content is wrong, as every campaign route answers it: 422.

    Rules that do not validate are `invalid_rules` with the rule's path, field and reason
    (details {"path", "field", "message"}), the same answer segment and AI routes give:
    the campaign core wraps the RulesError (`raise CampaignError(...) from exc`), so it
    is the cause. Anything else is `invalid_campaign` with {"field"} naming the input."""
    cause = exc.__cause__
    if isinstance(cause, RulesError):
        return ApiError(422, str(cause), code="invalid_rules", details=cause.as_detail())
    return ApiError(422, exc.message, code="invalid_campaign", details={"field": exc.field})


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


# Documented on routes as `responses=ERROR_RESPONSES` so the OpenAPI spec shows the shape.
ERROR_SCHEMA = {
    "content": {"application/json": {"example": error_body(
        "validation_error", "items[3].amount: must be greater than 0", [])}}
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details),
                            status_code=exc.status, headers=exc.headers)

    # Bad rules reach routes from segments, campaigns and AI alike: one answer for all,
    # naming the rule's path, its field and what was expected.
    @app.exception_handler(RulesError)
    async def _rules_error(_: Request, exc: RulesError) -> JSONResponse:
        return JSONResponse(error_body("invalid_rules", str(exc), exc.as_detail()),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(_CODES.get(exc.status_code, "error"), str(exc.detail)),
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(sa.exc.OperationalError)
    async def _database_down(request: Request, exc: sa.exc.OperationalError) -> JSONResponse:
        log.warning("%s %s: database unavailable: %s", request.method, request.url.path,
                    str(exc.orig or exc).splitlines()[0])
        return JSONResponse(error_body("unavailable", "the database is unavailable; "
                                       "retry later"), status_code=503,
                            headers={"Retry-After": RETRY_AFTER_SECONDS})

    @app.exception_handler(redis.ConnectionError)
    @app.exception_handler(redis.TimeoutError)
    async def _redis_down(request: Request, exc: redis.RedisError) -> JSONResponse:
        log.warning("%s %s: Redis unavailable: %s", request.method, request.url.path, exc)
        return JSONResponse(error_body("unavailable", "the queue (Redis) is unavailable; "
                                       "retry later"), status_code=503,
                            headers={"Retry-After": RETRY_AFTER_SECONDS})

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse(error_body("bad_request", not_json_message(exc.body)),
                                status_code=400)
        # A required body that was not sent (FastAPI reports it as a missing "body"):
        # the same 400 as a body that is not JSON, since nothing could be read.
        if any(e.get("type") == "missing" and tuple(e.get("loc", ())) == ("body",)
               for e in errors):
            return JSONResponse(error_body("bad_request", plain_errors.EMPTY_BODY),
                                status_code=400)
        details = [{"loc": list(e.get("loc", ())), "message": _message(request, dict(e)),
                    "type": e.get("type")} for e in errors]
        message = details[0]["message"] if details else "the request is not valid"
        return JSONResponse(error_body("validation_error", message, details), status_code=422)


# Where FastAPI says a parameter was read from (the first item of an error's loc), for
# the parts of the URL: their errors are worded as being "in the address".
_ADDRESS_PARTS = {"query": "query_params", "path": "path_params"}


def _message(request: Request, error: dict[str, Any]) -> str:
    """An error of the request's schema in the user's words (core/plain_errors): a body
    field by its dotted path; a query or path parameter by its name in the URL, with
    its whole range when it is a bounded whole number (read from the route)."""
    loc = tuple(error.get("loc", ()))
    if len(loc) != 2 or loc[0] not in _ADDRESS_PARTS:
        return plain_errors.message(error)
    name = str(loc[1])
    param = _route_param(request, _ADDRESS_PARTS[str(loc[0])], name)
    low = high = None
    hint = None
    if param is not None:
        for rule in param.field_info.metadata:
            low = getattr(rule, "ge", low)
            high = getattr(rule, "le", high)
        hint = param.field_info.description
    return plain_errors.address_message(error, name, low=low, high=high, hint=hint)


def _route_param(request: Request, kind: str, name: str) -> Any:
    """The matched route's query or path parameter `name` (a FastAPI ModelField, whose
    field_info holds its constraints), looked for in the route's dependencies too; None
    when there is none (then the message names no range)."""
    route = request.scope.get("route")
    stack = [getattr(route, "dependant", None)]
    while stack:
        dependant = stack.pop()
        if dependant is None:
            continue
        for param in getattr(dependant, kind, ()):
            if param.alias == name or param.name == name:
                return param
        stack.extend(getattr(dependant, "dependencies", ()))
    return None


def not_json_message(body: Any) -> str:
    """"body is not valid JSON: <where and why>", the one wording on every route: the
    ingestion routes parse their bodies themselves, FastAPI parses the others and hands
    its handler the text that failed (RequestValidationError.body). An empty or
    whitespace-only body says so instead (plain_errors.EMPTY_BODY): the parser's
    "Expecting value: line 1 column 1" would send the user looking for a typo."""
    if isinstance(body, bytes | str) and not body.strip():
        return plain_errors.EMPTY_BODY
    try:
        json.loads(body)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        return f"body is not valid JSON: {exc}"
    return "body is not valid JSON"


def is_api_path(path: str) -> bool:
    """True for /api and everything under it (not /apiary)."""
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


class _Fallback:
    """The /api catch-all's ASGI endpoint (install_api_fallback)."""

    api_fallback = True  # read by api/head.py

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.answer(Request(scope, receive))
        await response(scope, receive, send)

    def answer(self, request: Request) -> Response:
        """405 naming the methods other routes take at this path, else 404."""
        # Which methods would a route (not this one, not a mount) take at this path?
        # Asked through the public BaseRoute.matches, whatever FastAPI wraps routes in.
        routes = [r for r in request.app.router.routes
                  if not isinstance(r, Mount) and getattr(r, "endpoint", None) is not self]
        allowed = {m for m in ALL_METHODS if any(
            r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)}
        if "GET" in allowed:
            allowed.add("HEAD")  # api/head.py answers HEAD wherever GET is answered
        if allowed:
            methods = ", ".join(sorted(allowed))
            return JSONResponse(error_body(
                "method_not_allowed", f"{request.method} is not allowed on {request.url.path}; "
                f"use {methods}", {"allowed": sorted(allowed)}), status_code=405,
                headers={"Allow": methods})
        return JSONResponse(error_body(
            "not_found", f"no API endpoint at {request.method} {request.url.path}; the "
            "endpoints are listed at /api/docs"), status_code=404)


def install_api_fallback(app: FastAPI) -> None:
    """Answer every unmatched /api request with the JSON error shape. Call it after the
    last router is included.

    Reflex mounts its own app at "" after these routes, and a mount matches every path:
    without this, an unknown /api path, or a known one with the wrong method, would get
    Reflex's HTML page. The fallback matches anything under /api and tells the two
    apart: 405 with `Allow` when another route has that path, else 404. It takes every
    method, TRACE and unknown ones included (a route with no method list), so none of
    them falls through to Reflex's plain-text answers.
    """
    fallback = _Fallback()
    for path in (API_PREFIX, API_PREFIX + "/{rest:path}"):
        # An ASGI object as endpoint: Starlette gives a plain function route ["GET"].
        app.router.routes.append(Route(path, fallback, methods=None, include_in_schema=False))

    # The last resort: a bug must still answer /api callers in the error shape (the
    # traceback goes to the log, never to the caller).
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Starlette re-raises after this answer, so the server logs the traceback.
        if not is_api_path(request.url.path):
            return PlainTextResponse("Internal Server Error", status_code=500)
        return JSONResponse(error_body("internal_error", "the server could not complete "
                                       "this request; it has been logged"), status_code=500)

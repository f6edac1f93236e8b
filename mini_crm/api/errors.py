"""One JSON error shape for the whole API: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

import redis
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mini_crm.core.segments import RulesError

log = logging.getLogger(__name__)
# A service that is down or restarting: the client should retry, not read a 500.
RETRY_AFTER_SECONDS = "5"

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
          415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
          503: "unavailable"}


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
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e.get("loc", ())), "message": e.get("msg"), "type": e.get("type")}
                   for e in exc.errors()]
        first = details[0] if details else {"loc": [], "message": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
        return JSONResponse(error_body("validation_error", f"{where}: {first['message']}",
                                       details), status_code=422)

"""Shared route dependencies: database sessions and API-key scopes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import Depends, Request
from sqlmodel import Session

from mini_crm.api.errors import ApiError, not_json_message
from mini_crm.core import apikeys, ratelimit
from mini_crm.core.auth import audit, sessions
from mini_crm.core.delivery import signing
from mini_crm.db import session_scope
from mini_crm.models import ApiKey
from mini_crm.settings import get_settings


def db_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


async def read_body(request: Request, limit: int) -> bytes:
    """The raw request body, refused with 413 past `limit` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"body is {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, f"body is over the limit of {limit} bytes")
    return bytes(body)


async def signed_items(request: Request, key: str, max_bytes: int,
                       max_items: int) -> list[Any]:
    """The list under `key` of a vendor callback's JSON body, after checking its
    HMAC-SHA256 signature over timestamp and raw body (core/delivery/signing; the same
    for receipts and inbound replies). Raises ApiError 401 (signature), 400 (not JSON),
    413 (over `max_bytes`) or 422 (not `{key: [...]}`, or more than `max_items`)."""
    settings = get_settings()
    body = await read_body(request, max_bytes)
    try:
        signing.verify(settings.receipt_signing_secret,
                       request.headers.get(signing.TIMESTAMP_HEADER),
                       request.headers.get(signing.SIGNATURE_HEADER), body,
                       now=time.time(), window_seconds=settings.receipt_window_seconds)
    except signing.SignatureError as exc:
        raise ApiError(401, exc.reason, code=exc.code) from exc
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, not_json_message(body)) from exc
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise ApiError(422, f"body must be {{\"{key}\": [...]}}", details={"field": key})
    if len(data[key]) > max_items:
        raise ApiError(422, f"at most {max_items} {key} per request, got {len(data[key])}",
                       details={"field": key})
    return data[key]


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'",
                       headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def key_label(key: ApiKey) -> str:
    """How an API key appears in the audit trail: "api key <name> (<prefix>)"."""
    return f"api key {key.name} ({key.prefix})"


def require_scope(scope: str) -> Callable[..., ApiKey]:
    """A dependency that admits a live API key holding `scope` (401 / 403 otherwise)."""
    if scope not in apikeys.SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def check(request: Request) -> ApiKey:
        token = _bearer(request)
        with session_scope() as session:
            key = apikeys.authenticate(session, token)
        if key is None:
            raise ApiError(401, "invalid or revoked API key",
                           headers={"WWW-Authenticate": "Bearer"})
        if scope not in key.scopes:
            raise ApiError(403, f"this API key lacks the '{scope}' scope",
                           details={"required": scope, "granted": key.scopes})
        limit = get_settings().api_rate_limit_per_minute
        decision = ratelimit.hit(f"key:{key.key_hash[:16]}", limit)
        if not decision.allowed:
            raise ApiError(429, f"rate limit of {limit} requests a minute reached for this key",
                           headers={"Retry-After": str(decision.retry_after)},
                           details={"retry_after_seconds": decision.retry_after})
        request.state.api_key = key
        audit.act_as(key_label(key))
        return key

    return check


def scope(name: str) -> object:
    """`Depends(...)` shorthand for routes: `key: ApiKey = scope("ingest")`."""
    return Depends(require_scope(name))


def require_reader(request: Request) -> object:
    """Browser downloads: a signed-in session cookie, else an API key with `read`."""
    token = request.cookies.get(sessions.COOKIE_NAME)
    if token:
        with session_scope() as session:
            user = sessions.current_user(session, token)
        if user is not None:
            return user
    return require_scope("read")(request)


def require_user_or_scope(scope: str) -> Callable[..., object]:
    """Browser links (a signed-in session cookie) or an API key holding `scope`."""
    check_key = require_scope(scope)

    def check(request: Request) -> object:
        token = request.cookies.get(sessions.COOKIE_NAME)
        if token:
            with session_scope() as session:
                user = sessions.current_user(session, token)
            if user is not None:
                return user
        return check_key(request)

    return check

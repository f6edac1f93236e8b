"""Logging for every role: plain text, or one JSON object per line (LOG_FORMAT=json),
each record carrying the request id of the HTTP request or job it belongs to.

The request id comes in as X-Request-ID (kept if it is a sane token, else replaced),
goes back in the response, rides along in the meta of every RQ job enqueued while the
request is handled, and is restored by the worker around the job (workers.launcher), so
`grep <id>` over app and worker logs follows a campaign from its launch to its batches.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from mini_crm.settings import get_settings

HEADER = "X-Request-ID"
META_KEY = "request_id"
request_id: ContextVar[str | None] = ContextVar("mini_crm_request_id", default=None)

# A client's id is kept only if it is a plain token: it is echoed in a header and written
# to logs, so nothing that could split a header or a log line gets through.
_SANE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_HANDLER_MARK = "_mini_crm_handler"
# Attributes every LogRecord has; anything else was passed with `extra=` and is logged.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(value: str | None) -> str:
    """The client's X-Request-ID when it is a sane token, else a fresh one."""
    return value if value and _SANE.match(value) else new_request_id()


class RequestIdFilter(logging.Filter):
    """Stamps `record.request_id` (None outside a request or job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # A caller may name the id itself (`extra={"request_id": ...}`): keep it, and
        # fill only records without one from the request or job being handled.
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message,
    request_id, role, any `extra=` fields, and the traceback as `exc` when there is one."""

    def __init__(self, role: str = "") -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        if self.role:
            out["role"] = self.role
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def make_handler(role: str = "", stream: Any = None) -> logging.Handler:
    """A stream handler in the configured format, with the request-id filter."""
    settings = get_settings()
    handler = logging.StreamHandler(stream or sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter(role))
    else:
        handler.setFormatter(logging.Formatter(
            f"%(asctime)s {role or '%(name)s'} %(levelname)s [%(request_id)s] %(message)s"))
    handler.addFilter(RequestIdFilter())
    setattr(handler, _HANDLER_MARK, True)
    return handler


def configure(role: str = "", stream: Any = None) -> logging.Handler:
    """Install this module's handler on the root logger (replacing one it installed
    before, leaving any other handler alone) at LOG_LEVEL; returns it."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler = make_handler(role, stream)
    root.addHandler(handler)
    settings = get_settings()
    root.setLevel(settings.log_level)
    # One line per HTTP request is for log pipelines (JSON); a terminal reading text
    # would drown in them, so there they show at DEBUG only.
    quiet = settings.log_format == "text" and settings.log_level != "DEBUG"
    logging.getLogger("mini_crm.http").setLevel(logging.WARNING if quiet else logging.NOTSET)
    return handler


def configure_app() -> None:
    """configure() for an app backend process (a Reflex lifespan task)."""
    configure("app")

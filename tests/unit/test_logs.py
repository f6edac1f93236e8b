"""Structured logs: the JSON formatter, and X-Request-ID in and out of the middleware."""

from __future__ import annotations

import io
import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mini_crm.api.observability import ObservabilityMiddleware
from mini_crm.observability import logs
from mini_crm.settings import get_settings


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    get_settings.cache_clear()
    out = io.StringIO()
    handler = logs.configure("test", stream=out)
    yield out
    logging.getLogger().removeHandler(handler)
    get_settings.cache_clear()


def app() -> FastAPI:
    api = FastAPI()

    @api.get("/items/{item_id}")
    def item(item_id: str) -> dict[str, str | None]:
        logging.getLogger("test.route").info("looking up %s", item_id, extra={"item": item_id})
        return {"seen": logs.request_id.get()}

    api.add_middleware(ObservabilityMiddleware)
    return api


def records(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_request_id_is_kept_echoed_and_logged(json_logs: io.StringIO) -> None:
    r = TestClient(app()).get("/items/42", headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"
    assert r.json() == {"seen": "abc-123"}  # a sync route (thread pool) sees it too
    lines = records(json_logs)
    route_line = next(x for x in lines if x["logger"] == "test.route")
    assert route_line["request_id"] == "abc-123" and route_line["item"] == "42"
    assert route_line["message"] == "looking up 42" and route_line["role"] == "test"
    assert route_line["level"] == "INFO" and route_line["time"].endswith("+00:00")
    http = next(x for x in lines if x["logger"] == "mini_crm.http")
    assert (http["route"], http["status"], http["request_id"]) == (
        "/items/{item_id}", 200, "abc-123")
    assert logs.request_id.get() is None  # reset after the request


@pytest.mark.parametrize("given", [None, "", "x" * 129, "has space", "semi;colon", "<script>"])
def test_missing_or_unsafe_request_ids_are_replaced(json_logs: io.StringIO,
                                                    given: str | None) -> None:
    headers = {} if given is None else {"X-Request-ID": given}
    r = TestClient(app()).get("/items/1", headers=headers)
    rid = r.headers["X-Request-ID"]
    assert rid != given and len(rid) == 32 and int(rid, 16) >= 0
    assert r.json() == {"seen": rid}


def test_exceptions_are_one_json_line_with_the_traceback(json_logs: io.StringIO) -> None:
    token = logs.request_id.set("job-9")
    try:
        try:
            raise ValueError("bad thing")
        except ValueError:
            logging.getLogger("test.x").exception("it failed")
    finally:
        logs.request_id.reset(token)
    (line,) = [x for x in records(json_logs) if x["logger"] == "test.x"]
    assert line["level"] == "ERROR" and line["request_id"] == "job-9"
    assert "ValueError: bad thing" in line["exc"]


def test_text_format_keeps_request_lines_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "text")
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    get_settings.cache_clear()
    out = io.StringIO()
    handler = logs.configure("app", stream=out)
    try:
        TestClient(app()).get("/items/7", headers={"X-Request-ID": "t-1"})
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger("mini_crm.http").setLevel(logging.NOTSET)
        get_settings.cache_clear()
    text = out.getvalue()
    assert "[t-1] looking up 7" in text and "GET /items/{item_id}" not in text

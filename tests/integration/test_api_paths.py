"""External ids of any printable form read back; every /api error is the JSON shape.

Reflex mounts its whole app at "" on our FastAPI app, after our routes
(reflex/app.py: `api_transformer.mount("", asgi_app)`), adds its CORS middleware to
our app and to a top-level app around it, and mini_crm.py wraps that in
ApiPreflightMiddleware; `reflex_like` builds the same layers (Reflex's own `_add_cors`)
with an app that answers HTML, so /api requests meet what they meet in production,
served by uvicorn (Starlette's TestClient decodes a path twice, so "%252F"
would not reach the app as "%2F"). tests/e2e/test_data_import.py checks the real server.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
import reflex as rx
from fastapi.testclient import TestClient
from reflex.config import get_config
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from mini_crm.api.app import create_api
from mini_crm.api.preflight import ApiPreflightMiddleware
from tests.servers import serve


def _encode(external_id: str) -> str:
    """Percent-encode everything but letters and digits: '.' and '..' as segments would
    otherwise be resolved away by the client (RFC 3986 dot-segment removal)."""
    return quote(external_id, safe="").replace(".", "%2E")


IDS = ["gid://shop/Customer/7001", "a b/c?d#e%2F&x=1", "ünï/😀/", "/leading", "x/unsubscribe",
       "..", "plain-42"]


@pytest.fixture
def reflex_like(app_settings) -> Iterator[httpx.Client]:
    async def page(_request) -> HTMLResponse:
        return HTMLResponse("<html>404: Page not found</html>", status_code=404)

    api = create_api()
    rx.App._add_cors(api)
    api.mount("", Starlette(routes=[Route("/{p:path}", page, methods=["GET", "POST", "PUT",
                                                                        "PATCH", "DELETE"])]))
    top = Starlette()
    top.mount("", api)
    rx.App._add_cors(top)
    app = ApiPreflightMiddleware(top, allow_origins=get_config().cors_allowed_origins)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def test_any_printable_external_id_reads_back(reflex_like: httpx.Client, make_key) -> None:
    headers = make_key("ingest", "read")
    r = reflex_like.post("/api/v1/customers", headers=headers,
                         json={"items": [{"external_id": i, "name": f"n{n}"}
                                         for n, i in enumerate(IDS)]})
    assert r.json()["accepted"] == len(IDS), r.text
    orders = [{"external_id": f"order/{i}", "customer_external_id": i, "amount": 10,
               "ordered_at": "2026-11-29T10:00:00+05:30"} for i in IDS]
    assert reflex_like.post("/api/v1/orders", headers=headers,
                            json={"items": orders}).json()["accepted"] == len(IDS)
    for n, external_id in enumerate(IDS):
        got = reflex_like.get(f"/api/v1/customers/{_encode(external_id)}",
                              headers=headers)
        assert got.status_code == 200, (external_id, got.text)
        assert (got.json()["external_id"], got.json()["name"]) == (external_id, f"n{n}")
        order = reflex_like.get(f"/api/v1/orders/{_encode('order/' + external_id)}",
                                headers=headers)
        assert order.status_code == 200, (external_id, order.text)
        assert order.json()["customer_external_id"] == external_id
    # Slashes sent as they are (not encoded) reach the same customer.
    plain = reflex_like.get("/api/v1/customers/gid://shop/Customer/7001", headers=headers)
    assert plain.status_code == 200 and plain.json()["external_id"] == IDS[0]


def test_a_path_id_is_read_as_a_body_id_is(api: TestClient, make_key) -> None:
    """A write trims " t-1 " to t-1; the path's " t-1 " (t-1%20) finds that customer,
    and its order, and its consent, through the same normalising function."""
    headers = make_key("ingest", "read")
    assert api.post("/api/v1/customers", headers=headers, json={"items": [
        {"external_id": " t-1 ", "name": "Asha", "phone": "+919876543210"}]}
        ).json()["accepted"] == 1
    assert api.post("/api/v1/orders", headers=headers, json={"items": [
        {"external_id": "o-1 ", "customer_external_id": "  t-1", "amount": 10,
         "ordered_at": "2026-11-29T10:00:00+05:30"}]}).json()["accepted"] == 1
    for path in ("t-1", "t-1%20", "%20t-1%20%20"):
        got = api.get(f"/api/v1/customers/{path}", headers=headers)
        assert got.status_code == 200, (path, got.text)
        assert got.json()["external_id"] == "t-1"
    order = api.get("/api/v1/orders/%20o-1%20", headers=headers)
    assert order.status_code == 200, order.text
    assert order.json()["external_id"] == "o-1"
    r = api.post("/api/v1/customers/t-1%20/unsubscribe", headers=headers, json={})
    assert r.status_code == 200, r.text
    # A path holding a control character names no stored id: the usual 404.
    assert api.get("/api/v1/customers/t-1%0A", headers=headers).status_code == 404


def test_unknown_external_id_is_a_json_404(reflex_like: httpx.Client, make_key) -> None:
    headers = make_key("read")
    r = reflex_like.get(f"/api/v1/customers/{quote('gid://shop/Customer/1', safe='')}",
                        headers=headers)
    assert r.status_code == 404
    assert r.json()["error"] == {"code": "not_found", "details": None,
                                 "message": "no customer with external_id "
                                            "'gid://shop/Customer/1'"}


SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # no data involved


@SQLITE_ONLY
@pytest.mark.parametrize(("method", "path", "status", "allow"), [
    ("GET", "/api/v1/nope", 404, None),
    ("POST", "/api/v2/customers", 404, None),
    ("GET", "/api", 404, None),
    ("GET", "/api/", 404, None),
    ("DELETE", "/api/v1/customers", 405, "GET, HEAD, POST"),
    ("PUT", "/api/v1/imports", 405, "POST"),
    ("GET", "/api/v1/receipts", 405, "POST"),
    ("HEAD", "/api/v1/receipts", 405, "POST"),
    ("PATCH", "/api/v1/customers/gid%3A%2F%2Fx", 405, "GET, HEAD"),
    # Literal paths beside id routes name their own methods, not the id route's: ids
    # are `{segment_id:int}`, so "fields" or "drafts" never matches an id route.
    ("PUT", "/api/v1/segments/fields", 405, "GET, HEAD"),
    ("DELETE", "/api/v1/segments/preview", 405, "POST"),
    ("GET", "/api/v1/campaigns/preview", 405, "POST"),
    ("PATCH", "/api/v1/campaigns/drafts", 405, "POST"),
    ("GET", "/api/v1/segments/abc", 404, None),
    ("DELETE", "/api/v1/suppressions/x", 404, None),
    ("GET", "/api/v1/campaigns/-1", 404, None),
    # TRACE and methods nobody declares meet the same fallback, not Reflex's plain text.
    ("TRACE", "/api/v1/customers", 405, "GET, HEAD, POST"),
    ("TRACE", "/api/v1/nope", 404, None),
    ("PROPFIND", "/api/v1/segments/fields", 405, "GET, HEAD"),
])
def test_every_api_error_is_json(reflex_like: httpx.Client, method: str, path: str,
                                 status: int, allow: str | None) -> None:
    r = reflex_like.request(method, path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.headers.get("allow") == allow
    if method == "HEAD":
        assert r.content == b""
        return  # no body to read
    body = r.json()["error"]
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == ("not_found" if status == 404 else "method_not_allowed")


@SQLITE_ONLY
def test_pages_outside_api_still_reach_reflex(reflex_like: httpx.Client) -> None:
    r = reflex_like.get("/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert reflex_like.get("/apiary").headers["content-type"].startswith("text/html")


@SQLITE_ONLY
def test_an_unexpected_error_is_json_too(app_settings, monkeypatch) -> None:
    from mini_crm.core.ingestion import reads

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom: secret internals")

    monkeypatch.setattr(reads, "list_customers", broken)
    client = TestClient(create_api(), raise_server_exceptions=False)
    from mini_crm.core import apikeys
    from mini_crm.db import session_scope

    with session_scope() as s:
        key = apikeys.create_key(s, "t", ["read"])
    r = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {key.secret}"})
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    assert "boom" not in r.text


def test_consent_routes_take_ids_with_slashes(reflex_like: httpx.Client, make_key) -> None:
    """The GET customer route's `:path` does not swallow the consent suffixes, and the
    consent routes read ids with slashes too."""
    headers = make_key("ingest", "read")
    ids = ["gid://shop/Customer/7001", "ends/with/unsubscribe", "plain-7"]
    r = reflex_like.post("/api/v1/customers", headers=headers, json={"items": [
        {"external_id": i, "email": f"c{n}@example.in"} for n, i in enumerate(ids)]})
    assert r.json()["accepted"] == len(ids), r.text
    for external_id in ids:
        path = f"/api/v1/customers/{_encode(external_id)}"
        off = reflex_like.post(path + "/unsubscribe", headers=headers,
                               json={"channels": ["email"]})
        assert off.status_code == 200, (external_id, off.text)
        assert off.json()["external_id"] == external_id
        assert off.json()["consent"]["email"] is False
        assert reflex_like.get(path, headers=headers).json()["consent"]["email"] is False
        on = reflex_like.post(path + "/subscribe", headers=headers, json={"channels": ["email"]})
        assert on.status_code == 200 and on.json()["consent"]["email"] is True
    assert reflex_like.post("/api/v1/customers/nobody%2Fhere/unsubscribe",
                            headers=headers).json()["error"]["code"] == "not_found"


@SQLITE_ONLY
def test_head_answers_wherever_get_does(reflex_like: httpx.Client, make_key) -> None:
    """HEAD is GET without the body (RFC 9110 9.3.2) on every GET route of the API,
    by one middleware: same status and headers (Content-Length is GET's size), auth
    and scopes as for GET; not on a POST-only route; Reflex's pages untouched."""
    headers = make_key("ingest", "read")
    reflex_like.post("/api/v1/customers", headers=headers,
                     json={"external_id": "c/1", "name": "Asha"})
    for path in ("/api/v1/customers", "/api/v1/orders", "/api/v1/campaigns",
                 "/api/v1/segments", "/api/v1/suppressions", "/api/v1/customers/c%2F1",
                 "/healthz", "/api/openapi.json"):
        got = reflex_like.get(path, headers=headers)
        head = reflex_like.head(path, headers=headers)
        assert (head.status_code, got.status_code) == (200, 200), (path, head.text)
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert int(head.headers["content-length"]) == len(got.content), path
    # Errors keep their status: no key is 401, an unknown customer 404.
    assert reflex_like.head("/api/v1/customers").status_code == 401
    assert reflex_like.head("/api/v1/customers/nobody", headers=headers).status_code == 404
    assert reflex_like.head("/api/v1/imports").status_code == 405  # POST only
    page = reflex_like.head("/no-such-page")  # Reflex's mount answers its own pages
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")


def _preflight(client: httpx.Client, path: str, origin: str,
               method: str = "POST") -> httpx.Response:
    return client.options(path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type"})


@SQLITE_ONLY
def test_cors_preflights_under_api_are_empty_or_json(reflex_like: httpx.Client) -> None:
    """Reflex's CORS layer answers preflights in plain text ("OK", "Disallowed CORS
    origin"); under /api an allowed one is an empty 204, a refused one the error shape."""
    allowed = get_config().cors_allowed_origins[0]
    ok = _preflight(reflex_like, "/api/v1/customers", allowed)
    assert ok.status_code == 204 and ok.content == b""
    assert "content-type" not in ok.headers
    assert ok.headers["access-control-allow-origin"] == allowed
    assert ok.headers["access-control-allow-credentials"] == "true"
    assert ok.headers["access-control-allow-headers"] == "authorization, content-type"
    assert "POST" in ok.headers["access-control-allow-methods"]

    refused = _preflight(reflex_like, "/api/v1/customers", "https://evil.example")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/json"
    assert "access-control-allow-origin" not in refused.headers
    error = refused.json()["error"]
    assert error["code"] == "forbidden"
    assert "https://evil.example" in error["message"] and allowed in error["message"]
    assert error["details"] == {"origin": "https://evil.example", "method": "POST",
                                "refused": ["origin"]}

    trace = _preflight(reflex_like, "/api/v1/customers", allowed, method="TRACE")
    assert trace.status_code == 403
    assert trace.json()["error"]["details"]["refused"] == ["method"]
    assert "TRACE" in trace.json()["error"]["message"]

    # Outside /api, Reflex's own layer still answers (its pages, its websocket).
    page = _preflight(reflex_like, "/campaigns", "https://evil.example")
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/plain")


@SQLITE_ONLY
def test_cross_origin_api_errors_keep_cors_headers(reflex_like: httpx.Client) -> None:
    """A real cross-origin call from the allowed origin can read its JSON error."""
    allowed = get_config().cors_allowed_origins[0]
    r = reflex_like.get("/api/v1/customers", headers={"Origin": allowed})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert r.headers["access-control-allow-origin"] == allowed


@pytest.mark.parametrize(("path", "message"), [
    ("/api/v1/customers/a%0Ab", "no customer with external_id 'a\\nb'"),
    ("/api/v1/orders/%0A", "no order with external_id '\\n'"),
    ("/api/v1/no%0Awhere", "no API endpoint at GET /api/v1/no"),
])
def test_a_line_break_in_an_api_path_still_gets_the_json_shape(
        reflex_like: httpx.Client, make_key, path: str, message: str) -> None:
    # Starlette's `{x:path}` pattern stopped at a newline, so no layer matched (not even
    # the top-level mount): Starlette's plain-text "Not Found", without X-Request-ID.
    r = reflex_like.get(path, headers=make_key("read"))
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.headers.get("x-request-id")
    assert r.json()["error"]["message"].startswith(message)

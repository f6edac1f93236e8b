"""API answers that round-trip and never 500 (every database).

Found by an API tester with a running app: timestamps were answered as naive UTC while
offset-less input is read as brand time, so a value read back and sent again moved 5h30;
a cursor past the id range or attributes nested 900 deep answered 500; infinite, NaN
and 30-digit attribute numbers were stored as null or beyond what rules can compare;
an unsubscribe reason stored control characters; a blank currency was an error.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.api.app import create_api
from mini_crm.core import brand_time
from mini_crm.core.ingestion.schemas import MAX_NESTING
from mini_crm.models import Campaign, Customer, Order, Suppression
from tests.integration.campaign_helpers import add_customers, city_rules

# An ISO timestamp without "Z" or an offset after its time: what must never be answered.
NAIVE = re.compile(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"')


@pytest.fixture
def headers(make_key) -> dict[str, str]:
    return make_key("ingest", "read", "campaigns")


@pytest.fixture
def loose(app_settings) -> TestClient:
    """A client that shows a 500 as the answer a caller gets, not as a raised error."""
    return TestClient(create_api(), raise_server_exceptions=False)


def test_an_order_read_back_and_sent_again_keeps_its_time(api: TestClient, headers,
                                                          app_settings: sa.Engine) -> None:
    r = api.post("/api/v1/orders", headers=headers, json={
        "external_id": "o-1", "customer_external_id": "c-1", "amount": 10,
        "ordered_at": "2026-11-20T10:00:00+05:30"})
    assert r.json()["accepted"] == 1, r.text
    got = api.get("/api/v1/orders/o-1", headers=headers).json()
    assert got["ordered_at"] == "2026-11-20T04:30:00Z"
    again = {k: got[k] for k in ("external_id", "customer_external_id", "amount",
                                 "currency", "status", "ordered_at")}
    assert api.post("/api/v1/orders", headers=headers, json=again).json()["accepted"] == 1
    assert api.get("/api/v1/orders/o-1", headers=headers).json() == got
    customer = api.get("/api/v1/customers/c-1", headers=headers).json()
    assert customer["stats"]["last_order_at"] == "2026-11-20T04:30:00Z"
    for page in ("/api/v1/customers", "/api/v1/orders", "/api/v1/customers/c-1"):
        text = api.get(page, headers=headers).text
        assert not NAIVE.search(text), (page, text)
    with Session(app_settings) as s:
        assert s.exec(select(Order.ordered_at)).one() == datetime(2026, 11, 20, 4, 30)
    # The customer's own timestamps round-trip too (created_at is an input field).
    back = {"external_id": "c-1", "created_at": customer["created_at"]}
    assert api.post("/api/v1/customers", headers=headers, json=back).json()["accepted"] == 1
    assert api.get("/api/v1/customers/c-1", headers=headers).json()["created_at"] == \
        customer["created_at"]


def test_a_schedule_read_back_and_sent_again_keeps_its_time(api: TestClient, headers,
                                                            app_settings: sa.Engine) -> None:
    add_customers(app_settings, 2)
    when = (datetime.now(UTC) + timedelta(days=5)).replace(hour=4, minute=30, second=0,
                                                            microsecond=0)
    local = when.astimezone(brand_time.zone()).isoformat()  # "...T10:00:00+05:30"
    r = api.post("/api/v1/campaigns", headers=headers, json={
        "name": "Later", "rules": city_rules("Pune"), "channel": "sms", "message": "Hi",
        "schedule_at": local})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["scheduled_at"] == when.replace(tzinfo=None).isoformat() + "Z"
    assert not NAIVE.search(r.text), r.text
    moved = api.post(f"/api/v1/campaigns/{body['id']}/reschedule", headers=headers,
                     json={"schedule_at": body["scheduled_at"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["scheduled_at"] == body["scheduled_at"]
    with Session(app_settings) as s:
        assert s.get(Campaign, body["id"]).scheduled_at == when.replace(tzinfo=None)
    for page in ("/api/v1/campaigns", f"/api/v1/campaigns/{body['id']}"):
        text = api.get(page, headers=headers).text
        assert not NAIVE.search(text), (page, text)


def test_segments_and_suppressions_answer_utc_with_z(api: TestClient, headers) -> None:
    api.post("/api/v1/orders", headers=headers, json={
        "external_id": "o-1", "customer_external_id": "c-1", "amount": 10,
        "ordered_at": "2026-11-20T10:00:00"})
    saved = api.post("/api/v1/segments", headers=headers, json={
        "name": "Everyone", "rules": {"combinator": "and", "rules": [
            {"field": "order_count", "operator": ">=", "value": 1}]}})
    assert saved.status_code == 201, saved.text
    assert saved.json()["created_at"].endswith("Z")
    preview = api.post("/api/v1/segments/preview", headers=headers, json={
        "rules": {"combinator": "and", "rules": [
            {"field": "order_count", "operator": ">=", "value": 1}]}})
    assert preview.json()["sample"][0]["last_order_at"] == "2026-11-20T04:30:00Z"
    added = api.post("/api/v1/suppressions", headers=headers,
                     json={"address": "a@example.in", "channel": "email"})
    assert added.status_code == 201, added.text
    for page in ("/api/v1/segments", f"/api/v1/segments/{saved.json()['id']}",
                 "/api/v1/suppressions"):
        text = api.get(page, headers=headers).text
        assert not NAIVE.search(text), (page, text)
    assert api.get("/api/v1/suppressions", headers=headers).json()["items"][0][
        "created_at"].endswith("Z")


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("value", ["id:99999999999999999999", "id:9223372036854775808",
                                   "id:2147483648", "id:-1", "id:١٢"])
@pytest.mark.parametrize("path", ["/api/v1/customers", "/api/v1/orders",
                                  "/api/v1/suppressions"])
def test_a_cursor_outside_the_id_range_is_refused_as_a_cursor(loose: TestClient, headers,
                                                            path: str, value: str) -> None:
    r = loose.get(path, headers=headers, params={"cursor": _cursor(value)})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"].startswith(
        "cursor (in the address) is not one this API gave out")
    assert r.json()["error"]["details"] == {"field": "cursor"}


def test_the_largest_id_is_still_a_cursor(api: TestClient, headers) -> None:
    r = api.get("/api/v1/customers", headers=headers,
                params={"cursor": _cursor("id:2147483647")})
    assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}


def _nested(levels: int) -> object:
    value: object = "x"
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("levels", [MAX_NESTING + 1, 200, 900])
def test_attributes_nested_too_deep_are_one_items_error(loose: TestClient, headers,
                                                        levels: int) -> None:
    body = json.dumps({"items": [{"external_id": "ok"}, {
        "external_id": "deep", "attributes": {"tier": "gold", "tree": _nested(levels)}}]})
    r = loose.post("/api/v1/customers", headers=headers, content=body)
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1
    assert r.json()["errors"] == [{"index": 1, "field": "attributes.tree", "message":
                                   f"attributes.tree nests lists and objects more than "
                                   f"{MAX_NESTING} levels deep; flatten it"}]


def test_a_body_too_deep_to_parse_is_a_400(loose: TestClient, headers) -> None:
    r = loose.post("/api/v1/customers", headers=headers,
                   content='{"external_id": "x", "attributes": {"a": ' + "[" * 100_000
                   + "]" * 100_000 + "}}")
    assert r.status_code == 400, r.text
    assert "nests lists and objects too deep" in r.json()["error"]["message"]


def test_attributes_at_the_nesting_limit_are_kept(api: TestClient, headers,
                                                  app_settings: sa.Engine) -> None:
    r = api.post("/api/v1/customers", headers=headers, json={
        "external_id": "c", "attributes": {"tree": _nested(MAX_NESTING)}})
    assert r.json()["accepted"] == 1, r.text
    got = api.get("/api/v1/customers/c", headers=headers).json()
    assert got["attributes"]["tree"] == _nested(MAX_NESTING)


@pytest.mark.parametrize(("raw", "says"), [
    ("1e400", "attributes.score is too large a number (past 1.8e308"),
    ("-1e400", "attributes.score is too large a number (past 1.8e308"),
    ("Infinity", "attributes.score is too large a number (past 1.8e308"),
    ("NaN", "attributes.score is not a number (NaN)"),
    ("[1, NaN]", "attributes.score[1] is not a number (NaN)"),
    ("123456789012345678901234567890",
     "attributes.score is 123456789012345678901234567890, larger than a number attribute "
     "can be (9,007,199,254,740,992, 2**53"),
])
def test_attribute_numbers_that_cannot_be_stored_are_refused(api: TestClient, headers,
                                                             app_settings: sa.Engine,
                                                             raw: str, says: str) -> None:
    body = ('{"items": [{"external_id": "ok", "attributes": {"score": 9007199254740992}},'
            ' {"external_id": "bad", "attributes": {"score": ' + raw + '}}]}')
    r = api.post("/api/v1/customers", headers=headers, content=body)
    assert r.status_code == 202, r.text
    [error] = r.json()["errors"]
    assert (error["index"], error["field"]) == (1, "attributes"), error
    assert error["message"].startswith(says), error
    with Session(app_settings) as s:
        assert s.exec(select(Customer.external_id)).all() == ["ok"]
    # 2**53 itself is kept, and rules can compare it.
    rules = {"combinator": "and", "rules": [
        {"field": "attributes.score", "operator": ">=", "value": 9007199254740992}]}
    r = api.post("/api/v1/segments/preview", headers=headers, json={"rules": rules})
    assert r.status_code == 200 and r.json()["size"] == 1, r.text


def test_line_items_with_nan_are_refused(api: TestClient, headers) -> None:
    body = ('{"external_id": "o", "customer_external_id": "c", "amount": 1, '
            '"ordered_at": "2026-11-20", "items": [{"sku": "A", "price": NaN}]}')
    [error] = api.post("/api/v1/orders", headers=headers, content=body).json()["errors"]
    assert error["field"] == "items" and "items[0].price is not a number" in error["message"]


@pytest.mark.parametrize("route", ["unsubscribe", "subscribe"])
def test_a_consent_reason_with_control_characters_is_refused(
        api: TestClient, headers, app_settings: sa.Engine, route: str) -> None:
    api.post("/api/v1/customers", headers=headers,
             json={"external_id": "c", "email": "c@example.in"})
    r = api.post(f"/api/v1/customers/c/{route}", headers=headers,
                 json={"channels": ["email"], "reason": "a\u0000b\u001b[31m"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"] == \
        "the reason contains a NUL character (U+0000); remove it"
    assert r.json()["error"]["details"] == {"field": "reason"}
    with Session(app_settings) as s:
        assert s.exec(select(Customer.consent_email)).one() is True
        assert s.exec(select(Suppression)).all() == []
    ok = api.post(f"/api/v1/customers/c/{route}", headers=headers,
                  json={"channels": ["email"], "reason": "asked by phone"})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("currency", ["", "  ", None])
def test_a_blank_or_null_currency_is_the_default(api: TestClient, headers,
                                                 currency: str | None) -> None:
    r = api.post("/api/v1/orders", headers=headers, json={
        "external_id": "o", "customer_external_id": "c", "amount": 5,
        "ordered_at": "2026-11-20", "currency": currency})
    assert r.json() == {"accepted": 1, "rejected": 0, "errors": [], "mode": "stored"}
    assert api.get("/api/v1/orders/o", headers=headers).json()["currency"] == "INR"

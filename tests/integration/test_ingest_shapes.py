"""How an ingestion body is read (one item or a batch), future order dates, and schema
errors in the user's words, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.models import Customer, Order


@pytest.fixture
def ingest(make_key) -> dict[str, str]:
    return make_key("ingest", "read")


def _order(ext: str = "it-4", **over: object) -> dict:
    return {"external_id": ext, "customer_external_id": "t-1", "amount": 10,
            "ordered_at": "2026-11-01", **over}


def _post(api: TestClient, path: str, body: object, key: dict[str, str]) -> dict:
    r = api.post(path, json=body, headers=key)
    assert r.status_code == 202, r.text
    return r.json()


def _errors(body: dict) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


# -- 1. one object or a batch ------------------------------------------------------------

def test_one_order_with_line_items_is_one_order(api: TestClient, ingest, app_settings
                                                ) -> None:
    body = _post(api, "/api/v1/orders", _order(items=[{"sku": "S1", "category": "shoes"}]),
                 ingest)
    assert body == {"accepted": 1, "rejected": 0, "errors": [], "mode": "stored"}
    with Session(app_settings) as s:
        order = s.exec(select(Order).where(Order.external_id == "it-4")).one()
        assert order.items == [{"sku": "S1", "category": "shoes"}]


def test_a_batch_of_orders_with_line_items(api: TestClient, ingest, app_settings) -> None:
    batch = {"items": [_order("a", items=[{"sku": "S1"}]), _order("b")]}
    assert _post(api, "/api/v1/orders", batch, ingest)["accepted"] == 2


def test_line_items_that_are_not_a_list_are_a_per_field_error(api: TestClient, ingest,
                                                               app_settings) -> None:
    body = _post(api, "/api/v1/orders", _order(items="shoes"), ingest)
    assert body["accepted"] == 0
    assert _errors(body) == {"items": "items must be the order's line items, a list of "
                                      'objects such as [{"sku": "S1", "category": "shoes"}]'}


def test_envelope_with_a_stray_key_is_still_named(api: TestClient, ingest,
                                                  app_settings) -> None:
    r = api.post("/api/v1/orders", json={"items": [_order()], "itmes": 1}, headers=ingest)
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("unknown top-level field(s): itmes;")
    r = api.post("/api/v1/orders", json={"items": "shoes"}, headers=ingest)
    assert r.status_code == 422 and r.json()["error"]["message"] == "'items' must be a list"


def test_a_customer_with_an_items_key_is_one_customer(api: TestClient, ingest,
                                                       app_settings) -> None:
    body = _post(api, "/api/v1/customers", {"external_id": "c1", "items": [1]}, ingest)
    assert body["accepted"] == 0
    assert _errors(body) == {"items": "items is not a known field"}


def test_non_object_bodies(api: TestClient, ingest, app_settings) -> None:
    for body in ("[1, 2]", '"text"', "3"):
        r = api.post("/api/v1/customers", content=body, headers=ingest)
        assert r.status_code == 422, body
        assert r.json()["error"]["message"].startswith("the body must be a JSON object")


# -- 2. orders dated in the future -------------------------------------------------------

def test_an_order_in_the_future_is_refused_and_the_rest_kept(api: TestClient, ingest,
                                                              app_settings) -> None:
    now = datetime.now(UTC)
    soon = (now + timedelta(hours=20)).isoformat()  # within the 24 h tolerance
    later = (now + timedelta(hours=30)).isoformat()
    batch = {"items": [_order("past"), _order("soon", ordered_at=soon),
                       _order("later", ordered_at=later),
                       _order("next-year", ordered_at="2199-05-01")]}
    body = _post(api, "/api/v1/orders", batch, ingest)
    assert body["accepted"] == 2 and body["rejected"] == 2
    msgs = {e["index"]: e["message"] for e in body["errors"]}
    assert msgs[3].startswith("ordered_at 1 May 2199 is in the future; an order's date "
                              "can be at most 24 hours ahead of now")
    assert msgs[2].endswith("(ORDER_FUTURE_TOLERANCE_HOURS)")
    with Session(app_settings) as s:
        assert sorted(s.exec(select(Order.external_id)).all()) == ["past", "soon"]


def test_the_tolerance_is_a_setting(api: TestClient, ingest, app_settings,
                                    monkeypatch) -> None:
    from mini_crm.settings import get_settings
    monkeypatch.setenv("ORDER_FUTURE_TOLERANCE_HOURS", "0")
    get_settings.cache_clear()
    soon = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    body = _post(api, "/api/v1/orders", _order(ordered_at=soon), ingest)
    assert body["rejected"] == 1 and "at most 0 hours ahead" in body["errors"][0]["message"]


# -- 3. errors in the user's words --------------------------------------------------------

@pytest.mark.parametrize(("change", "field", "message"), [
    ({"customer_external_id": ""}, "customer_external_id", "customer_external_id is empty"),
    ({"customer_external_id": "x" * 600}, "customer_external_id",
     "customer_external_id is 600 characters; at most 128"),
    ({"amount": True}, "amount", "amount must be a number like 1499.50, not true"),
    ({"amount": [1]}, "amount", "amount must be a number like 1499.50, not [1]"),
    ({"ordered_at": "2026-02-30"}, "ordered_at",
     "2026-02-30 is not a date (February has 28 days in 2026)"),
    ({"ordered_at": "2024-02-30T10:00:00Z"}, "ordered_at",
     "2024-02-30 is not a date (February has 29 days in 2024)"),
    ({"shoe": 1}, "shoe", "shoe is not a known field"),
])
def test_order_errors_in_plain_words(api: TestClient, ingest, app_settings, change,
                                     field, message) -> None:
    body = _post(api, "/api/v1/orders", _order(**change), ingest)
    assert _errors(body) == {field: message}


def test_a_missing_field_and_a_bad_boolean(api: TestClient, ingest, app_settings) -> None:
    body = _post(api, "/api/v1/customers", {"name": "x", "unsubscribed": "maybe"}, ingest)
    assert _errors(body) == {
        "external_id": "external_id is required",
        "unsubscribed": "unsubscribed must be yes/no, true/false or 1/0, not 'maybe'"}
    body = _post(api, "/api/v1/customers", {"external_id": "c", "consent": {"sms": "maybe"}},
                 ingest)
    assert _errors(body) == {
        "consent.sms": "consent.sms must be yes/no, true/false or 1/0, not 'maybe'"}


def test_no_library_words_reach_an_item_error(api: TestClient, ingest, app_settings) -> None:
    batch = {"items": [_order(amount="abc"), _order(status=""), _order(ordered_at=[1]),
                       {"external_id": "x", "customer_external_id": "y", "amount": 1,
                        "ordered_at": "2026-01-01", "currency": 5}]}
    body = _post(api, "/api/v1/orders", batch, ingest)
    assert body["rejected"] == 4
    for e in body["errors"]:
        assert "Input should" not in e["message"] and "Value error" not in e["message"]
        assert e["field"] in e["message"] or "'abc'" in e["message"], e


def test_stored_customers_are_untouched_by_refused_items(api: TestClient, ingest,
                                                          app_settings) -> None:
    _post(api, "/api/v1/customers", {"external_id": "", "name": "x"}, ingest)
    with Session(app_settings) as s:
        assert s.exec(select(Customer)).all() == []


# -- 5. Unix times -------------------------------------------------------------------------

def test_unix_times_in_seconds_and_milliseconds(api: TestClient, ingest, app_settings
                                                ) -> None:
    batch = {"items": [_order("s", ordered_at=1700000000),
                       _order("ms", ordered_at=1700000000000),
                       _order("frac", ordered_at=1700000000.5),
                       _order("text", ordered_at="1700000000"),
                       _order("huge", ordered_at=1e20)]}
    body = _post(api, "/api/v1/orders", batch, ingest)
    assert body["accepted"] == 3
    msgs = {e["index"]: e["message"] for e in body["errors"]}
    assert msgs[3].startswith("'1700000000' is not an ISO 8601 timestamp")
    assert msgs[4].startswith("ordered_at 1e+20 is not a Unix time (seconds, or milliseconds")
    with Session(app_settings) as s:
        at = dict(s.exec(select(Order.external_id, Order.ordered_at)).all())
    assert at["s"] == at["ms"] == datetime(2023, 11, 14, 22, 13, 20)
    assert at["frac"] == datetime(2023, 11, 14, 22, 13, 20, 500000)

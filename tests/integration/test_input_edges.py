"""Inputs at the edges, on every door (API, CSV import, rules, schedules), every database.

Found by a new user's exploratory run: dates at the edges of the calendar ended in
OverflowError (a 500 that lost the valid items too), a batch naming one customer twice
dropped the first item's opt-out and fields, ids with control characters could be stored
but never read back, numeric ids from shop backends were refused, and a schedule without
an offset was read as UTC while every other input reads it as brand time.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.core import brand_time
from mini_crm.models import Customer, Order, Suppression
from tests.integration.test_imports_api import _post, _wait, import_dir  # noqa: F401

EDGE_DATES = ["0001-01-01", "0001-01-01T00:00:00+05:30", "9999-12-31T23:59:59-05:00",
              "1899-12-31", "2200-01-01"]


@pytest.fixture
def ingest(make_key) -> dict[str, str]:
    return make_key("ingest", "read", "campaigns")


@pytest.mark.parametrize("when", EDGE_DATES)
def test_a_date_outside_the_calendar_is_one_items_error(api: TestClient, ingest,
                                                        app_settings: sa.Engine,
                                                        when: str) -> None:
    r = api.post("/api/v1/customers", headers=ingest, json={"items": [
        {"external_id": "ok-1"}, {"external_id": "bad", "created_at": when}]})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["accepted"] == 1 and body["rejected"] == 1
    assert "supported calendar" in str(body["errors"]) or "ISO 8601" in str(body["errors"])
    r = api.post("/api/v1/orders", headers=ingest, json={"items": [
        {"external_id": "o-ok", "customer_external_id": "ok-1", "amount": 10,
         "ordered_at": "2026-11-29"},
        {"external_id": "o-bad", "customer_external_id": "ok-1", "amount": 10,
         "ordered_at": when}]})
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    with Session(app_settings) as s:
        assert s.exec(select(Customer.external_id)).all() == ["ok-1"]
        assert s.exec(select(Order.external_id)).all() == ["o-ok"]

# An audience of every customer, said with a condition (a group without one is refused).
EVERYONE = {"combinator": "and", "rules": [{"field": "total_spend", "operator": ">=", "value": 0}]}


def test_the_supported_calendar_keeps_its_edges(api: TestClient, ingest) -> None:
    r = api.post("/api/v1/customers", headers=ingest, json={"items": [
        {"external_id": "first", "created_at": "1900-01-01"},
        {"external_id": "last", "created_at": "2199-12-31T23:59:59"}]})
    # The last day is in the calendar, but a signup cannot be in the future: refused as
    # that (the per-item rule orders follow too), not as a date out of range.
    assert r.json()["accepted"] == 1, r.text
    [error] = r.json()["errors"]
    assert error["index"] == 1 and error["message"].startswith(
        "created_at 31 December 2199 is in the future")
    for value in ("1900-01-01", "2199-12-31"):
        rules = {"combinator": "and", "rules": [
            {"field": "last_order_at", "operator": "<=", "value": value}]}
        assert api.post("/api/v1/segments/preview", headers=ingest,
                        json={"rules": rules}).status_code == 200


@pytest.mark.parametrize("rule", [
    {"field": "last_order_at", "operator": "=", "value": "0001-01-01"},
    {"field": "last_order_at", "operator": "<", "value": "9999-12-31"},
    {"field": "created_at", "operator": "between", "value": ["0001-01-01", "2026-01-01"]},
    {"field": "window_order_count", "operator": ">=", "value": 1,
     "window": {"from": "0001-01-01", "to": "0001-02-01"}},
])
def test_a_rule_date_outside_the_calendar_is_a_rule_error(api: TestClient, ingest,
                                                          rule: dict) -> None:
    r = api.post("/api/v1/segments/preview", headers=ingest,
                 json={"rules": {"combinator": "and", "rules": [rule]}})
    assert r.status_code == 422, r.text
    assert "supported calendar" in r.text


def test_a_schedule_outside_the_calendar_is_refused(api: TestClient, ingest) -> None:
    body = {"name": "edge", "message": "Hi {name}", "channel": "sms",
            "rules": EVERYONE,
            "schedule_at": "0001-01-01T00:00:00+05:30"}
    r = api.post("/api/v1/campaigns", headers=ingest, json=body)
    assert r.status_code == 422, r.text
    assert "supported calendar" in r.text


def test_an_offsetless_schedule_is_brand_time(api: TestClient, ingest) -> None:
    api.post("/api/v1/customers", headers=ingest, json={"external_id": "c1",
                                                         "phone": "9876543210"})
    body = {"name": "later", "message": "Hi {name}", "channel": "sms",
            "rules": EVERYONE, "schedule_at": "2031-01-01 10:00"}
    r = api.post("/api/v1/campaigns", headers=ingest, json=body)
    assert r.status_code in (200, 201), r.text
    detail = api.get(f"/api/v1/campaigns/{r.json()['id']}", headers=ingest).json()
    # 10:00 in Asia/Kolkata is 04:30 UTC, as ingestion reads the same text.
    assert detail["scheduled_at"].startswith("2031-01-01T04:30"), detail["scheduled_at"]
    assert brand_time.parse_input_timestamp("2031-01-01 10:00") == datetime(2031, 1, 1, 4, 30)


def test_one_customer_twice_in_a_batch_merges_in_order(api: TestClient, ingest,
                                                       app_settings: sa.Engine) -> None:
    api.post("/api/v1/customers", headers=ingest,
             json={"external_id": "dd-2", "name": "Existing", "phone": "9555566666"})
    r = api.post("/api/v1/customers", headers=ingest, json={"items": [
        {"external_id": "dd-2", "unsubscribed": True},
        {"external_id": "dd-2", "city": "Pune"},
        {"external_id": "d-1", "name": "First", "email": "first@x.in",
         "phone": "9876500001", "city": "Pune"},
        {"external_id": "d-1", "name": "Second"}]})
    assert r.status_code == 202 and r.json()["accepted"] == 2, r.text
    with Session(app_settings) as s:
        dd = s.exec(select(Customer).where(Customer.external_id == "dd-2")).one()
        assert (dd.name, dd.city, dd.consent_sms, dd.consent_email) == (
            "Existing", "Pune", False, False)
        d1 = s.exec(select(Customer).where(Customer.external_id == "d-1")).one()
        assert (d1.name, d1.email, d1.phone, d1.city) == (
            "Second", "first@x.in", "+919876500001", "Pune")
        assert set(s.exec(select(Suppression.address)).all()) == {"+919555566666"}
    # A later explicit opt-in in the same batch still wins, as if sent one after another.
    r = api.post("/api/v1/customers", headers=ingest, json={"items": [
        {"external_id": "dd-3", "phone": "9555566667", "unsubscribed": True},
        {"external_id": "dd-3", "consent": {"sms": True}}]})
    with Session(app_settings) as s:
        dd3 = s.exec(select(Customer).where(Customer.external_id == "dd-3")).one()
        assert (dd3.consent_sms, dd3.consent_email) == (True, False)


def test_the_same_customer_twice_in_a_csv_keeps_the_opt_out(api: TestClient, ingest,
                                                            app_settings: sa.Engine) -> None:
    data = (b"external_id,name,email,phone,unsubscribed,consent_sms\n"
            b"cc-1,Opt Out,cc1@x.in,9333344444,yes,\n"
            b"cc-1,Opt Out again,,,,\n")
    done = _wait(api, ingest, _post(api, ingest, data).json()["id"])
    assert done["status"] == "completed", done
    with Session(app_settings) as s:
        c = s.exec(select(Customer).where(Customer.external_id == "cc-1")).one()
        assert (c.name, c.email, c.phone, c.consent_sms) == (
            "Opt Out again", "cc1@x.in", "+919333344444", False)


def test_a_csv_row_outside_the_calendar_spoils_only_that_row(api: TestClient, ingest,
                                                             app_settings: sa.Engine) -> None:
    api.post("/api/v1/customers", headers=ingest, json={"external_id": "d-1"})
    data = (b"external_id,customer_external_id,amount,ordered_at\n"
            b"yy-1,d-1,10,2026-11-29\nyy-2,d-1,10,0001-01-01\nyy-3,d-1,10,2026-11-29\n")
    done = _wait(api, ingest, _post(api, ingest, data, kind="orders").json()["id"])
    assert done["status"] == "completed", done
    assert done["imported"] == 2 and done["error_count"] == 1, done
    with Session(app_settings) as s:
        assert sorted(s.exec(select(Order.external_id)).all()) == ["yy-1", "yy-3"]


@pytest.mark.parametrize(("item", "words"), [
    ({"external_id": "a\nb"}, "control character U+000A"),
    ({"external_id": "tab\tid"}, "control character U+0009"),
    ({"external_id": "nul\u0000id"}, "NUL character"),
    ({"external_id": "ok", "city": "\u0000x"}, "NUL character"),
    ({"external_id": "ok", "attributes": {"tier": "go\u0000ld"}}, "NUL character"),
])
def test_control_characters_are_refused_per_item(api: TestClient, ingest, item: dict,
                                                 words: str) -> None:
    r = api.post("/api/v1/customers", headers=ingest,
                 json={"items": [item, {"external_id": "fine"}]})
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1 and words in r.text, r.text


def test_numeric_ids_and_phones_are_read_as_text(api: TestClient, ingest,
                                                 app_settings: sa.Engine) -> None:
    r = api.post("/api/v1/customers", headers=ingest, json={"items": [
        {"external_id": 7001, "phone": 9876543210}]})
    assert r.json()["accepted"] == 1, r.text
    r = api.post("/api/v1/orders", headers=ingest, json={"items": [
        {"external_id": 99, "customer_external_id": 7001, "amount": 5,
         "ordered_at": "2026-11-29"}]})
    assert r.json()["accepted"] == 1, r.text
    got = api.get("/api/v1/customers/7001", headers=ingest).json()
    assert got["phone"] == "+919876543210"


@pytest.mark.parametrize(("op", "value"), [("=", "+91 94444 55555"), ("=", "09444455555"),
                                           ("in", ["9444455555", "nobody"]),
                                           ("!=", "+91-94444-55555")])
def test_phone_rule_values_are_read_like_stored_phones(api: TestClient, ingest, op: str,
                                                       value: object) -> None:
    api.post("/api/v1/customers", headers=ingest, json={"items": [
        {"external_id": "p1", "phone": "+919444455555"},
        {"external_id": "p2", "phone": "9876543210"}]})
    rules = {"combinator": "and", "rules": [{"field": "phone", "operator": op,
                                             "value": value}]}
    r = api.post("/api/v1/segments/preview", headers=ingest, json={"rules": rules})
    assert r.status_code == 200, r.text
    assert r.json()["size"] == 1, r.text

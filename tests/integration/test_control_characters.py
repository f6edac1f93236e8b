"""NUL and other control characters are refused, with a message naming the field, in
every text the API stores or compiles (rule values, segment and campaign names, messages,
subject lines, drafts): PostgreSQL cannot store or compare U+0000, and SQLite matched
every customer for `name contains "\\u0000"`. One validator, core.text_checks."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.models import Campaign, Customer, Segment


@pytest.fixture
def keys(make_key, app_settings: sa.Engine) -> dict[str, str]:
    with Session(app_settings) as s:
        s.add(Customer(external_id="c1", name="Asha", phone="+919444455555"))
        s.commit()
    return make_key("ingest", "read", "campaigns")


def _rules(value: Any, field: str = "name", op: str = "contains") -> dict[str, Any]:
    return {"combinator": "and", "rules": [{"field": field, "operator": op, "value": value}]}


@pytest.mark.parametrize("value,named", [("\x00", "NUL"), ("a\x07b", "U+0007"),
                                         ("a\nb", "line break")])
@pytest.mark.parametrize("field", ["name", "attributes.tier"])
def test_a_rule_value_with_a_control_character_is_refused(api: TestClient, keys, value: str,
                                                          named: str, field: str) -> None:
    r = api.post("/api/v1/segments/preview", headers=keys, json={"rules": _rules(value, field)})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_rules" and named in err["message"], err
    r = api.post("/api/v1/segments/preview", headers=keys, json={"rules": {
        "combinator": "and", "rules": [{"field": "window_order_count", "operator": ">",
                                        "value": 0, "window": {"last_days": 30},
                                        "items_match": {"key": "category",
                                                        "value": "sho\x00es"}}]}})
    assert r.status_code == 422 and "NUL" in r.json()["error"]["message"], r.text


def test_a_segment_name_with_nul_is_refused(api: TestClient, keys,
                                            app_settings: sa.Engine) -> None:
    r = api.post("/api/v1/segments", headers=keys,
                 json={"name": "nul\x00seg", "rules": _rules("As")})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert "NUL" in err["message"] and err["details"] == {"field": "name"}, err
    r = api.post("/api/v1/suppressions", headers=keys, json={
        "address": "+919444455555", "channel": "sms", "reason": "spam\x00"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"] == {"field": "reason"}
    r = api.post("/api/v1/segments", headers=keys, json={"name": "ok", "rules": {
        "combinator": "and", "id": "g\x00", "rules": []}})
    assert r.status_code == 422, r.text
    with Session(app_settings) as s:
        assert s.exec(select(Segment)).all() == []


@pytest.mark.parametrize("body,field", [
    ({"name": "Diwali\x00"}, "name"),
    ({"message": "Hi {name}\x00"}, "message"),
    ({"message": "Hi\x1b[31m {name}"}, "message"),
    ({"channel": "email", "subject": "Sale\x00"}, "subject"),
    ({"channel": "email", "subject": "Sale\nBcc: x@example.com"}, "subject"),
])
def test_campaign_texts_with_control_characters_are_refused(
        api: TestClient, keys, app_settings: sa.Engine, body: dict[str, Any],
        field: str) -> None:
    payload = {"name": "Diwali", "message": "Hi {name}", "channel": "sms",
               "rules": _rules("As"), **body}
    r = api.post("/api/v1/campaigns", headers=keys, json=payload)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert "contains" in err["message"] and "remove it" in err["message"], err
    r = api.post("/api/v1/campaigns/drafts", headers=keys, json=payload)
    assert r.status_code == 422, r.text
    with Session(app_settings) as s:
        assert s.exec(select(Campaign)).all() == []


def test_a_message_keeps_its_line_breaks_and_tabs(api: TestClient, keys) -> None:
    r = api.post("/api/v1/campaigns/drafts", headers=keys, json={
        "name": "Lines", "message": "Hi {name},\n\tour sale\r\nstarts today", "channel": "sms"})
    assert r.status_code == 201, r.text


def test_ingested_names_cities_and_attributes_refuse_control_characters(
        api: TestClient, keys, app_settings: sa.Engine) -> None:
    r = api.post("/api/v1/customers", headers=keys, json={"items": [
        {"external_id": "k1", "name": "Asha\x07"},
        {"external_id": "k2", "city": "Pune\nMumbai"},
        {"external_id": "k3", "attributes": {"note": "\x1b[31m"}},
        {"external_id": "k4", "attributes": {"note": "line one\n\tline two"}}]})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["accepted"] == 1
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (0, "name"), (1, "city"), (2, "attributes")]
    assert body["errors"][1]["message"] == "city contains a line break; remove it"
    with Session(app_settings) as s:
        note = s.exec(select(Customer.attributes).where(Customer.external_id == "k4")).one()
        assert note == {"note": "line one\n\tline two"}

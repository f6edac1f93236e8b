"""The segments HTTP API on every database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from mini_crm.models import Customer, utcnow

BIG = {"combinator": "and", "rules": [{"field": "total_spend", "operator": ">", "value": 5000}]}


@pytest.fixture
def shoppers(session: Session) -> None:
    for i, spend in enumerate([100, 6000, 9000, 12000]):
        session.add(Customer(external_id=f"c{i}", name=f"N{i}", city="Pune",
                             total_spend=Decimal(spend), order_count=1, last_order_at=utcnow()))
    session.commit()


def test_preview_size_sample_and_sentence(api: TestClient, make_key, shoppers) -> None:
    r = api.post("/api/v1/segments/preview", json={"rules": BIG, "sample": 2},
                 headers=make_key("read"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["size"] == 3
    assert [s["external_id"] for s in body["sample"]] == ["c3", "c2"]  # newest first
    assert body["description"] == "Customers who spent over ₹5,000"


def test_invalid_rules_name_the_rule(api: TestClient, make_key) -> None:
    bad = {"combinator": "and", "rules": [
        {"field": "city", "operator": "=", "value": "Pune"},
        {"combinator": "or", "rules": [{"field": "total_spend", "operator": "contains",
                                        "value": "5"}]}]}
    r = api.post("/api/v1/segments/preview", json={"rules": bad}, headers=make_key("read"))
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_rules"
    assert err["details"]["path"] == "rules[1].rules[0]"
    assert err["details"]["field"] == "total_spend"
    assert "contains" in err["message"]


def test_scopes_are_enforced(api: TestClient, make_key) -> None:
    assert api.post("/api/v1/segments/preview", json={"rules": BIG}).status_code == 401
    r = api.post("/api/v1/segments", json={"name": "x", "rules": BIG}, headers=make_key("read"))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    bad_key = {"Authorization": "Bearer mc_nope"}
    assert api.get("/api/v1/segments", headers=bad_key).status_code == 401


def test_save_list_update_delete(api: TestClient, make_key, shoppers) -> None:
    h = make_key("read", "campaigns")
    created = api.post("/api/v1/segments", json={"name": " Big spenders ", "rules": BIG},
                       headers=h)
    assert created.status_code == 201, created.text
    seg = created.json()
    assert seg["name"] == "Big spenders" and seg["size"] == 3
    listed = api.get("/api/v1/segments", headers=h).json()
    assert [s["id"] for s in listed] == [seg["id"]]
    wider = {"combinator": "and", "rules": [{"field": "total_spend", "operator": ">=",
                                             "value": 100}]}
    updated = api.put(f"/api/v1/segments/{seg['id']}", json={"name": "All", "rules": wider},
                      headers=h)
    assert updated.json()["size"] == 4
    assert api.delete(f"/api/v1/segments/{seg['id']}", headers=h).status_code == 204
    assert api.get(f"/api/v1/segments/{seg['id']}", headers=h).status_code == 404
    assert api.delete(f"/api/v1/segments/{seg['id']}", headers=h).status_code == 404


def test_unknown_body_fields_are_refused(api: TestClient, make_key) -> None:
    r = api.post("/api/v1/segments/preview", json={"rules": BIG, "limit": 3},
                 headers=make_key("read"))
    assert r.status_code == 422
    assert "limit" in r.json()["error"]["message"]

"""The segments HTTP API on every database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from mini_crm.core.segments import service
from mini_crm.models import Customer, Segment, utcnow

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


def test_a_saved_segment_whose_rules_no_longer_validate_is_listed(
        api: TestClient, make_key, shoppers, session: Session) -> None:
    """Rules saved under an older schema (here an operator a field no longer takes) are
    listed the way the Segments page lists them, not answered with a 422 that hides
    every other segment."""
    h = make_key("read", "campaigns")
    good = api.post("/api/v1/segments", json={"name": "Big", "rules": BIG}, headers=h).json()
    stale = Segment(name="Old spenders", rules={"combinator": "and", "rules": [
        {"field": "total_spend", "operator": "contains", "value": "5"}]})
    session.add(stale)
    session.commit()
    session.refresh(stale)

    listed = api.get("/api/v1/segments", headers=h)
    assert listed.status_code == 200, listed.text
    by_id = {s["id"]: s for s in listed.json()}
    assert set(by_id) == {good["id"], stale.id}
    assert by_id[good["id"]]["size"] == 3 and by_id[good["id"]]["rules_error"] is None
    old = by_id[stale.id]
    assert old["size"] is None
    assert old["sentence"].startswith("Invalid rules: ") and "contains" in old["sentence"]
    assert old["rules_error"] and old["sentence"] == f"Invalid rules: {old['rules_error']}"
    one = api.get(f"/api/v1/segments/{stale.id}", headers=h)
    assert one.status_code == 200 and one.json()["sentence"] == old["sentence"]
    # The UI's list says the same words.
    [summary] = [s for s in service.segment_summaries(session) if s.id == stale.id]
    assert summary.sentence == old["sentence"] and summary.size is None


def test_a_name_in_use_is_a_conflict_naming_the_segment(api: TestClient, make_key,
                                                        session: Session) -> None:
    h = make_key("read", "campaigns")
    first = api.post("/api/v1/segments", json={"name": "Big spenders", "rules": BIG},
                     headers=h).json()
    for name in ("Big spenders", "  big SPENDERS  "):
        r = api.post("/api/v1/segments", json={"name": name, "rules": BIG}, headers=h)
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert error["code"] == "conflict"
        assert "“Big spenders” already exists" in error["message"]
        assert error["details"] == {"field": "name", "segment_id": first["id"],
                                    "name": "Big spenders"}
    other = api.post("/api/v1/segments", json={"name": "Pune", "rules": BIG}, headers=h).json()
    # renaming onto another segment's name is the same conflict; re-casing its own is not
    r = api.put(f"/api/v1/segments/{other['id']}", json={"name": "BIG spenders ",
                                                         "rules": BIG}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["details"]["segment_id"] == first["id"]
    r = api.put(f"/api/v1/segments/{first['id']}", json={"name": "BIG Spenders",
                                                         "rules": BIG}, headers=h)
    assert r.status_code == 200 and r.json()["name"] == "BIG Spenders"
    r = api.put(f"/api/v1/segments/{first['id']}", json={"name": "   ", "rules": BIG},
                headers=h)
    assert r.status_code == 422 and "needs a name" in r.json()["error"]["message"]
    names = sorted(s["name"] for s in api.get("/api/v1/segments", headers=h).json())
    assert names == ["BIG Spenders", "Pune"]


def test_duplicating_twice_numbers_the_copies(session: Session) -> None:
    seg = service.save_segment(session, name="Lapsed", rules=BIG)
    first = service.duplicate_segment(session, seg.id)
    second = service.duplicate_segment(session, seg.id)
    assert (first.name, second.name) == ("Lapsed (copy)", "Lapsed (copy 2)")
    long = service.save_segment(session, name="x" * service.MAX_NAME, rules=BIG)
    copy = service.duplicate_segment(session, long.id)
    assert len(copy.name) == service.MAX_NAME and copy.name.endswith(" (copy)")
    with pytest.raises(service.NameTaken) as taken:
        service.save_segment(session, name=" lapsed ", rules=BIG)
    assert taken.value.segment_id == seg.id

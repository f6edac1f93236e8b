"""What a fresh API tester found launching campaigns (h25), on SQLite, PostgreSQL and
MariaDB: drafts take a holdout (and A/B settings) as create does; an audience group
without conditions is refused wherever rules choose whom to send to; a finished
campaign is not "cancelled"; a holdout that keeps back everyone is warned of and
refused."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mini_crm.core.campaigns import service, split
from mini_crm.models import CommunicationLog
from tests.integration.campaign_helpers import add_customers, city_rules

LOG = CommunicationLog.__table__
BLANK_RULES = [{}, {"combinator": "and"}, {"combinator": "or"},
               {"combinator": "and", "rules": []},
               {"combinator": "and", "rules": [
                   {"field": "city", "operator": "=", "value": "Pune"},
                   {"combinator": "or", "rules": []}]}]


@pytest.fixture
def no_enqueue(monkeypatch: pytest.MonkeyPatch) -> None:
    # The launch fills the log in the database; delivery itself is not under test here.
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a, **k: None)


@pytest.fixture
def h(make_key) -> dict[str, str]:
    return make_key("campaigns", "read")


def _draft(api: TestClient, h: dict[str, str], **body: Any) -> dict[str, Any]:
    r = api.post("/api/v1/campaigns/drafts", headers=h, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_drafts_take_a_holdout_and_ab_settings_as_create_does(
        api: TestClient, h: dict[str, str], app_settings: sa.Engine, no_enqueue: None) -> None:
    add_customers(app_settings, 10)
    draft = _draft(api, h, name="Held", rules=city_rules("Pune"), message="Hi {name}",
                   holdout_percent=10)
    assert draft["holdout_percent"] == 10
    r = api.patch(f"/api/v1/campaigns/{draft['id']}", headers=h,
                  json={"holdout_percent": 20, "ab_test": {"test_percent": 50},
                        "variants": [{"message": "Hi A"}, {"message": "Hi B"}]})
    assert r.status_code == 200, r.text
    assert r.json()["holdout_percent"] == 20
    for bad in (51, -1, "5", True):
        r = api.patch(f"/api/v1/campaigns/{draft['id']}", headers=h,
                      json={"holdout_percent": bad})
        assert r.status_code == 422, (bad, r.text)
        assert "holdout_percent" in r.text
    r = api.post(f"/api/v1/campaigns/{draft['id']}/launch", headers=h,
                 json={"holdout_percent": 30})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["holdout_percent"]) == ("sending", 30)
    assert body["holdout"]["size"] == 3 and body["recipients"] == 7
    assert {v["key"] for v in body["variants"]} == {"A", "B"}


def test_a_launch_body_with_a_bad_holdout_changes_nothing(
        api: TestClient, h: dict[str, str], app_settings: sa.Engine, no_enqueue: None) -> None:
    add_customers(app_settings, 3)
    draft = _draft(api, h, name="Held", rules=city_rules("Pune"), message="Hi")
    r = api.post(f"/api/v1/campaigns/{draft['id']}/launch", headers=h,
                 json={"holdout_percent": 60})
    assert r.status_code == 422, r.text
    assert api.get(f"/api/v1/campaigns/{draft['id']}", headers=h).json()["status"] == "draft"


@pytest.mark.parametrize("rules", BLANK_RULES)
def test_a_group_without_conditions_is_refused_wherever_rules_choose_an_audience(
        api: TestClient, h: dict[str, str], app_settings: sa.Engine,
        no_enqueue: None, rules: dict[str, Any]) -> None:
    add_customers(app_settings, 3)
    calls = [("/api/v1/campaigns/preview", {"rules": rules}),
             ("/api/v1/campaigns", {"name": "All", "rules": rules, "message": "Hi",
                                    "schedule_at": "2031-01-01T10:00:00+05:30"}),
             ("/api/v1/campaigns", {"name": "All", "rules": rules, "message": "Hi"}),
             ("/api/v1/segments", {"name": "All", "rules": rules}),
             ("/api/v1/segments/preview", {"rules": rules})]
    for path, body in calls:
        r = api.post(path, headers=h, json=body)
        assert r.status_code == 422, (path, r.text)
        error = r.json()["error"]
        assert error["code"] == "invalid_rules", (path, r.text)
        assert "has no conditions" in error["message"] and "add a condition" in \
            error["message"], (path, error)
    draft = _draft(api, h, name="All", rules=rules, message="Hi")  # a draft may be unfinished
    r = api.post(f"/api/v1/campaigns/{draft['id']}/launch", headers=h)
    assert r.status_code == 422, r.text  # {} on a draft is no audience chosen at all
    assert "has no conditions" in r.text or "choose an audience" in r.text
    with app_settings.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(LOG)).scalar_one() == 0


def test_the_blank_groups_say_what_they_would_have_matched(
        api: TestClient, h: dict[str, str], app_settings: sa.Engine) -> None:
    said = {}
    for rules in ({}, {"combinator": "or"}):
        r = api.post("/api/v1/campaigns/preview", headers=h, json={"rules": rules})
        said[rules.get("combinator", "and")] = r.json()["error"]["message"]
    assert "would match every customer" in said["and"]
    assert "would match no one" in said["or"]


def test_a_finished_campaign_is_not_cancelled(api: TestClient, h: dict[str, str],
                                              app_settings: sa.Engine,
                                              no_enqueue: None) -> None:
    add_customers(app_settings, 3)
    r = api.post("/api/v1/campaigns", headers=h, json={
        "name": "Done", "rules": city_rules("Pune"), "message": "Hi", "tags": []})
    cid = r.json()["id"]
    assert r.json()["status"] == "sending"
    with app_settings.begin() as conn:  # every message went out; no job marked it done yet
        conn.execute(LOG.update().where(LOG.c.campaign_id == cid)
                     .values(status="sent", sent_at=sa.func.now()))
    answer = api.post(f"/api/v1/campaigns/{cid}/cancel", headers=h)
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["code"] == "conflict" and "already completed" in error["message"]
    assert error["details"]["status"] == "completed"
    detail = api.get(f"/api/v1/campaigns/{cid}", headers=h).json()
    assert (detail["status"], detail["sent"], detail["cancelled"]) == ("completed", 3, 0)


def test_a_campaign_with_messages_left_is_still_cancelled(
        api: TestClient, h: dict[str, str], app_settings: sa.Engine, no_enqueue: None) -> None:
    add_customers(app_settings, 3)
    r = api.post("/api/v1/campaigns", headers=h, json={
        "name": "Stop", "rules": city_rules("Pune"), "message": "Hi", "tags": []})
    answer = api.post(f"/api/v1/campaigns/{r.json()['id']}/cancel", headers=h)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["cancelled"]) == ("cancelled", 3)


def test_a_holdout_that_keeps_back_everyone_is_warned_of_then_refused(
        api: TestClient, h: dict[str, str], app_settings: sa.Engine, no_enqueue: None) -> None:
    add_customers(app_settings, 1)
    r = api.post("/api/v1/campaigns/preview", headers=h,
                 json={"rules": city_rules("Pune"), "holdout_percent": 50})
    assert r.status_code == 200, r.text
    assert r.json()["holdout_about"] == 1 and r.json()["recipients"] == 1
    assert r.json()["warnings"] == [
        "A 50% holdout keeps back the only eligible customer: nobody would be sent this "
        "campaign. Lower the holdout (or set it to 0) or widen the audience."]
    r = api.post("/api/v1/campaigns", headers=h, json={
        "name": "Nobody", "rules": city_rules("Pune"), "message": "Hi",
        "holdout_percent": 50})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["field"] == "holdout_percent"
    assert "nobody would be sent" in r.json()["error"]["message"]
    draft = _draft(api, h, name="Nobody", rules=city_rules("Pune"), message="Hi",
                   holdout_percent=50)
    r = api.post(f"/api/v1/campaigns/{draft['id']}/launch", headers=h)
    assert r.status_code == 422 and "nobody would be sent" in r.text
    assert api.get(f"/api/v1/campaigns/{draft['id']}", headers=h).json()["status"] == "draft"
    with app_settings.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(LOG)).scalar_one() == 0
    r = api.post(f"/api/v1/campaigns/{draft['id']}/launch", headers=h,
                 json={"holdout_percent": 0})
    assert r.status_code == 200 and r.json()["recipients"] == 1


def test_holdout_leaves_nobody_only_when_it_keeps_everyone() -> None:
    assert split.holdout_leaves_nobody(1, 50) is not None
    assert split.holdout_leaves_nobody(1, 45) is None  # 0.45 rounds to 0
    assert split.holdout_leaves_nobody(3, 50) is None  # 2 held, 1 sent
    assert split.holdout_leaves_nobody(0, 50) is None  # nobody to send to anyway
    assert split.holdout_leaves_nobody(5, 0) is None

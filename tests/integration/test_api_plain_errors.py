"""Request errors on every API route in the user's words: bad JSON is the same 400 on
every route, a body that is not an object says so, and schema errors name the field
without pydantic's phrasing."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from mini_crm.core import plain_errors

NOT_JSON = ("body is not valid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)")
RULES = {"combinator": "and", "rules": [{"field": "total_spend", "operator": ">=", "value": 0}]}


@pytest.fixture
def keys(make_key) -> dict[str, str]:
    return make_key("ingest", "read", "campaigns", "ai")


@pytest.mark.parametrize("path", [
    "/api/v1/customers", "/api/v1/orders", "/api/v1/campaigns", "/api/v1/segments",
    "/api/v1/segments/preview", "/api/v1/campaigns/preview", "/api/v1/ai/segment-rules",
    "/api/v1/customers/c-1/unsubscribe", "/api/v1/suppressions"])
def test_bad_json_is_one_400_everywhere(api: TestClient, keys, app_settings, path) -> None:
    r = api.post(path, content="{bad", headers={**keys, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == {"code": "bad_request", "message": NOT_JSON, "details": None}


@pytest.mark.parametrize(("content", "ctype"), [
    ('{"rules": {}}', "text/plain"), ("hello", "text/plain"), ("[1, 2]", "application/json"),
    ('"rules"', "application/json")])
def test_a_body_that_is_not_an_object(api: TestClient, keys, app_settings, content,
                                      ctype) -> None:
    r = api.post("/api/v1/segments", content=content,
                 headers={**keys, "Content-Type": ctype})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"] == "the body must be a JSON object"


def test_a_rule_value_past_floats_range(api: TestClient, keys, app_settings) -> None:
    body = ('{"rules": {"combinator": "and", "rules": [{"field": "total_spend", '
            '"operator": ">", "value": 1e400}]}}')
    r = api.post("/api/v1/segments/preview", content=body,
                 headers={**keys, "Content-Type": "application/json"})
    assert r.status_code == 422
    message = r.json()["error"]["message"]
    assert "too large a number" in message and "inf" not in message.replace("infinity", "")


@pytest.mark.parametrize(("schedule_at", "message"), [
    ("2026-02-30", "2026-02-30 is not a date (February has 28 days in 2026)"),
    ("soon", "'soon' is not an ISO 8601 timestamp; write e.g. 2026-11-29T13:30:00+05:30, "
             "or without an offset for Asia/Kolkata time")])
def test_schedule_at_without_library_prefixes(api: TestClient, keys, app_settings,
                                              schedule_at, message) -> None:
    r = api.post("/api/v1/campaigns", json={"name": "x", "message": "hi", "channel": "sms",
                                            "rules": RULES, "schedule_at": schedule_at},
                 headers=keys)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["message"] == message
    assert error["details"][0]["loc"] == ["body", "schedule_at"]


def test_schema_errors_name_the_field(api: TestClient, keys, app_settings) -> None:
    r = api.post("/api/v1/segments", json={"rules": RULES}, headers=keys)
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "name is required"
    r = api.post("/api/v1/segments", json={"name": "x" * 1000, "rules": RULES}, headers=keys)
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("name is 1000 characters; at most ")


@pytest.mark.parametrize("path", [
    "/api/v1/customers", "/api/v1/orders", "/api/v1/campaigns", "/api/v1/segments",
    "/api/v1/segments/preview", "/api/v1/campaigns/drafts", "/api/v1/ai/segment-rules",
    "/api/v1/suppressions"])
@pytest.mark.parametrize("content", ["", "  \n"])
def test_an_empty_body_says_so(api: TestClient, keys, app_settings, path, content) -> None:
    r = api.post(path, content=content, headers={**keys, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == {"code": "bad_request", "details": None,
                                 "message": "the request body is empty; send a JSON object"}


def test_an_optional_body_may_still_be_empty(api: TestClient, keys, app_settings) -> None:
    api.post("/api/v1/customers", json={"external_id": "c-1"}, headers=keys)
    r = api.post("/api/v1/customers/c-1/unsubscribe", content="", headers=keys)
    assert r.status_code == 200, r.text


def test_wrong_types_are_named_in_json_words(api: TestClient, keys, app_settings) -> None:
    r = api.post("/api/v1/segments", json={"name": None, "rules": RULES}, headers=keys)
    assert r.json()["error"]["message"] == "name must be text, not null"
    r = api.post("/api/v1/campaigns", json={"name": ["x"], "message": "hi", "rules": RULES},
                 headers=keys)
    assert r.json()["error"]["message"] == 'name must be text, not ["x"]'


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/campaigns", {"name": "x", "message": "hi", "rules": RULES,
                           "holdout_percent": True}, "holdout_percent"),
    ("/api/v1/campaigns", {"name": "x", "rules": RULES, "variants": [{"message": "a"},
                           {"message": "b"}], "ab_test": {"test_percent": True}},
     "ab_test.test_percent"),
    ("/api/v1/campaigns/preview", {"rules": RULES, "holdout_percent": False},
     "holdout_percent"),
    ("/api/v1/campaigns/drafts", {"step": True}, "step"),
    ("/api/v1/segments/preview", {"rules": RULES, "sample": True}, "sample"),
    ("/api/v1/segments/preview", {"rules": RULES, "sample": "5"}, "sample"),
    ("/api/v1/ai/messages", {"objective": "win back", "n": True}, "n"),
])
def test_a_boolean_or_text_is_not_a_number(api: TestClient, keys, app_settings, path, body,
                                           field) -> None:
    r = api.post(path, json=body, headers=keys)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith(f"{field} must be a whole number, not ")


@pytest.mark.parametrize(("rule", "words"), [
    ({"field": "total_spend", "operator": ">", "value": True}, "expected a number: true is "
                                                                "not a number"),
    ({"field": "total_spend", "operator": ">", "value": {"x": 1}}, '{"x": 1} is not a number'),
    ({"field": "order_count", "operator": ">", "value": None}, "null is not a number"),
    ({"field": "city", "operator": "=", "value": [True]}, "expected text, got [true]"),
    ({"field": "window_order_count", "operator": ">", "value": 1,
      "window": {"last_days": True}}, "from 1 to 36500, got true"),
])
def test_rule_values_are_shown_in_json_words(api: TestClient, keys, app_settings, rule,
                                             words) -> None:
    r = api.post("/api/v1/segments/preview", json={"rules": {"combinator": "and",
                                                             "rules": [rule]}}, headers=keys)
    assert r.status_code == 422, r.text
    message = r.json()["error"]["message"]
    assert words in message, message
    assert not re.search(r"\bTrue\b|\bNone\b|\{'", message), message


@pytest.mark.parametrize(("url", "message"), [
    ("/api/v1/customers?limit=abc",
     "limit (in the address) must be a whole number from 1 to 500, not 'abc'"),
    ("/api/v1/orders?limit=0",
     "limit (in the address) must be a whole number from 1 to 500, not 0"),
    ("/api/v1/suppressions?limit=5.5",
     "limit (in the address) must be a whole number from 1 to 500, not 5.5"),
    ("/api/v1/customers?limit=", "limit (in the address) is empty; write a whole number from 1 "
                                 "to 500"),
    ("/api/v1/segments?offset=-1",
     "offset (in the address) must be a whole number from 0 to 2147483647, not -1"),
    ("/api/v1/campaigns?limit=201",
     "limit (in the address) must be a whole number from 1 to 200, not 201"),
    ("/api/v1/segments/0",
     "segment_id (in the address) must be a whole number from 1 to 2147483647, not 0"),
    ("/api/v1/campaigns/99999999999/insights",
     "campaign_id (in the address) must be a whole number from 1 to 2147483647, not "
     "99999999999"),
    ("/api/v1/campaigns?status=done", "status (in the address) must be '', 'draft', "
     "'scheduled', 'sending', 'completed', 'cancelled' or 'failed', not 'done'"),
    ("/api/v1/campaigns?tag=" + "x" * 41, "tag (in the address) is 41 characters; at most 40"),
    ("/api/v1/suppressions?channel=fax",
     "channel (in the address) must be 'sms', 'email' or 'whatsapp', not 'fax'"),
    ("/api/v1/imports/xyz",
     "import_id (in the address) 'xyz' is not the id POST /api/v1/imports answered with"),
    ("/api/v1/orders?cursor=zzz", "cursor (in the address) is not one this API gave out: "
                                  "pass back the next_cursor of the previous page"),
])
def test_address_errors_name_the_parameter(api: TestClient, keys, app_settings, url,
                                           message) -> None:
    # Query and path parameters read like body fields, by the name written in the URL,
    # with a whole number's range; the status and the details' loc stay as they were.
    r = api.get(url, headers=keys)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["message"] == message
    assert "query." not in error["message"] and "path." not in error["message"]


@pytest.mark.parametrize("url", ["/api/v1/customers?limit=5.0", "/api/v1/suppressions?channel=SMS",
                                 "/api/v1/suppressions?channel="])
def test_address_values_read_as_meant(api: TestClient, keys, app_settings, url) -> None:
    assert api.get(url, headers=keys).status_code == 200


@pytest.mark.parametrize(("holdout", "status"), [(5.0, 201), (5, 201), (5.5, 422), (True, 422),
                                                 ("5", 422)])
def test_a_whole_number_written_as_a_json_float(api: TestClient, keys, app_settings, holdout,
                                                status) -> None:
    r = api.post("/api/v1/campaigns", json={"name": "x", "message": "hi", "channel": "sms",
                                            "rules": RULES, "holdout_percent": holdout},
                 headers=keys)
    assert r.status_code == status, r.text
    if status == 201:
        assert r.json()["holdout_percent"] == 5
    else:
        assert r.json()["error"]["message"] == (f"holdout_percent must be a whole number, "
                                                f"not {plain_errors.shown(holdout)}")


IMPOSSIBLE = "2026-02-30 is not a date (February has 28 days in 2026)"


@pytest.mark.parametrize("rule", [
    {"field": "created_at", "operator": ">", "value": "2026-02-30"},
    {"field": "last_order_at", "operator": "between", "value": ["2026-01-01", "2026-02-30"]},
    {"field": "window_order_count", "operator": ">", "value": 0,
     "window": {"from": "2026-02-01", "to": "2026-02-30"}}])
def test_one_message_for_a_day_the_calendar_lacks(api: TestClient, keys, app_settings,
                                                  rule) -> None:
    # The same words as schedule_at's (above) and a CSV's or an API timestamp's.
    r = api.post("/api/v1/segments/preview", json={"rules": {"combinator": "and",
                                                             "rules": [rule]}}, headers=keys)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["message"].endswith(IMPOSSIBLE)

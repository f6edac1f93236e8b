"""The campaigns REST API over the real FastAPI app (every database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mini_crm.core import jobs
from mini_crm.core.delivery import sending
from mini_crm.settings import get_settings
from tests.integration.campaign_helpers import (
    FakeVendor,
    add_customers,
    campaign_status,
    city_rules,
    wait_for,
)


@pytest.fixture
def vendor(app_settings: sa.Engine, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DELIVERY_BATCH_SIZE", "4")
    get_settings.cache_clear()
    fake = FakeVendor()
    monkeypatch.setattr(sending, "vendor_client", lambda channel: fake)
    yield fake
    jobs.shutdown_local(wait=True)


def test_create_launches_and_get_reports_counters(api: TestClient, make_key, vendor,
                                                  app_settings: sa.Engine) -> None:
    add_customers(app_settings, 9)
    add_customers(app_settings, 1, start=40, email=None)
    h = make_key("campaigns", "read")
    r = api.post("/api/v1/campaigns", headers=h, json={
        "name": "Monsoon", "rules": city_rules("Pune"), "channel": "email",
        "message": "Hi {name}", "tags": ["Rain", "sale"], "objective": "sell umbrellas"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] in ("sending", "completed") and body["audience_size"] == 10
    assert body["tags"] == ["rain", "sale"] and body["message"] == "Hi {name}"
    wait_for(lambda: campaign_status(app_settings, body["id"]) == "completed")
    got = api.get(f"/api/v1/campaigns/{body['id']}", headers=h).json()
    assert {k: got[k] for k in ("audience_size", "recipients", "sent", "failed", "delivered",
                                "undelivered", "pending", "status")} == {
        "audience_size": 10, "recipients": 9, "sent": 9, "failed": 0, "delivered": 0,
        "undelivered": 0, "pending": 0, "status": "completed"}
    assert got["skipped"] == {"unsubscribed": 0, "suppressed": 0, "no_address": 1,
                              "duplicate_address": 0, "frequency_cap": 0}
    assert set(vendor.accepted) and len(vendor.accepted) == 9


def test_a_second_launch_to_the_same_people_is_said_before_launch(
        api: TestClient, make_key, vendor, app_settings: sa.Engine) -> None:
    """A duplicate launched again messaged the same people minutes later with only the
    frequency cap to stop it: the preview says how many and from which campaign."""
    add_customers(app_settings, 6)
    h = make_key("campaigns", "read")
    first = api.post("/api/v1/campaigns", headers=h, json={
        "name": "Diwali sale", "rules": city_rules("Pune"), "channel": "sms",
        "message": "Hi {name}"})
    assert first.status_code == 201, first.text
    wait_for(lambda: campaign_status(app_settings, first.json()["id"]) == "completed")
    again = api.post("/api/v1/campaigns/preview", headers=h,
                     json={"rules": city_rules("Pune"), "channel": "email"})
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["recipients"] == 6  # not refused, nobody skipped: the cap is 3 in 7 days
    assert body["recently_messaged"] == {"people": 6, "hours": 24, "campaigns": [
        {"id": first.json()["id"], "name": "Diwali sale", "people": 6}]}
    assert body["warnings"] == [
        "6 of these people got a message from “Diwali sale” in the last 24 h; launching "
        "messages them again (the frequency cap leaves out only those with 3 messages in "
        "7 days)."]
    # Still launchable.
    second = api.post("/api/v1/campaigns", headers=h, json={
        "name": "Diwali sale (copy)", "rules": city_rules("Pune"), "channel": "email",
        "message": "Hi {name}"})
    assert second.status_code == 201, second.text


def test_preview_counts_recipients_and_skips_without_launching(
        api: TestClient, make_key, vendor, app_settings: sa.Engine) -> None:
    add_customers(app_settings, 3)
    add_customers(app_settings, 2, start=10, phone=None)
    add_customers(app_settings, 2, start=20, phone="+919811111111")
    h = make_key("read")
    r = api.post("/api/v1/campaigns/preview", headers=h,
                 json={"rules": city_rules("Pune"), "channel": "sms"})
    assert r.status_code == 200, r.text
    assert r.json() == {"matching": 7, "recipients": 4, "skipped": {
        "unsubscribed": 0, "suppressed": 0, "no_address": 2, "duplicate_address": 1,
        "frequency_cap": 0}, "holdout_about": 0, "warnings": [],
        "no_address_detail": {"no_phone": 2, "not_mobile": 0},
        "recently_messaged": {"people": 0, "hours": 24, "campaigns": []},
        "summary": "7 match · 4 will receive · skipped: 2 no mobile number, 1 duplicate "
                   "address"}
    # A channel is a word in any case, as a currency is ("SMS" was a 422).
    shouted = api.post("/api/v1/campaigns/preview", headers=h,
                       json={"rules": city_rules("Pune"), "channel": " SMS "})
    assert shouted.status_code == 200 and shouted.json() == r.json(), shouted.text
    fax = api.post("/api/v1/campaigns/preview", headers=h,
                   json={"rules": city_rules("Pune"), "channel": "Fax"})
    assert fax.status_code == 422 and "channel" in fax.text
    saved = api.post("/api/v1/segments", headers=make_key("campaigns", "read"),
                     json={"name": "Pune", "rules": city_rules("Pune")})
    assert saved.status_code in (200, 201), saved.text
    by_segment = api.post("/api/v1/campaigns/preview", headers=h,
                          json={"segment_id": saved.json()["id"], "channel": "email"})
    assert by_segment.json()["recipients"] == 7  # every test customer has its own email
    assert api.get("/api/v1/campaigns", headers=h).json()["total"] == 0  # nothing launched
    for body, field in [({"rules": city_rules("Pune"), "channel": "fax"}, "channel"),
                        ({"segment_id": 99999, "channel": "sms"}, "segment_id"),
                        ({"channel": "sms"}, "rules")]:
        bad = api.post("/api/v1/campaigns/preview", headers=h, json=body)
        assert bad.status_code == 422, (body, bad.text)
        if field != "channel":  # the channel is refused by the schema itself
            assert bad.json()["error"]["details"] == {"field": field}
    # Rules and a segment together: refused on preview and create (rules used to win
    # silently), the message naming both fields; nothing created.
    both = {"rules": city_rules("Mumbai"), "segment_id": saved.json()["id"]}
    for path, extra in [("/api/v1/campaigns/preview", {"channel": "sms"}),
                        ("/api/v1/campaigns", {"name": "Both", "message": "Hi"})]:
        bad = api.post(path, headers=make_key("campaigns", "read"), json={**both, **extra})
        assert bad.status_code == 422, (path, bad.text)
        error = bad.json()["error"]
        assert error["code"] == "invalid_campaign"
        assert error["details"] == {"field": "segment_id"}
        assert "rules" in error["message"] and "segment_id" in error["message"]
    assert api.get("/api/v1/campaigns", headers=h).json()["total"] == 0


def test_bad_rules_answer_invalid_rules_on_every_campaign_route(
        api: TestClient, make_key, vendor) -> None:
    """The same fault, the same code as POST /api/v1/segments: `invalid_rules` with the
    rule's path, field and reason, whether the rules come to a preview, a create, a
    draft or a launch."""
    h = make_key("campaigns", "read")
    bad = {"combinator": "and", "rules": [city_rules("Pune")["rules"][0],
                                          {"field": "total_spend", "operator": ">",
                                           "value": "lots"}]}
    segment = api.post("/api/v1/segments", headers=h, json={"name": "Bad", "rules": bad})
    assert segment.status_code == 422, segment.text
    expected = segment.json()["error"]
    assert expected["code"] == "invalid_rules"
    assert expected["details"]["path"] == "rules[1]"
    assert expected["details"]["field"] == "total_spend"
    draft = api.post("/api/v1/campaigns/drafts", headers=h,
                     json={"name": "Later", "rules": bad, "channel": "sms",
                           "message": "Hi"})
    assert draft.status_code == 201, draft.text  # a draft may be unfinished
    for path, body in [
            ("/api/v1/campaigns/preview", {"rules": bad, "channel": "sms"}),
            ("/api/v1/campaigns", {"name": "Bad", "rules": bad, "channel": "sms",
                                   "message": "Hi"}),
            (f"/api/v1/campaigns/{draft.json()['id']}/launch", {})]:
        r = api.post(path, headers=h, json=body)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["error"] == expected, path
    assert api.get("/api/v1/campaigns?status=sending", headers=h).json()["total"] == 0


def test_list_filters_and_pagination(api: TestClient, make_key, vendor,
                                     app_settings: sa.Engine) -> None:
    h = make_key("campaigns", "read")
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    for i, (name, tag) in enumerate([("Alpha", "a"), ("Beta", "b"), ("Gamma", "a")]):
        r = api.post("/api/v1/campaigns", headers=h, json={
            "name": name, "rules": city_rules("X"), "message": "Hi", "tags": [tag],
            **({"schedule_at": later} if i == 2 else {})})
        assert r.status_code == 201, r.text
    page = api.get("/api/v1/campaigns?limit=2", headers=h).json()
    assert page["total"] == 3 and [c["name"] for c in page["items"]] == ["Gamma", "Beta"]
    assert api.get("/api/v1/campaigns?limit=2&offset=2", headers=h).json()["items"][0][
        "name"] == "Alpha"
    assert [c["name"] for c in api.get("/api/v1/campaigns?tag=a", headers=h).json()[
        "items"]] == ["Gamma", "Alpha"]
    assert api.get("/api/v1/campaigns?status=scheduled", headers=h).json()["total"] == 1
    assert api.get("/api/v1/campaigns?search=bet", headers=h).json()["total"] == 1
    assert api.get("/api/v1/campaigns?status=bogus", headers=h).status_code == 422


def test_cancel_and_errors(api: TestClient, make_key, vendor, app_settings: sa.Engine) -> None:
    h = make_key("campaigns", "read")
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = api.post("/api/v1/campaigns", headers=h, json={
        "name": "Later", "rules": city_rules("Pune"), "message": "Hi", "schedule_at": later})
    cid = r.json()["id"]
    assert r.json()["status"] == "scheduled"
    assert api.post(f"/api/v1/campaigns/{cid}/cancel", headers=h).json()["status"] == "cancelled"
    again = api.post(f"/api/v1/campaigns/{cid}/cancel", headers=h)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert again.json()["error"]["details"] == {"field": "status", "status": "cancelled"}
    assert api.get("/api/v1/campaigns/2147483647", headers=h).status_code == 404
    assert api.post("/api/v1/campaigns/2147483647/cancel", headers=h).status_code == 404
    bad = api.post("/api/v1/campaigns", headers=h, json={
        "name": "x", "rules": city_rules("Pune"), "message": "Hi {nope}"})
    assert bad.status_code == 422 and bad.json()["error"]["details"] == {"field": "message"}
    assert "{nope}" in bad.json()["error"]["message"]
    read_only = make_key("read")
    assert api.post("/api/v1/campaigns", headers=read_only, json={
        "name": "x", "rules": city_rules("Pune"), "message": "Hi"}).status_code == 403
    assert api.get("/api/v1/campaigns", headers=make_key("ingest")).status_code == 403


def test_log_csv_streams_for_a_session_or_a_read_key(api: TestClient, make_key, vendor,
                                                     app_settings: sa.Engine) -> None:
    from datetime import timedelta as _td

    from sqlmodel import Session

    from mini_crm.core.auth import sessions, users

    add_customers(app_settings, 5)
    h = make_key("campaigns", "read")
    created = api.post("/api/v1/campaigns", headers=h, json={
        "name": "Export me", "rules": city_rules("Pune"), "message": "Hi {name}"}).json()
    wait_for(lambda: campaign_status(app_settings, created["id"]) == "completed")
    path = f"/api/v1/campaigns/{created['id']}/log.csv"

    assert api.get(path).status_code == 401  # neither a session nor a key
    assert api.get(path, headers=make_key("ingest")).status_code == 403
    by_key = api.get(path, headers=make_key("read"))
    assert by_key.status_code == 200 and by_key.headers["content-type"].startswith("text/csv")
    lines = by_key.text.splitlines()
    assert lines[0].startswith("log_id,customer_external_id") and len(lines) == 6

    with Session(app_settings) as db:
        user = users.sign_in(db, email="ops@brand.in", subject="s1", name="Ops", picture=None,
                             domains_setting="brand.in")
        cookie = sessions.create(db, user, absolute=_td(hours=1))
        db.commit()
    by_session = api.get(path, cookies={sessions.COOKIE_NAME: cookie})
    assert by_session.status_code == 200 and by_session.text == by_key.text
    assert api.get("/api/v1/campaigns/999999/log.csv", headers=h).status_code == 404


def test_a_campaign_without_tags_is_tagged_by_intent(api: TestClient, make_key, vendor,
                                                    app_settings: sa.Engine) -> None:
    h = make_key("campaigns", "read")
    r = api.post("/api/v1/campaigns", headers=h, json={
        "name": "Happy Diwali", "rules": city_rules("Nowhere"),
        "message": "Light up this Diwali, {name}: 20% off festive wear",
        "objective": "festive sale"})
    assert r.status_code == 201, r.text
    assert "festive" in r.json()["tags"]
    explicit = api.post("/api/v1/campaigns", headers=h, json={
        "name": "Happy Diwali", "rules": city_rules("Nowhere"), "message": "Hi {name}",
        "tags": []})
    assert explicit.json()["tags"] == []  # an explicit empty list is respected


def test_a_draft_is_deleted_not_cancelled(api: TestClient, make_key, vendor,
                                          app_settings: sa.Engine) -> None:
    """A cancel of a draft once made a nameless `cancelled` campaign nobody could delete."""
    h = make_key("campaigns", "read")
    draft = api.post("/api/v1/campaigns/drafts", headers=h, json={"name": "Idea"}).json()
    refused = api.post(f"/api/v1/campaigns/{draft['id']}/cancel", headers=h)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "conflict"
    assert error["details"] == {"field": "status", "status": "draft"}
    assert "draft" in error["message"] and "delete" in error["message"]
    assert api.get(f"/api/v1/campaigns/{draft['id']}", headers=h).json()["status"] == "draft"
    assert api.delete(f"/api/v1/campaigns/{draft['id']}", headers=h).status_code == 204


def test_audit_entries_name_the_api_key_that_acted(api: TestClient, make_key, vendor,
                                                   app_settings: sa.Engine) -> None:
    """Launch, cancel and segment changes made through a key showed "—" as their actor
    (the use cases take a user id; a key made outside the UI has none)."""
    from mini_crm.models import AuditEvent

    h = make_key("campaigns", "read")
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    cid = api.post("/api/v1/campaigns", headers=h, json={
        "name": "Later", "rules": city_rules("Pune"), "message": "Hi",
        "schedule_at": later}).json()["id"]
    assert api.post(f"/api/v1/campaigns/{cid}/cancel", headers=h).status_code == 200
    seg = api.post("/api/v1/segments", headers=make_key("campaigns", "read"), json={
        "name": "Pune people", "rules": city_rules("Pune")})
    assert seg.status_code in (200, 201), seg.text
    with sa.orm.Session(app_settings) as s:
        rows = s.execute(sa.select(AuditEvent.action, AuditEvent.actor_label)
                         .where(AuditEvent.action.in_(["campaign_cancelled",
                                                      "segment_created"]))).all()
    assert {action for action, _ in rows} == {"campaign_cancelled", "segment_created"}
    for action, label in rows:
        assert label is not None and label.startswith("api key test ("), (action, label)


def test_preview_with_a_holdout_adds_up_to_the_launch(api: TestClient, make_key, vendor,
                                                      app_settings: sa.Engine) -> None:
    """A fresh user previewed 1,139 recipients and launched 1,037 + 102 held out: the
    preview had no way to be told of the holdout. Its recipients are the launch's
    recipients plus its holdout; holdout_about is the expected share."""
    add_customers(app_settings, 40)
    h = make_key("campaigns", "read")
    body = {"rules": city_rules("Pune"), "channel": "email", "holdout_percent": 20}
    preview = api.post("/api/v1/campaigns/preview", headers=h, json=body)
    assert preview.status_code == 200, preview.text
    assert (preview.json()["recipients"], preview.json()["holdout_about"]) == (40, 8)
    # The sentence for people does not count the holdout as receiving (it said "40
    # will receive" for a launch that sent to about 32).
    assert preview.json()["summary"] == ("40 match · about 32 will receive · about 8 held "
                                         "out · nobody skipped")
    created = api.post("/api/v1/campaigns", headers=h, json={
        **body, "name": "With control", "message": "Hi {name}"}).json()
    got = api.get(f"/api/v1/campaigns/{created['id']}", headers=h).json()
    assert got["recipients"] + got["holdout"]["size"] == preview.json()["recipients"]
    bad = api.post("/api/v1/campaigns/preview", headers=h, json={**body, "holdout_percent": 60})
    assert bad.status_code == 422 and "holdout_percent" in bad.text


def test_an_email_only_field_on_sms_is_refused_like_a_variants_subject(
        api: TestClient, make_key, vendor, app_settings: sa.Engine) -> None:
    """A top-level subject on an SMS campaign was stored and never sent, while a
    variant's subject on SMS was refused: both are refused now, each naming its field."""
    h = make_key("campaigns", "read")
    base = {"name": "Sale", "rules": city_rules("Nowhere"), "channel": "sms"}
    r = api.post("/api/v1/campaigns", headers=h,
                 json={**base, "message": "Hi {name}", "subject": "20% off"})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == {
        "code": "invalid_campaign", "details": {"field": "email_subject"},
        "message": "a subject line is for email only; leave it out of an SMS campaign or "
                   "choose the email channel"}
    for extra, field in (({"preheader": "x"}, "email_preheader"),
                         ({"sender_name": "Shop"}, "sender_name")):
        r = api.post("/api/v1/campaigns", headers=h, json={**base, "message": "Hi", **extra})
        assert (r.status_code, r.json()["error"]["details"]) == (422, {"field": field})
    variant = api.post("/api/v1/campaigns", headers=h, json={**base, "variants": [
        {"message": "Hi", "subject": "A"}, {"message": "Hello"}]})
    assert variant.status_code == 422
    assert variant.json()["error"]["message"] == "variant A: a subject line is for email only"
    email = api.post("/api/v1/campaigns", headers=h, json={
        **base, "channel": "email", "message": "Hi", "subject": "20% off"})
    assert email.status_code == 201, email.text

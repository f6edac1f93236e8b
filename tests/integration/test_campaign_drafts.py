"""Campaign drafts on SQLite, PostgreSQL and MariaDB: a draft from the first step,
resumable and deletable; scheduled campaigns edited, rescheduled or sent now; any
campaign duplicated; each change audited, and a finished campaign refuses them all."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mini_crm.core.auth import audit
from mini_crm.core.campaigns import drafts, reports, service
from mini_crm.core.campaigns.errors import CampaignError, CampaignNotFound
from mini_crm.models import AuditEvent, Campaign, CommunicationLog, Segment, utcnow
from tests.integration.campaign_helpers import add_customers, city_rules


@pytest.fixture
def no_enqueue(monkeypatch: pytest.MonkeyPatch) -> None:
    # Launch fills the log in the database; delivery itself is not under test here.
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a, **k: None)


def _actions(s: Session) -> list[str]:
    return [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


def test_a_draft_is_saved_from_the_first_step_listed_and_resumable(session: Session) -> None:
    draft = drafts.create_draft(session, rules=city_rules("Pune"), draft_step=1)
    session.commit()
    assert draft.status == "draft" and draft.name == "" and draft.message_template == ""
    items, total = reports.list_campaigns(session, status="draft")
    assert total == 1 and items[0].id == draft.id

    drafts.update_draft(session, draft.id, name="  Diwali   win-back ", draft_step=2,
                        message_template="Hi {first_name}", channel="email")
    session.commit()
    again = session.get(Campaign, draft.id)
    session.refresh(again)
    assert (again.name, again.draft_step, again.channel) == ("Diwali win-back", 2, "email")
    assert again.rules == city_rules("Pune")  # what was not sent stays as it was

    with pytest.raises(CampaignError) as bad:
        drafts.update_draft(session, draft.id, channel="fax")
    assert bad.value.field == "channel"
    with pytest.raises(CampaignError):
        drafts.update_draft(session, draft.id, segment_id=999_999)
    with pytest.raises(CampaignNotFound):
        drafts.update_draft(session, 999_999, name="x")


def test_launching_a_draft_checks_it_in_full(session: Session, engine: sa.Engine,
                                             no_enqueue: None) -> None:
    add_customers(engine, 4)
    draft = drafts.create_draft(session, rules=city_rules("Pune"))
    session.commit()
    with pytest.raises(CampaignError) as missing:
        drafts.launch_draft(session, draft.id)
    assert missing.value.field == "name"
    session.rollback()
    drafts.update_draft(session, draft.id, name="Pune hello", message_template="Hi {nope}")
    with pytest.raises(CampaignError) as token:
        drafts.launch_draft(session, draft.id)
    assert token.value.field == "message"
    session.rollback()
    drafts.update_draft(session, draft.id, name="Pune hello", message_template="Hi {city}")
    launched = drafts.launch_draft(session, draft.id)
    session.commit()
    assert launched.status == "sending" and launched.audience_size == 4
    with pytest.raises(CampaignError):  # launched: no longer a draft
        drafts.update_draft(session, draft.id, name="changed")
    with pytest.raises(CampaignError):
        drafts.delete_draft(session, draft.id)


def test_scheduled_campaigns_edit_reschedule_and_send_now(session: Session, engine: sa.Engine,
                                                          no_enqueue: None) -> None:
    add_customers(engine, 3)
    add_customers(engine, 2, city="Mumbai", start=50)
    later = utcnow() + timedelta(days=2)
    draft = drafts.create_draft(session, name="Weekend", rules=city_rules("Pune"),
                                message_template="Hi {first_name}")
    drafts.launch_draft(session, draft.id, schedule_at=later)
    session.commit()
    assert draft.status == "scheduled"
    assert abs((draft.scheduled_at - later).total_seconds()) < 1

    drafts.update_draft(session, draft.id, rules=city_rules("Mumbai"),
                        message_template="Hello {city}")
    session.commit()
    assert draft.status == "scheduled" and draft.rules == city_rules("Mumbai")
    with pytest.raises(CampaignError) as broken:  # a scheduled one must stay launchable
        drafts.update_draft(session, draft.id, message_template="Hi {nope}")
    assert broken.value.field == "message"
    session.rollback()

    with pytest.raises(CampaignError) as past:
        drafts.reschedule(session, draft.id, utcnow() - timedelta(minutes=1))
    assert past.value.field == "schedule_at"
    sooner = utcnow() + timedelta(hours=3)
    drafts.reschedule(session, draft.id, sooner)
    session.commit()
    assert abs((session.get(Campaign, draft.id).scheduled_at - sooner).total_seconds()) < 1

    sent = drafts.send_now(session, draft.id)
    session.commit()
    assert sent.status == "sending" and sent.audience_size == 2  # the edited audience
    with pytest.raises(CampaignError):
        drafts.send_now(session, draft.id)
    with pytest.raises(CampaignError):
        drafts.reschedule(session, draft.id, utcnow() + timedelta(days=1))
    actions = _actions(session)
    for action in (audit.CAMPAIGN_DRAFT_CREATED, audit.CAMPAIGN_SCHEDULED,
                   audit.CAMPAIGN_EDITED, audit.CAMPAIGN_RESCHEDULED, audit.CAMPAIGN_LAUNCHED):
        assert action in actions


def test_duplicate_any_campaign_and_delete_only_drafts(session: Session, engine: sa.Engine,
                                                       no_enqueue: None) -> None:
    add_customers(engine, 2)
    segment = Segment(name="Pune", rules=city_rules("Pune"))
    session.add(segment)
    session.flush()
    done = service.create_campaign(session, name="Sale", rules=None, segment_id=segment.id,
                                   message_template="Hi {first_name}", channel="whatsapp",
                                   schedule_at=None, objective="sell", created_by=None,
                                   tags=["sale"])
    session.commit()
    copy = drafts.duplicate(session, done.id)
    session.commit()
    assert (copy.status, copy.name, copy.channel, copy.segment_id, copy.tags) == (
        "draft", "Copy of Sale", "whatsapp", segment.id, ["sale"])
    assert copy.message_template == "Hi {first_name}" and copy.audience_size == 0
    drafts.delete_draft(session, copy.id)
    session.commit()
    assert session.get(Campaign, copy.id) is None
    with pytest.raises(CampaignError):
        drafts.delete_draft(session, done.id)
    assert audit.CAMPAIGN_DRAFT_DELETED in _actions(session)
    assert audit.CAMPAIGN_DUPLICATED in _actions(session)


def test_duplicate_keeps_the_ab_test_and_holdout_but_not_the_winner(
        session: Session, engine: sa.Engine, no_enqueue: None) -> None:
    add_customers(engine, 4)
    ab = service.create_campaign(
        session, name="AB", rules=city_rules("Pune"), segment_id=None, message_template="",
        channel="sms", schedule_at=None, objective=None, created_by=None, holdout_percent=10,
        variants=[{"message": "A {first_name}"}, {"message": "B {first_name}"}],
        ab_settings={"test_percent": 20, "test_hours": 6, "metric": "delivery"})
    session.commit()
    copy = drafts.duplicate(session, ab.id)
    session.commit()
    assert [v["message"] for v in copy.variants] == ["A {first_name}", "B {first_name}"]
    assert copy.ab_test == {"test_percent": 20, "test_hours": 6, "metric": "delivery"}
    assert copy.holdout_percent == 10 and copy.winner is None


def test_the_draft_routes_call_the_same_use_cases(api, make_key, app_settings: sa.Engine,
                                                  no_enqueue: None) -> None:
    add_customers(app_settings, 3)
    h = make_key("campaigns", "read")
    r = api.post("/api/v1/campaigns/drafts", headers=h,
                 json={"rules": city_rules("Pune"), "step": 1})
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["status"] == "draft" and draft["audience_size"] == 0
    cid = draft["id"]
    assert api.get("/api/v1/campaigns?status=draft", headers=h).json()["total"] == 1

    r = api.patch(f"/api/v1/campaigns/{cid}", headers=h, json={"channel": "fax"})
    assert r.status_code == 422
    # Rules and a segment in one request: refused, naming both (as on create).
    both = {"rules": city_rules("Pune"), "segment_id": 1}
    for r in (api.post("/api/v1/campaigns/drafts", headers=h, json=both),
              api.patch(f"/api/v1/campaigns/{cid}", headers=h, json=both)):
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"] == {"field": "segment_id"}
        assert "rules" in r.json()["error"]["message"]
    r = api.post(f"/api/v1/campaigns/{cid}/launch", headers=h, json={})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "name"
    r = api.patch(f"/api/v1/campaigns/{cid}", headers=h,
                  json={"name": "API draft", "message": "Hi {first_name}"})
    assert r.status_code == 200 and r.json()["name"] == "API draft"
    later = (utcnow() + timedelta(days=1)).isoformat() + "Z"
    r = api.post(f"/api/v1/campaigns/{cid}/launch", headers=h, json={"schedule_at": later})
    assert r.status_code == 200 and r.json()["status"] == "scheduled", r.text
    sooner = (utcnow() + timedelta(hours=2)).isoformat() + "Z"
    r = api.post(f"/api/v1/campaigns/{cid}/reschedule", headers=h,
                 json={"schedule_at": sooner})
    assert r.status_code == 200, r.text
    # A status conflict is the same answer on every campaign route: 409 `conflict`.
    refused = api.delete(f"/api/v1/campaigns/{cid}", headers=h)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"
    assert refused.json()["error"]["details"]["field"] == "status"
    r = api.post(f"/api/v1/campaigns/{cid}/send-now", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "sending"
    assert r.json()["audience_size"] == 3
    again = api.post(f"/api/v1/campaigns/{cid}/send-now", headers=h)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    edit = api.patch(f"/api/v1/campaigns/{cid}", headers=h, json={"name": "Too late"})
    assert edit.status_code == 409 and edit.json()["error"]["code"] == "conflict"

    r = api.post(f"/api/v1/campaigns/{cid}/duplicate", headers=h)
    assert r.status_code == 201 and r.json()["name"] == "Copy of API draft"
    copy = r.json()["id"]
    assert api.delete(f"/api/v1/campaigns/{copy}", headers=h).status_code == 204
    assert api.get(f"/api/v1/campaigns/{copy}", headers=h).status_code == 404
    assert api.delete("/api/v1/campaigns/999999", headers=h).status_code == 404
    reader = make_key("read")
    assert api.post("/api/v1/campaigns/drafts", headers=reader, json={}).status_code == 403


def test_email_subject_preheader_and_sender_travel_with_the_campaign(
        api, make_key, app_settings: sa.Engine, no_enqueue: None) -> None:
    add_customers(app_settings, 2)
    h = make_key("campaigns", "read")
    body = {"name": "Mail", "rules": city_rules("Pune"), "channel": "email",
            "message": "Hi {first_name}", "subject": "{first_name|Friend}, 20% off",
            "preheader": "For {order_count:order|orders}", "sender_name": "Brand Team",
            "schedule_at": (utcnow() + timedelta(days=1)).isoformat() + "Z"}
    r = api.post("/api/v1/campaigns", headers=h, json=body)
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["subject"], got["preheader"], got["sender_name"]) == (
        "{first_name|Friend}, 20% off", "For {order_count:order|orders}", "Brand Team")
    bad = api.post("/api/v1/campaigns", headers=h, json={**body, "subject": "Hi {nmae}"})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "email_subject"
    copy = api.post(f"/api/v1/campaigns/{got['id']}/duplicate", headers=h).json()
    assert copy["subject"] == got["subject"] and copy["sender_name"] == "Brand Team"


def test_a_draft_launched_from_the_wizard_keeps_its_holdout(session: Session, engine: sa.Engine,
                                                           no_enqueue: None) -> None:
    add_customers(engine, 40)
    draft = drafts.create_draft(session, rules=city_rules("Pune"))
    session.commit()
    with pytest.raises(CampaignError) as bad:
        drafts.update_draft(session, draft.id, holdout_percent=80)
    assert bad.value.field == "holdout_percent"
    session.rollback()
    drafts.update_draft(session, draft.id, name="Pune holdout", message_template="Hi {city}",
                        holdout_percent=50)
    launched = drafts.launch_draft(session, draft.id)
    session.commit()
    assert launched.holdout_percent == 50
    held = session.exec(select(sa.func.count()).select_from(CommunicationLog).where(
        CommunicationLog.campaign_id == draft.id, CommunicationLog.status == "holdout")).one()
    assert 0 < held < 40  # a hash-chosen share of the 40 is kept back, never all or none


def test_a_draft_names_one_audience_whichever_was_set_last(api, make_key,
                                                           app_settings: sa.Engine,
                                                           no_enqueue: None) -> None:
    """A fresh tester PATCHed rules onto a draft made from segment 1: the launch sent to
    the new rules (11 people) while the campaign still said "Big spenders"."""
    add_customers(app_settings, 3)
    h = make_key("campaigns", "read")
    seg = api.post("/api/v1/segments", headers=h, json={
        "name": "Big spenders", "rules": city_rules("Pune")})
    assert seg.status_code == 201, seg.text
    sid = seg.json()["id"]
    cid = api.post("/api/v1/campaigns/drafts", headers=h,
                   json={"segment_id": sid, "name": "D", "message": "Hi"}).json()["id"]
    r = api.patch(f"/api/v1/campaigns/{cid}", headers=h, json={"rules": city_rules("Goa")})
    assert r.status_code == 200, r.text
    assert r.json()["segment_id"] is None and "Goa" in str(r.json()["rules"])
    r = api.patch(f"/api/v1/campaigns/{cid}", headers=h, json={"segment_id": sid})
    assert r.json()["segment_id"] == sid and "Goa" not in str(r.json()["rules"])
    launched = api.post(f"/api/v1/campaigns/{cid}/launch", headers=h, json={}).json()
    assert launched["segment_id"] == sid and launched["audience_size"] == 3

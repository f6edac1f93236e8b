"""Saving a campaign's audience as a segment in the launch's own transaction
(create_campaign / launch_draft `save_audience_as`), on SQLite, PostgreSQL and MariaDB,
and over HTTP: the segment holds the rules, the campaign points at it, and a refused
launch leaves no segment behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mini_crm.core.campaigns import drafts, service
from mini_crm.core.campaigns.errors import CampaignError
from mini_crm.core.segments import service as segment_service
from mini_crm.models import Campaign, Segment, utcnow
from tests.integration.campaign_helpers import add_customers, city_rules


@pytest.fixture
def no_enqueue(monkeypatch: pytest.MonkeyPatch) -> None:
    # Launch fills the log in the database; delivery itself is not under test here.
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a, **k: None)


def _create(session: Session, **changes: object) -> Campaign:
    args: dict = {"name": "Pune hello", "rules": city_rules("Pune"), "segment_id": None,
                  "message_template": "Hi {first_name}", "channel": "sms",
                  "schedule_at": None, "objective": None, "created_by": None,
                  "save_audience_as": "Pune buyers"}
    args.update(changes)
    return service.create_campaign(session, **args)


def _segments(session: Session) -> list[Segment]:
    session.expire_all()
    return list(session.exec(select(Segment).order_by(Segment.id)).all())


def test_create_campaign_saves_the_audience_in_the_same_transaction(
        session: Session, engine: sa.Engine, no_enqueue: None) -> None:
    add_customers(engine, 3)
    with pytest.raises(CampaignError) as refused:  # the campaign is refused after the
        _create(session, message_template="Hi {nmae}")  # segment was flushed
    assert refused.value.field == "message"
    session.rollback()
    assert _segments(session) == []  # one transaction: nothing left behind

    campaign = _create(session)
    session.commit()
    [segment] = _segments(session)
    assert segment.name == "Pune buyers" and segment.rules == city_rules("Pune")
    campaign = session.get(Campaign, campaign.id)
    assert campaign.segment_id == segment.id and campaign.rules == city_rules("Pune")
    assert campaign.status == "sending" and campaign.audience_size == 3

    # Without the option nothing is saved (behaviour unchanged).
    _create(session, name="no segment", save_audience_as=None)
    session.commit()
    assert len(_segments(session)) == 1


@pytest.mark.parametrize("changes, field", [
    ({"save_audience_as": "  pune BUYERS "}, "save_audience_as"),  # used (any case)
    ({"save_audience_as": "   "}, "save_audience_as"),
    ({"save_audience_as": "x" * 201}, "save_audience_as"),
    ({"rules": None, "segment_id": -1}, "save_audience_as"),  # a saved segment already
    ({"rules": None}, "rules"),
    ({"rules": {"combinator": "and", "rules": [{"field": "nope", "operator": "=",
                                                 "value": 1}]}}, "rules"),
])
def test_a_bad_or_used_segment_name_is_refused_with_its_field(
        session: Session, no_enqueue: None, changes: dict, field: str) -> None:
    existing = segment_service.save_segment(session, name="Pune buyers",
                                            rules=city_rules("Pune"))
    session.commit()
    if changes.get("segment_id") == -1:
        changes = {**changes, "segment_id": existing.id}
    with pytest.raises(CampaignError) as refused:
        _create(session, **changes)
    assert refused.value.field == field and refused.value.message
    if "BUYERS" in str(changes.get("save_audience_as")):  # names the stored segment
        assert "“Pune buyers” already exists" in refused.value.message
    session.rollback()
    assert [s.id for s in _segments(session)] == [existing.id]
    assert session.exec(select(Campaign)).all() == []


def test_launch_draft_saves_the_audience_and_a_refused_launch_leaves_none(
        session: Session, engine: sa.Engine, no_enqueue: None) -> None:
    add_customers(engine, 4)
    draft = drafts.create_draft(session, rules=city_rules("Pune"), name="Pune draft",
                                message_template="Hi {nope}")
    session.commit()
    with pytest.raises(CampaignError) as refused:
        drafts.launch_draft(session, draft.id, save_audience_as="Draft buyers")
    assert refused.value.field == "message"
    session.rollback()
    assert _segments(session) == []

    drafts.update_draft(session, draft.id, message_template="Hi {city}")
    launched = drafts.launch_draft(session, draft.id, save_audience_as="Draft buyers",
                                   schedule_at=utcnow() + timedelta(days=1))
    session.commit()
    [segment] = _segments(session)
    assert segment.name == "Draft buyers" and segment.rules == city_rules("Pune")
    assert launched.segment_id == segment.id and launched.status == "scheduled"

    other = drafts.create_draft(session, segment_id=segment.id, name="By segment",
                                message_template="Hi")
    session.commit()
    with pytest.raises(CampaignError) as twice:  # already a saved segment: nothing to save
        drafts.launch_draft(session, other.id, save_audience_as="Again")
    assert twice.value.field == "save_audience_as"


def test_the_api_takes_save_audience_as(api, make_key, app_settings: sa.Engine,
                                        no_enqueue: None) -> None:
    add_customers(app_settings, 2)
    h = make_key("campaigns", "read")
    body = {"name": "API Pune", "rules": city_rules("Pune"), "message": "Hi {nmae}",
            "save_audience_as": "API Pune buyers"}
    r = api.post("/api/v1/campaigns", headers=h, json=body)
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "message"
    with Session(app_settings) as s:
        assert s.exec(select(Segment)).all() == []  # the refused POST saved nothing

    r = api.post("/api/v1/campaigns", headers=h, json={**body, "message": "Hi {city}"})
    assert r.status_code == 201, r.text
    with Session(app_settings) as s:
        [segment] = s.exec(select(Segment)).all()
        assert segment.name == "API Pune buyers" and segment.rules == city_rules("Pune")
    assert r.json()["segment_id"] == segment.id

    r = api.post("/api/v1/campaigns", headers=h, json={**body, "message": "Hi"})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["field"] == "save_audience_as"  # name is used

    draft = api.post("/api/v1/campaigns/drafts", headers=h, json={
        "rules": city_rules("Pune"), "name": "API draft", "message": "Hi"}).json()
    r = api.post(f"/api/v1/campaigns/{draft['id']}/launch", headers=h,
                 json={"save_audience_as": ""})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["field"] == "save_audience_as"
    r = api.post(f"/api/v1/campaigns/{draft['id']}/launch", headers=h,
                 json={"save_audience_as": "Draft via API"})
    assert r.status_code == 200 and r.json()["status"] == "sending", r.text
    with Session(app_settings) as s:
        saved = s.exec(select(Segment).where(Segment.name == "Draft via API")).one()
    assert r.json()["segment_id"] == saved.id


def test_editing_a_scheduled_campaign_can_save_its_audience(
        session: Session, engine: sa.Engine, no_enqueue: None) -> None:
    """The wizard's "Save changes" on a scheduled campaign (update_draft)."""
    add_customers(engine, 2)
    draft = drafts.create_draft(session, rules=city_rules("Pune"), name="Later",
                                message_template="Hi {city}")
    drafts.launch_draft(session, draft.id, schedule_at=utcnow() + timedelta(days=1))
    session.commit()
    with pytest.raises(CampaignError) as refused:  # a time in the past: refused, rolled back
        drafts.update_draft(session, draft.id, save_audience_as="Later buyers",
                            scheduled_at=utcnow() - timedelta(hours=1))
    assert refused.value.field == "schedule_at"
    session.rollback()
    assert _segments(session) == []

    edited = drafts.update_draft(session, draft.id, save_audience_as="Later buyers",
                                 name="Later, edited")
    session.commit()
    [segment] = _segments(session)
    assert edited.segment_id == segment.id and edited.status == "scheduled"
    assert segment.rules == city_rules("Pune")

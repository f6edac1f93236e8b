"""The reads page states used to run as SQL of their own, now core functions (issue 11:
nothing in mini_crm/state runs SQL), on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from sqlmodel import Session

from mini_crm.core.auth import users
from mini_crm.core.campaigns import drafts, reports
from mini_crm.models import Campaign, CampaignStatus, User, utcnow
from tests.integration.campaign_helpers import city_rules


def _campaign(session: Session, name: str, tags: list[str], status: str) -> Campaign:
    c = Campaign(name=name, rules=city_rules("Pune"), channel="sms",
                 message_template="Hi {first_name}", status=status, tags=tags)
    session.add(c)
    session.commit()
    session.refresh(c)
    return c


def test_known_tags_are_the_recent_campaigns_tags_sorted_once(session: Session) -> None:
    _campaign(session, "old", ["zeta", "Festive"], CampaignStatus.COMPLETED)
    _campaign(session, "new", ["festive", "alpha", "Festive"], CampaignStatus.DRAFT)
    tags = reports.known_tags(session)
    # Case-insensitive order; "festive" and "Festive" are two tags (as stored).
    assert [t.lower() for t in tags] == ["alpha", "festive", "festive", "zeta"]
    assert set(tags) == {"alpha", "festive", "Festive", "zeta"}
    assert set(reports.known_tags(session, limit=1)) == {"alpha", "festive", "Festive"}


def test_campaign_name_and_the_editable_campaign(session: Session) -> None:
    draft = _campaign(session, "Diwali", [], CampaignStatus.DRAFT)
    done = _campaign(session, "Done", [], CampaignStatus.COMPLETED)
    assert reports.campaign_name(session, draft.id) == "Diwali"
    assert reports.campaign_name(session, done.id + 100) is None
    editable = drafts.get_editable(session, draft.id)
    assert editable is not None and editable.id == draft.id
    assert drafts.get_editable(session, done.id) is None
    assert drafts.get_editable(session, done.id + 100) is None


def test_emails_by_id(session: Session) -> None:
    a = User(email="asha@example.in", role="admin", last_login_at=utcnow())
    b = User(email="ravi@example.in", role="marketer")
    session.add_all([a, b])
    session.commit()
    assert users.emails_by_id(session, {a.id, b.id, b.id + 100}) == {
        a.id: "asha@example.in", b.id: "ravi@example.in"}
    assert users.emails_by_id(session, set()) == {}

"""Team administration and the audit trail in core/auth, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from mini_crm.core import apikeys
from mini_crm.core.auth import audit, sessions, users
from mini_crm.models import AuditEvent, User, utcnow

DOMAINS = "brand.in"


def _member(session: Session, email: str, role: str = "marketer") -> User:
    """Someone who has signed in (as the OIDC callback would leave them)."""
    user = User(email=email, role=role, last_login_at=utcnow(), name=email.split("@")[0])
    session.add(user)
    session.flush()
    return user


def _as(user: User) -> audit.Actor:
    return audit.Actor(user_id=user.id, label=user.email)


def _actions(session: Session) -> list[str]:
    return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]


def test_invite_validates_records_and_lists(session: Session) -> None:
    admin = _member(session, "admin@brand.in", "admin")
    with pytest.raises(users.TeamError, match="not a valid email"):
        users.invite_member(session, "not-an-address", "viewer", actor=_as(admin))
    for bad in ("a@b", "a@@brand.in", "a b@brand.in", "a@brand..in", "@brand.in"):
        with pytest.raises(users.TeamError):
            users.invite_member(session, bad, "viewer", actor=_as(admin))
    with pytest.raises(users.TeamError, match="role"):
        users.invite_member(session, "x@brand.in", "owner", actor=_as(admin))

    inside = users.invite_member(session, " Viewer@Brand.in ", "viewer", actor=_as(admin),
                                 domains_setting=DOMAINS)
    outside = users.invite_member(session, "guest@partner.org", "marketer", actor=_as(admin),
                                  domains_setting=DOMAINS)
    session.commit()
    assert inside.user.email == "viewer@brand.in" and inside.domain_allowed
    assert not outside.domain_allowed
    assert [u.email for u in users.list_invites(session)] == ["guest@partner.org",
                                                              "viewer@brand.in"]
    assert [u.email for u in users.list_users(session)] == ["admin@brand.in"]

    # Re-inviting a pending address changes its role; a member cannot be "invited".
    again = users.invite_member(session, "viewer@brand.in", "marketer", actor=_as(admin))
    assert again.user.role == "marketer"
    with pytest.raises(users.TeamError, match="already has an account"):
        users.invite_member(session, "admin@brand.in", "viewer", actor=_as(admin))
    session.commit()

    events = session.exec(select(AuditEvent).where(AuditEvent.action == audit.USER_INVITED)
                          .order_by(AuditEvent.id)).all()
    assert [(e.target, e.details["role"], e.actor_user_id) for e in events] == [
        ("viewer@brand.in", "viewer", admin.id), ("guest@partner.org", "marketer", admin.id),
        ("viewer@brand.in", "marketer", admin.id)]


def test_invited_address_signs_in_with_its_role_and_leaves_the_invite_list(
        session: Session) -> None:
    admin = _member(session, "admin@brand.in", "admin")
    users.invite_member(session, "guest@partner.org", "viewer", actor=_as(admin))
    session.commit()
    user = users.sign_in(session, email="guest@partner.org", subject="s1", name="Guest",
                         picture=None, domains_setting=DOMAINS)
    session.commit()
    assert user.role == "viewer"
    assert users.list_invites(session) == []
    assert "guest@partner.org" in [u.email for u in users.list_users(session)]


def test_revoked_invite_no_longer_admits(session: Session) -> None:
    admin = _member(session, "admin@brand.in", "admin")
    invited = users.invite_member(session, "guest@partner.org", "viewer", actor=_as(admin)).user
    session.commit()
    assert users.revoke_invite(session, invited.id, actor=_as(admin)) == "guest@partner.org"
    session.commit()
    with pytest.raises(users.AccessDenied, match="not invited"):
        users.sign_in(session, email="guest@partner.org", subject="s", name=None, picture=None,
                      domains_setting=DOMAINS)
    # An account that has signed in is disabled, not "uninvited".
    with pytest.raises(users.TeamError, match="already signed in"):
        users.revoke_invite(session, admin.id, actor=_as(admin))
    assert _actions(session) == [audit.USER_INVITED, audit.INVITE_REVOKED]


def test_role_changes_are_audited_and_the_last_admin_stays(session: Session) -> None:
    admin = _member(session, "admin@brand.in", "admin")
    marketer = _member(session, "m@brand.in")
    session.commit()

    with pytest.raises(users.TeamError, match="last admin"):
        users.set_role(session, admin.id, "viewer", actor=_as(admin))
    session.rollback()
    assert session.get(User, admin.id).role == "admin"

    users.set_role(session, marketer.id, "admin", actor=_as(admin))
    session.commit()
    # Now there are two admins, so the first may step down.
    users.set_role(session, admin.id, "viewer", actor=_as(admin))
    session.commit()
    with pytest.raises(users.TeamError, match="last admin"):
        users.set_role(session, marketer.id, "marketer", actor=_as(marketer))
    session.rollback()
    with pytest.raises(users.TeamError, match="role"):
        users.set_role(session, marketer.id, "root", actor=_as(marketer))
    # Setting the same role again is a no-op, not an audit entry.
    users.set_role(session, marketer.id, "admin", actor=_as(marketer))
    session.commit()

    changes = session.exec(select(AuditEvent).where(AuditEvent.action == audit.ROLE_CHANGED)
                           .order_by(AuditEvent.id)).all()
    assert [(e.target, e.details) for e in changes] == [
        ("m@brand.in", {"from": "marketer", "to": "admin"}),
        ("admin@brand.in", {"from": "admin", "to": "viewer"})]


def test_disabling_revokes_sessions_and_refuses_sign_in(session: Session) -> None:
    admin = _member(session, "admin@brand.in", "admin")
    victim = _member(session, "m@brand.in")
    tokens = [sessions.create(session, victim, absolute=timedelta(hours=1)) for _ in range(2)]
    session.commit()
    idle = timedelta(hours=1)
    assert all(sessions.lookup(session, t, idle=idle) for t in tokens)

    users.disable_user(session, victim.id, actor=_as(admin))
    session.commit()
    assert all(sessions.lookup(session, t, idle=idle) is None for t in tokens)
    with pytest.raises(users.AccessDenied, match="disabled"):
        users.sign_in(session, email="m@brand.in", subject="s", name=None, picture=None,
                      domains_setting=DOMAINS)
    session.rollback()
    event = session.exec(select(AuditEvent)
                         .where(AuditEvent.action == audit.USER_DISABLED)).one()
    assert event.target == "m@brand.in" and event.details == {"sessions_revoked": 2}

    users.enable_user(session, victim.id, actor=_as(admin))
    session.commit()
    assert users.sign_in(session, email="m@brand.in", subject="s", name=None, picture=None,
                         domains_setting=DOMAINS).id == victim.id
    # Old sessions stay revoked: enabling does not resurrect stolen cookies.
    assert all(sessions.lookup(session, t, idle=idle) is None for t in tokens)
    assert _actions(session)[-2:] == [audit.USER_DISABLED, audit.USER_ENABLED]


def test_guard_rails_on_disabling(session: Session) -> None:
    admin = _member(session, "admin@brand.in", "admin")
    other = _member(session, "other@brand.in", "admin")
    session.commit()
    with pytest.raises(users.TeamError, match="your own account"):
        users.disable_user(session, admin.id, actor=_as(admin))
    users.disable_user(session, other.id, actor=_as(admin))
    session.commit()
    # The remaining enabled admin is the last one, whoever asks (e.g. a script).
    with pytest.raises(users.TeamError, match="last admin"):
        users.disable_user(session, admin.id, actor=audit.SYSTEM)
    session.rollback()
    # A disabled admin does not count as a second admin for demotion either.
    with pytest.raises(users.TeamError, match="last admin"):
        users.set_role(session, admin.id, "marketer", actor=audit.SYSTEM)
    session.rollback()
    assert not session.get(User, admin.id).disabled
    with pytest.raises(users.TeamError, match="no longer exists"):
        users.disable_user(session, 10_000_000, actor=_as(admin))


def test_api_keys_are_audited_in_core(session: Session) -> None:
    admin = _member(session, "admin@brand.in", "admin")
    key = apikeys.create_key(session, "Shop backend", ["ingest"], created_by=admin.id,
                             actor=_as(admin))
    cli_key = apikeys.create_key(session, "ETL", ["read"], actor=audit.Actor(label="cli"))
    assert apikeys.revoke_key(session, key.id, actor=_as(admin))
    assert not apikeys.revoke_key(session, key.id, actor=_as(admin))  # no second entry
    session.commit()
    events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_label, e.details.get("key_id")) for e in events] == [
        (audit.APIKEY_CREATED, "admin@brand.in", key.id),
        (audit.APIKEY_CREATED, "cli", cli_key.id),
        (audit.APIKEY_REVOKED, "admin@brand.in", key.id)]
    assert events[0].target.startswith("Shop backend (mc_")
    assert key.secret not in str([e.target for e in events] + [e.details for e in events])


def test_audit_listing_filters_and_paginates_newest_first(session: Session) -> None:
    base = utcnow() - timedelta(days=1)
    for i in range(23):
        session.add(AuditEvent(action="signin" if i % 3 else "signout", at=base
                               + timedelta(minutes=i), actor_label=f"u{i}@brand.in"))
    # Two events in the same instant: the id breaks the tie, still newest first.
    session.add(AuditEvent(action="signin", at=base + timedelta(hours=2), actor_label="a"))
    session.add(AuditEvent(action="signin", at=base + timedelta(hours=2), actor_label="b"))
    session.commit()

    first = audit.list_events(session, page=1, per_page=10)
    assert first.total == 25 and first.pages == 3 and first.page == 1
    assert [e.actor_label for e in first.events[:3]] == ["b", "a", "u22@brand.in"]
    last = audit.list_events(session, page=3, per_page=10)
    assert len(last.events) == 5 and last.events[-1].actor_label == "u0@brand.in"
    seen = [e.id for p in (1, 2, 3) for e in audit.list_events(session, page=p,
                                                                 per_page=10).events]
    assert len(seen) == len(set(seen)) == 25

    outs = audit.list_events(session, action="signout", per_page=100)
    assert outs.total == 8 and {e.action for e in outs.events} == {"signout"}
    assert audit.list_events(session, page=99, per_page=10).page == 3  # clamped
    assert audit.list_events(session, action="nothing-like-this").total == 0
    assert audit.list_events(session, action="nothing-like-this").pages == 1

    session.add(AuditEvent(action="custom_thing"))
    session.commit()
    actions = audit.known_actions(session)
    assert actions[0] == audit.SIGNIN and actions[-1] == "custom_thing"
    assert audit.label("custom_thing") == "Custom thing"
    assert audit.label(audit.APIKEY_CREATED) == "API key created"


def test_user_input_in_filters_is_data_not_sql(session: Session) -> None:
    session.add(AuditEvent(action="signin"))
    session.commit()
    assert audit.list_events(session, action="signin' OR '1'='1").total == 0
    with pytest.raises(users.TeamError):
        users.invite_member(session, "x@brand.in'; DROP TABLE user; --", "viewer",
                            actor=audit.SYSTEM)

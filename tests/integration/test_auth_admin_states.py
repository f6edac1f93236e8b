"""The Team & audit and Settings states refuse non-admins on the server.

The handlers are called directly, as the websocket would, with the session cookie
in the connection's headers: what the UI disables is irrelevant here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from reflex.istate.data import RouterData
from sqlmodel import Session, select

import mini_crm.mini_crm  # noqa: F401 - registers every state, as in the running app
from mini_crm.core.auth import audit, sessions
from mini_crm.models import ApiKey, AuditEvent, User, utcnow
from mini_crm.state import admin as admin_state
from mini_crm.state.admin import TeamState
from mini_crm.state.settings import SettingsState


def _person(engine: sa.Engine, email: str, role: str) -> tuple[int, str]:
    with Session(engine) as s:
        user = User(email=email, role=role, last_login_at=utcnow())
        s.add(user)
        s.flush()
        token = sessions.create(s, user, absolute=timedelta(hours=1))
        s.commit()
        return user.id, token


def _connected(cls: type, token: str | None):  # noqa: ANN202 - a Reflex state instance
    state = cls(_reflex_internal_init=True)
    cookie = f"theme=dark; {sessions.COOKIE_NAME}={token}" if token else ""
    state.router = RouterData.from_router_data({"headers": {"cookie": cookie}})
    return state


@pytest.fixture
def people(app_settings: sa.Engine) -> dict[str, tuple[int, str]]:
    return {role: _person(app_settings, f"{role}@brand.in", role)
            for role in ("admin", "marketer", "viewer")}


def _count(engine: sa.Engine, model: type) -> int:
    with Session(engine) as s:
        return len(s.exec(select(model)).all())


@pytest.mark.parametrize("who", ["marketer", "viewer", "anonymous", "revoked"])
def test_team_handlers_refuse_everyone_but_admins(app_settings: sa.Engine, people, who: str
                                                  ) -> None:
    token = None if who == "anonymous" else people.get(who, people["admin"])[1]
    if who == "revoked":  # an admin's cookie after sign-out is worth nothing
        with Session(app_settings) as s:
            sessions.revoke(s, token)
            s.commit()
    admin_id = people["admin"][0]
    before = _count(app_settings, AuditEvent)

    state = _connected(TeamState, token)
    state.invite_email, state.invite_role = "new@brand.in", "admin"
    state.invite()
    state.change_role(str(people["viewer"][0]), "admin")
    state.disable(str(admin_id))
    state.enable(str(admin_id))
    state.revoke_invite(str(admin_id))

    with Session(app_settings) as s:
        assert s.exec(select(User).where(User.email == "new@brand.in")).first() is None
        assert s.get(User, people["viewer"][0]).role == "viewer"
        assert not s.get(User, admin_id).disabled
    assert _count(app_settings, AuditEvent) == before
    assert state.members == [] and state.events == []

    keys = _connected(SettingsState, token)
    keys.new_name, keys.new_scopes = "sneaky", ["ingest"]
    keys.create_key()
    assert _count(app_settings, ApiKey) == 0 and keys.new_secret == ""
    if who in ("marketer", "viewer"):
        assert keys.error == "Only admins can create or revoke API keys."


def test_admin_invites_changes_roles_and_disables_through_the_state(app_settings: sa.Engine,
                                                                    people) -> None:
    admin_id, token = people["admin"]
    state = _connected(TeamState, token)

    state.invite_email, state.invite_role = "not an email", "viewer"
    state.invite()
    assert "not a valid email" in state.invite_error

    state.set_invite_email("guest@partner.org")
    state.invite()
    assert state.invite_error == "" and state.invite_email == ""
    assert "guest@partner.org as viewer" in state.notice and "not in the allowed" in state.notice

    state.change_role(str(people["viewer"][0]), "marketer")
    assert state.notice_ok and "is now marketer" in state.notice
    state.change_role(str(admin_id), "viewer")  # the last admin
    assert not state.notice_ok and "last admin" in state.notice
    state.disable(str(admin_id))
    assert not state.notice_ok and "your own account" in state.notice
    state.disable(str(people["marketer"][0]))
    assert state.notice_ok

    # The marketer's session ended with the account.
    marketer = _connected(TeamState, people["marketer"][1])
    assert not marketer.ensure_signed_in()

    with Session(app_settings) as s:
        trail = s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_user_id, e.actor_label) for e in trail] == [
        (audit.USER_INVITED, admin_id, "admin@brand.in"),
        (audit.ROLE_CHANGED, admin_id, "admin@brand.in"),
        (audit.USER_DISABLED, admin_id, "admin@brand.in")]

    # What the page shows, through the same helpers the background load uses.
    team = admin_state._team("admin@brand.in")
    assert [m["email"] for m in team["members"]] == ["admin@brand.in", "marketer@brand.in",
                                                     "viewer@brand.in"]
    assert team["members"][0]["is_me"] == "yes"
    assert [m["status"] for m in team["members"]] == ["active", "disabled", "active"]
    assert [i["email"] for i in team["invites"]] == ["guest@partner.org"]

    trail_page = admin_state._audit_rows(admin_state.ALL_ACTIONS, 1)
    assert [r["label"] for r in trail_page["rows"]] == ["User disabled", "Role changed",
                                                         "User invited"]
    assert trail_page["rows"][1]["details"] == "viewer → marketer"
    assert trail_page["range"] == "1–3 of 3"
    only = admin_state._audit_rows(audit.ROLE_CHANGED, 1)
    assert [r["action"] for r in only["rows"]] == [audit.ROLE_CHANGED]


def test_admin_creates_and_revokes_keys_with_an_audit_trail(app_settings: sa.Engine,
                                                            people) -> None:
    admin_id, token = people["admin"]
    keys = _connected(SettingsState, token)
    keys.new_name, keys.new_scopes = "Shop backend", ["ingest", "read"]
    keys.create_key()
    assert keys.new_secret.startswith("mc_") and keys.error == ""
    with Session(app_settings) as s:
        key = s.exec(select(ApiKey)).one()
        assert key.created_by == admin_id
    keys.revoke(str(key.id))
    with Session(app_settings) as s:
        assert s.get(ApiKey, key.id).revoked_at is not None
        trail = s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_label) for e in trail] == [
        (audit.APIKEY_CREATED, "admin@brand.in"), (audit.APIKEY_REVOKED, "admin@brand.in")]


def test_cli_key_creation_is_audited(app_settings: sa.Engine) -> None:
    from typer.testing import CliRunner

    from mini_crm.cli import app as cli

    result = CliRunner().invoke(cli, ["apikey", "create", "--name", "etl", "--scopes", "read"])
    assert result.exit_code == 0, result.output
    with Session(app_settings) as s:
        event = s.exec(select(AuditEvent)).one()
        key = s.exec(select(ApiKey)).one()
    assert (event.action, event.actor_label, event.actor_user_id) == (
        audit.APIKEY_CREATED, "cli", None)
    assert event.details == {"key_id": key.id, "scopes": ["read"]}
    assert result.output.strip().splitlines()[-1] not in str(event.details) + event.target

"""The OIDC sign-in flow against a real local provider (oidc-provider-mock over HTTP)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from oidc_provider_mock import run_server_in_thread
from sqlmodel import Session, select

from mini_crm.api import auth as auth_api
from mini_crm.api.app import create_api
from mini_crm.core.auth import sessions, users
from mini_crm.models import AuditEvent, User, utcnow
from mini_crm.settings import get_settings


@pytest.fixture(scope="module")
def provider_port() -> Iterator[int]:
    with run_server_in_thread(port=0, require_nonce=True) as server:
        yield server.server_port


@pytest.fixture
def app(app_settings: sa.Engine, provider_port: int, monkeypatch: pytest.MonkeyPatch
        ) -> TestClient:
    monkeypatch.setenv("OIDC_CLIENT_ID", "")
    monkeypatch.setenv("DEV_OIDC_PORT", str(provider_port))
    monkeypatch.setenv("ALLOWED_EMAIL_DOMAINS", "brand.in")
    get_settings.cache_clear()
    auth_api._oauth.cache_clear()
    return TestClient(create_api(), base_url="http://testserver", follow_redirects=False)


def sign_in(app: TestClient, email: str, next_path: str = "/segments") -> httpx.Response:
    start = app.get("/auth/login", params={"next": next_path})
    assert start.status_code == 302
    authorize = start.headers["location"]
    query = parse_qs(urlparse(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["state"] and query["nonce"]
    consent = httpx.post(authorize, data={"sub": email}, follow_redirects=False)
    assert consent.status_code in (302, 303), consent.text
    back = urlparse(consent.headers["location"])
    return app.get(f"{back.path}?{back.query}")


def _user(engine: sa.Engine, email: str) -> User | None:
    with Session(engine) as s:
        return s.exec(select(User).where(User.email == email)).first()


def test_first_user_becomes_admin_and_gets_an_httponly_session(app: TestClient,
                                                                app_settings) -> None:
    done = sign_in(app, "founder@anywhere.com")
    assert done.status_code == 303 and done.headers["location"] == "/segments"
    cookie = done.headers["set-cookie"]
    assert "mc_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert _user(app_settings, "founder@anywhere.com").role == "admin"
    token = app.cookies.get(sessions.COOKIE_NAME)
    with Session(app_settings) as s:
        assert sessions.lookup(s, token, idle=timedelta(hours=1)).email == "founder@anywhere.com"

    # Sign in again: a new session, and the old one is revoked (rotation).
    again = sign_in(app, "founder@anywhere.com", "/")
    new_token = again.cookies.get(sessions.COOKIE_NAME) or app.cookies.get(sessions.COOKIE_NAME)
    assert new_token != token
    with Session(app_settings) as s:
        assert sessions.lookup(s, token, idle=timedelta(hours=1)) is None

    out = app.post("/auth/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    with Session(app_settings) as s:
        assert sessions.lookup(s, new_token, idle=timedelta(hours=1)) is None
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["signin", "signin", "signout"]


def test_allowed_domain_admitted_other_domains_refused(app: TestClient, app_settings) -> None:
    sign_in(app, "founder@anywhere.com")
    assert sign_in(app, "priya@brand.in").status_code == 303
    assert _user(app_settings, "priya@brand.in").role == "marketer"
    refused = sign_in(app, "mallory@evil.example")
    assert refused.status_code == 403 and "not invited" in refused.text
    assert _user(app_settings, "mallory@evil.example") is None
    with Session(app_settings) as s:
        users.invite(s, "guest@partner.org", role="viewer")
        s.commit()
    assert sign_in(app, "guest@partner.org").status_code == 303
    assert _user(app_settings, "guest@partner.org").role == "viewer"


def test_tampered_state_is_refused(app: TestClient, app_settings) -> None:
    start = app.get("/auth/login")
    authorize = start.headers["location"]
    consent = httpx.post(authorize, data={"sub": "founder@anywhere.com"}, follow_redirects=False)
    back = urlparse(consent.headers["location"])
    params = parse_qs(back.query)
    tampered = app.get(back.path, params={"code": params["code"][0], "state": "forged"})
    assert tampered.status_code == 400
    assert _user(app_settings, "founder@anywhere.com") is None


@pytest.mark.parametrize("target", ["//evil.com/x", "https://evil.com", "/\\evil.com",
                                    "javascript:alert(1)"])
def test_open_redirects_in_next_go_home(app: TestClient, target: str) -> None:
    assert sign_in(app, "founder@anywhere.com", target).headers["location"] == "/"


def test_sessions_expire_when_idle_or_old(session: Session) -> None:
    user = User(email="a@brand.in")
    session.add(user)
    session.flush()
    token = sessions.create(session, user, absolute=timedelta(hours=2))
    session.commit()
    now = utcnow()
    assert sessions.lookup(session, token, idle=timedelta(minutes=30), now=now) is not None
    assert sessions.lookup(session, token, idle=timedelta(minutes=30),
                           now=now + timedelta(minutes=31)) is None
    assert sessions.lookup(session, token, idle=timedelta(days=1),
                           now=now + timedelta(hours=2, seconds=1)) is None
    assert sessions.lookup(session, "not-a-token", idle=timedelta(days=1)) is None


def test_roles() -> None:
    assert users.can_launch(User(email="m@x", role="marketer"))
    assert not users.can_launch(User(email="v@x", role="viewer"))
    assert users.can_manage(User(email="a@x", role="admin"))
    assert not users.can_manage(User(email="m@x", role="marketer"))


def test_unreachable_provider_answers_a_clear_503(app_settings: sa.Engine,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    monkeypatch.setenv("OIDC_CLIENT_ID", "")
    monkeypatch.setenv("DEV_OIDC_PORT", str(dead_port))
    get_settings.cache_clear()
    auth_api._oauth.cache_clear()
    client = TestClient(create_api(), base_url="http://testserver", follow_redirects=False)
    answer = client.get("/auth/login")
    assert answer.status_code == 503
    assert f"localhost:{dead_port} does not answer" in answer.text
    auth_api._oauth.cache_clear()

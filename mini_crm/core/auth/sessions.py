"""Server-side sessions behind an opaque cookie: stored hashed, with idle and
absolute expiry, revoked at sign-out. A new token is issued at every sign-in."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from mini_crm.models import User, UserSession, utcnow
from mini_crm.settings import get_settings

COOKIE_NAME = "mc_session"
TOUCH_EVERY = timedelta(minutes=1)  # avoid a write on every request


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(session: Session, user: User, *, absolute: timedelta, user_agent: str | None = None,
           ip: str | None = None) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(UserSession(token_hash=_hash(token), user_id=user.id, created_at=now,
                            last_seen_at=now, expires_at=now + absolute,
                            user_agent=(user_agent or "")[:500] or None, ip=ip))
    session.flush()
    return token


def lookup(session: Session, token: str | None, *, idle: timedelta,
           now: datetime | None = None) -> User | None:
    """The signed-in user for a cookie value, or None if unknown, expired, idle or revoked."""
    if not token:
        return None
    now = now or utcnow()
    row = session.exec(select(UserSession).where(UserSession.token_hash == _hash(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now \
            or row.last_seen_at + idle <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return user


def current_user(session: Session, token: str | None) -> User | None:
    """`lookup` with the configured idle timeout: who a request's cookie belongs to."""
    return lookup(session, token,
                  idle=timedelta(minutes=get_settings().session_idle_minutes))


def revoke(session: Session, token: str | None) -> bool:
    if not token:
        return False
    row = session.exec(select(UserSession).where(UserSession.token_hash == _hash(token))).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.add(row)
    return True


def safe_next(path: str | None) -> str:
    """Only same-site absolute paths: '/segments' yes; '//evil.com', 'https://…' no."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path \
            or any(ord(ch) < 32 for ch in path):
        return "/"
    return path


def revoke_all_for_user(session: Session, user_id: int) -> int:
    """End every live session of a user (a disabled account must stop working at once,
    not when its cookie expires). Returns how many were revoked."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow()))
    return int(result.rowcount or 0)

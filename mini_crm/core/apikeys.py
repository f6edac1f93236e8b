"""API keys: made once, stored as SHA-256, checked by hash, scoped.

Creating and revoking are audited here, in the same transaction as the change,
so every door (settings page, CLI, scripts) leaves the same trail.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from mini_crm.core import text_checks
from mini_crm.core.auth import audit
from mini_crm.models import ApiKey, utcnow

SCOPES = ("ingest", "campaigns", "ai", "read")
KEY_PREFIX = "mc_"


@dataclass(frozen=True)
class NewKey:
    id: int
    name: str
    scopes: list[str]
    secret: str  # shown once, never stored


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(text: str | list[str]) -> list[str]:
    scopes = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(SCOPES)}")
    if not scopes:
        raise ValueError(f"give at least one scope from {', '.join(SCOPES)}")
    return sorted(set(scopes), key=SCOPES.index)


def create_key(session: Session, name: str, scopes: list[str],
               created_by: int | None = None, *, actor: audit.Actor | None = None) -> NewKey:
    """A new key; `actor` (default: the creating user, else "system") goes in the audit trail."""
    name = name.strip()
    if not name:
        raise ValueError("an API key needs a name")
    text_checks.check_name(name, "an API key name")  # shown in Settings and the audit trail
    scopes = parse_scopes(scopes)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=secret[:10], key_hash=hash_key(secret), scopes=scopes,
                 created_by=created_by)
    session.add(key)
    session.flush()
    assert key.id is not None
    audit.record_by(session, actor or _default_actor(created_by), audit.APIKEY_CREATED,
                    target=f"{name} ({key.prefix}…)", details={"key_id": key.id,
                                                               "scopes": scopes})
    return NewKey(id=key.id, name=name, scopes=scopes, secret=secret)


def authenticate(session: Session, secret: str) -> ApiKey | None:
    """The live key for `secret`, with its last-used time touched; None if unknown or revoked."""
    key = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(secret))).first()
    if key is None or key.revoked_at is not None:
        return None
    key.last_used_at = utcnow()
    session.add(key)
    return key


def revoke_key(session: Session, key_id: int, *, actor: audit.Actor = audit.SYSTEM) -> bool:
    key = session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    session.add(key)
    audit.record_by(session, actor, audit.APIKEY_REVOKED, target=f"{key.name} ({key.prefix}…)",
                    details={"key_id": key.id})
    return True


def _default_actor(created_by: int | None) -> audit.Actor:
    return audit.Actor(user_id=created_by) if created_by is not None else audit.SYSTEM


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(ApiKey.created_at.desc())).all())

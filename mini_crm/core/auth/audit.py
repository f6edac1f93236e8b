"""The audit trail: sign-ins, sign-outs, keys, invites, launches."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from mini_crm.models import AuditEvent


def record(session: Session, action: str, *, actor_user_id: int | None = None,
           actor_label: str | None = None, target: str | None = None,
           details: dict[str, Any] | None = None) -> AuditEvent:
    event = AuditEvent(action=action, actor_user_id=actor_user_id, actor_label=actor_label,
                       target=target, details=details or {})
    session.add(event)
    session.flush()
    return event


def recent(session: Session, limit: int = 100, offset: int = 0) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).order_by(AuditEvent.at.desc(),
                                                         AuditEvent.id.desc())
                             .offset(offset).limit(limit)).all())
